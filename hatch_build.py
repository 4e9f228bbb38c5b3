"""Hatchling build hook: compile the Manifest.db MBFile reader with mypyc where a C compiler is.

``src/unmask/formats/mbfile.py`` is typed Python that runs interpreted everywhere; compiled with
mypyc it is about 20 times faster, which counts on a backup with hundreds of thousands of
Manifest.db rows. When a C compiler and the Python headers are present, this hook builds it as
the extension ``unmask.formats._mbfile_native``: another name, so that the source module stays
importable, and testable, as itself. Without them, or if anything about the build fails, the
hook says why (``pip install -v`` shows it) and the package installs interpreted, as it would
without the hook. ``HATCH_BUILD_NO_HOOKS=true`` skips it.

- A regular wheel carries the extension and gets a platform tag.
- An editable install (``pip install -e .``, what ``make setup`` does) imports from ``src/``, so
  the extension is written next to its source there (gitignored), replacing any earlier one.

The extension carries the SHA-256 of the source it was built from, and
``unmask.formats.plist`` uses it only while that matches ``mbfile.py``: an extension left
behind by an older checkout never decodes evidence.

hatch-mypyc was tried first: it compiles in place for editable installs too, but it fails the
whole install when no compiler is present, shadows each compiled module's source under the same
name, and renames ``pyproject.toml`` while it builds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src/unmask/formats/mbfile.py")
PACKAGE_DIR = Path("unmask/formats")
MODULE = "_mbfile_native"
# Compiling takes 10-30 s; a build hanging on a broken toolchain must not hang the install.
TIMEOUT_SECONDS = 600

_SETUP = """\
from setuptools import setup
from mypyc.build import mypycify

setup(name="unmask-mbfile-native", ext_modules=mypycify(["{path}"], opt_level="3", debug_level="0"))
"""

# Run in the build directory against the fresh extension: a build that imports but misbehaves
# is not installed.
_SMOKE_TEST = """\
import plistlib
from unmask.formats import _mbfile_native as m

objects = ["$null", {"$class": plistlib.UID(2), "Size": 7, "Birth": -1}, {"$classname": "MBFile"}]
archive = {"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": plistlib.UID(1)},
           "$objects": objects}
got = m.fields(plistlib.dumps(archive, fmt=plistlib.FMT_BINARY))
if got != (7, None, -1, None, None, None, None, None, None):
    raise SystemExit(f"decoded {got}")
try:
    m.fields(b"bplist00")
except ValueError:
    pass
else:
    raise SystemExit("accepted a truncated blob")
"""


class MypycBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compile ``mbfile.py`` into ``unmask.formats._mbfile_native`` when the toolchain allows."""

    PLUGIN_NAME = "custom"
    _temp: str | None = None

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Build the extension; add it to the wheel, or put it next to its source (editable)."""
        root = Path(self.root)
        if version == "editable":
            # Never leave an extension from an earlier build beside a source it may not match.
            for old in (root / "src" / PACKAGE_DIR).glob(f"{MODULE}*"):
                if old.suffix in (".so", ".pyd"):
                    old.unlink()
        reason = _missing_toolchain()
        if reason:
            self.app.display_warning(f"unmask: {reason}; the MBFile reader is installed interpreted")
            return
        self._temp = tempfile.mkdtemp(prefix="unmask-mypyc-")
        try:
            built = _compile(root / SOURCE, Path(self._temp))
        except Exception as exc:
            self.app.display_warning(
                f"unmask: compiling the MBFile reader failed, it is installed interpreted ({exc})"
            )
            return
        if version == "editable":
            for path in built:
                shutil.copy2(path, root / "src" / PACKAGE_DIR / path.name)
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None
        else:
            for path in built:
                build_data["force_include"][str(path)] = str(PACKAGE_DIR / path.name)
            build_data["pure_python"] = False
            build_data["infer_tag"] = True
        self.app.display_info(f"unmask: MBFile reader compiled with mypyc ({', '.join(p.name for p in built)})")

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the build directory once the wheel holds its copy."""
        if self._temp:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None


def _missing_toolchain() -> str | None:
    """Why the extension cannot be built here, or ``None`` if it can be tried."""
    include = sysconfig.get_paths().get("include")
    if not include or not Path(include, "Python.h").is_file():
        return "no Python headers (Debian: apt-get install python3-dev)"
    compiler = os.environ.get("CC") or sysconfig.get_config_var("CC")
    # Windows has no CC: setuptools finds MSVC itself, and a failure is reported like any other.
    if compiler and not shutil.which(shlex.split(compiler)[0]):
        return f"no C compiler ({compiler}; Debian: apt-get install gcc)"
    if importlib.util.find_spec("mypyc") is None or importlib.util.find_spec("setuptools") is None:
        return "mypyc or setuptools is missing from the build environment"
    return None


def _compile(source: Path, work: Path) -> list[Path]:
    """Compile ``source`` as ``unmask.formats._mbfile_native`` in ``work``; the built files."""
    text = source.read_bytes()
    package = work / PACKAGE_DIR
    package.mkdir(parents=True)
    (work / "unmask" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    digest = hashlib.sha256(text).hexdigest()
    (package / f"{MODULE}.py").write_bytes(
        text + f'\n\nSOURCE_SHA256: Final = "{digest}"  # added by hatch_build.py\n'.encode()
    )
    (work / "setup.py").write_text(_SETUP.format(path=f"{PACKAGE_DIR.as_posix()}/{MODULE}.py"))
    # The environment as it is: pip's isolated build environment reaches the child through it.
    # The working directory keeps mypy away from the project's configuration and cache.
    for command in (
        [sys.executable, "setup.py", "build_ext", "--inplace"],
        [sys.executable, "-c", _SMOKE_TEST],
    ):
        done = subprocess.run(
            command, cwd=work, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
        if done.returncode:
            last = " / ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise RuntimeError(last[-500:] or f"exit status {done.returncode}")
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    # mypyc builds a module inside a package as a small shim plus a __mypyc library: both go.
    built = sorted(package.glob(f"{MODULE}*{suffix}"))
    if not any(path.name == f"{MODULE}{suffix}" for path in built):
        raise RuntimeError(f"mypyc built no {MODULE}{suffix}")
    return built
