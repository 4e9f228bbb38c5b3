"""An AndroidQF acquisition: a folder, a zip (files at its root or under one folder), or an
age-encrypted ``<uuid>.zip.age``.

AndroidQF (mvt-project/androidqf, ``acquisition/acquisition.go`` and ``modules/*.go``) writes, per
acquisition: ``acquisition.json``, ``packages.json``, ``processes.json`` (its collector) or
``processes.txt`` (``ps -A``), ``getprop.txt``, ``settings_{system,secure,global}.txt``,
``services.txt``, ``dumpsys.txt``, ``files.json``, ``root_binaries.json``, ``mounts.json``,
``selinux.txt``, ``env.txt``, ``logcat.txt`` and ``logcat_old.txt``, ``logs/<device path>``,
``tmp/`` (the files of ``$TMPDIR``, ``/data/local/tmp``), and optionally ``bugreport.zip``,
``backup.ab`` and ``intrusion_logs/`` (Android 16 intrusion logging, pulled from
``/sdcard/Download/Intrusion Logging/``). With a ``key.txt`` holding an age public key it streams
everything into ``<uuid>.zip.age`` instead (``acquisition/encrypted_stream.go``).

Here the JSON files are the acquisition's own files (:meth:`open_host`), the text command outputs
are named sections (``getprop``, ``settings:secure``, ``ps``, ``dumpsys:<service>`` …), ``logs/``,
``tmp/`` and ``intrusion_logs/`` are device paths, and ``bugreport.zip`` and ``backup.ab`` are
nested acquisitions whose sections and device paths fill in what AndroidQF's own files lack (so
``dumpsys.txt`` is analysed when there is no ``bugreport.zip``, and the bugreport's dumpsys when
there is no ``dumpsys.txt``).

The age decryption uses ``pyrage`` (Rust ``age``, streaming): the zip is decrypted once into the
acquisition's private folder, within the temporary-disk budget, and read from there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping as MappingT
from datetime import datetime
from pathlib import Path
from typing import Any

from unmask import timeutil
from unmask.acquisition.android_common import AndroidTree, getprop_value, read_json
from unmask.acquisition.base import Section
from unmask.acquisition.options import OpenOptions
from unmask.acquisition.tree import Mapping, peek_names
from unmask.errors import AcquisitionError, ArtefactError

AGE_MAGIC = b"age-encryption.org/v1\n"
INTRUSION_FOLDER = "/sdcard/Download/Intrusion Logging"
# Files only AndroidQF writes together; two of them (or acquisition.json) make an acquisition.
_MARKERS = frozenset({
    "acquisition.json", "packages.json", "processes.json", "processes.txt", "getprop.txt",
    "settings_secure.txt", "settings_global.txt", "settings_system.txt", "dumpsys.txt", "files.json",
    "root_binaries.json", "mounts.json", "services.txt", "selinux.txt", "env.txt", "logcat.txt", "hashes.csv",
    "ps.txt",
})
# Names no other tool's output uses: one of them alone, among AndroidQF's own files only, is an
# acquisition (MVT's own fixtures: androidqf.zip holds getprop.txt and nothing else, and
# androidqf_encrypted/ only the encrypted backup.ab of a run that took nothing else).
_ALONE = frozenset({"getprop.txt", "packages.json", "processes.json", "root_binaries.json", "settings_secure.txt",
                    "settings_global.txt", "settings_system.txt", "backup.ab"})
_ALSO_OWN = frozenset({"backup.ab", "bugreport.zip", "logcat_old.txt", "command.log"})
# Each section from the first of its files that exists: the process list is ``processes.txt`` in
# current AndroidQF, ``ps.txt`` in older acquisitions (MVT's own AndroidQF fixture, and the only
# name MVT's processes module reads: research/peers.md §AndroidQF).
_TEXT_SECTIONS = {
    "getprop": ("getprop.txt",), "ps": ("processes.txt", "ps.txt"), "services": ("services.txt",),
    "selinux": ("selinux.txt",), "env": ("env.txt",), "logcat": ("logcat.txt",), "logcat:previous": ("logcat_old.txt",),
}


def _is_acquisition(names: set[str]) -> bool:
    if "acquisition.json" in names or len(names & _MARKERS) >= 2:
        return True
    return bool(names & _ALONE) and names <= _MARKERS | _ALSO_OWN


def _prefix_of(names: tuple[str, ...]) -> str | None:
    """The folder of an archive that holds the acquisition's files: "" (the root) or one folder."""
    root = {n for n in names if "/" not in n.rstrip("/")}
    if _is_acquisition(root):
        return ""
    tops = {n.split("/", 1)[0] for n in names if "/" in n.rstrip("/")}
    for top in sorted(tops):
        inside = {n.split("/", 1)[1] for n in names if n.startswith(top + "/") and n.count("/") == 1} - {""}
        if _is_acquisition(inside):
            return top
    return None


def _folder_names(folder: Path) -> set[str]:
    try:
        return {p.name for p in folder.iterdir() if p.is_file() and not p.is_symlink()}
    except OSError:
        return set()


class AndroidQF(AndroidTree):
    """An AndroidQF acquisition (folder, zip, or age-encrypted zip)."""

    kind = "androidqf"
    label = "an AndroidQF acquisition (folder, .zip, or .zip.age with --age-identity)"
    own_files = ("acquisition.json", "hashes.csv", "packages.json", "getprop.txt")
    _age_folder: Path | None = None

    @classmethod
    def detect(cls, path: Path) -> Path | None:
        """The acquisition folder (or the one inside ``path``), a zip holding one, or an age file."""
        if path.is_dir():
            if _is_acquisition(_folder_names(path)):
                return path
            inner = [c for c in path.iterdir() if c.is_dir() and not c.is_symlink() and _is_acquisition(_folder_names(c))]
            return inner[0] if len(inner) == 1 else None
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            head = handle.read(len(AGE_MAGIC))
        if head == AGE_MAGIC:
            return path
        names = peek_names(path)
        if not names:
            return None
        return path if _prefix_of(names) is not None else None

    def __init__(self, root: Path, options: OpenOptions | None = None) -> None:
        options = options or OpenOptions()
        source = None
        if root.is_file():
            with root.open("rb") as handle:
                encrypted = handle.read(len(AGE_MAGIC)) == AGE_MAGIC
            if encrypted:
                source = self._decrypt(root, options)
        super().__init__(root, options, source=source)
        names = tuple(sorted(self._top_names()))
        prefix = _prefix_of(names)
        if prefix is None:
            self.close()
            raise AcquisitionError(f"{root} holds no AndroidQF acquisition (no acquisition.json, packages.json, getprop.txt …)")
        self.prefix = prefix
        self._mappings = self.mappings()
        self._acquisition: Any = read_json(self, "acquisition.json")
        if self.has_host("bugreport.zip"):
            self.nest("bugreport.zip", "bugreport")
        if self.has_host("backup.ab"):
            self.nest("backup.ab", "android-backup")
        self.nested_refused()

    def _decrypt(self, root: Path, options: OpenOptions) -> Path:
        """Decrypt an age file into a private folder, streaming (the identity never leaves memory)."""
        import tempfile

        import pyrage

        if options.age_identity is None:
            raise AcquisitionError(f"{root} is an age-encrypted AndroidQF acquisition: give its identity file with --age-identity FILE")
        identities = _identities(options.age_identity)
        folder = Path(tempfile.mkdtemp(prefix="unmask-age-"))
        target = folder / "acquisition.zip"
        try:
            with root.open("rb") as source, open(target, "xb") as sink:
                target.chmod(0o600)
                pyrage.decrypt_io(source, _Capped(sink, options.temp_mb * 1024 * 1024), identities)
        except pyrage.DecryptError as exc:
            _remove(folder)
            raise AcquisitionError(f"{root}: the age identity in {options.age_identity} does not decrypt it ({exc})") from None
        except _TooBig:
            _remove(folder)
            raise AcquisitionError(f"{root}: decrypting it would pass the temporary-disk budget of {options.temp_mb} MB") from None
        except OSError as exc:
            _remove(folder)
            raise AcquisitionError(f"{root}: cannot be decrypted ({exc})") from None
        self._age_folder = folder
        return target

    def _top_names(self) -> set[str]:
        names: set[str] = set()
        for batch in self.tree.entries():
            for e in batch:
                if e.path.count("/") <= 1:
                    names.add(e.path + ("/" if e.kind == "dir" else ""))
        return names

    def mappings(self) -> list[Mapping]:
        """``tmp/`` is ``/data/local/tmp``, ``intrusion_logs/`` the folder Android 16 writes them
        to, and ``logs/`` holds device paths from the root (``logs/data/anr/…``)."""
        p = getattr(self, "prefix", "")
        base = p + "/" if p else ""
        return [
            Mapping("/data/local/tmp", base + "tmp"),
            Mapping(INTRUSION_FOLDER, base + "intrusion_logs"),
            Mapping("", base + "logs"),
        ]

    def own_sections(self) -> MappingT[str, Section]:
        """getprop, settings, ps, services, selinux, env, logcat and the dumpsys blocks of
        ``dumpsys.txt``."""
        found: dict[str, Section] = {}
        if self.has_host("dumpsys.txt"):
            found.update(self.text_sections("dumpsys.txt"))
        for section, names in _TEXT_SECTIONS.items():
            for name in names:
                if section not in found:
                    found.update(self.whole(section, name))
        for name in self.own_names("settings_*.txt"):
            namespace = name[len("settings_"):-len(".txt")]
            found.update(self.whole(f"settings:{namespace}", name))
        return found

    def collected(self) -> datetime | None:
        """``completed`` (else ``started``) of acquisition.json."""
        info = self._acquisition if isinstance(self._acquisition, dict) else {}
        for key in ("completed", "started"):
            value = info.get(key)
            if isinstance(value, str):
                found = timeutil.parse_iso(value)
                if found is not None and found.value.year > 1971:
                    return found.value
        return None

    def metadata(self) -> dict[str, Any]:
        """acquisition.json facts and the device's model, Android version and patch level."""
        info = self._acquisition if isinstance(self._acquisition, dict) else {}
        props = self._props()
        return {
            "uuid": _fact(info.get("uuid")),
            "androidqf_version": _fact(info.get("androidqf_version")),
            "started": _fact(info.get("started")),
            "completed": _fact(info.get("completed")),
            "collector": _fact(json.dumps(info.get("collector"))) if info.get("collector") else None,
            "product_type": props.get("ro.product.model"),
            "manufacturer": props.get("ro.product.manufacturer"),
            "android_version": props.get("ro.build.version.release"),
            "build": props.get("ro.build.fingerprint"),
            "security_patch": props.get("ro.build.version.security_patch"),
            "timezone": self.timezone(),
            "encrypted": self.root.is_file() and getattr(self, "_age_folder", None) is not None,
            "nested": [c.kind for c in self.children],
        }

    def _props(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if "getprop" not in self.sections():
            return out
        keys = ("ro.product.model", "ro.product.manufacturer", "ro.build.version.release",
                "ro.build.fingerprint", "ro.build.version.security_patch")
        try:
            for key in keys:
                value = getprop_value(self.section_lines("getprop"), key)
                if value:
                    out[key] = value[:256]
        except (OSError, ArtefactError):
            pass
        return out

    def close(self) -> None:
        """Release everything, the decrypted copy included."""
        super().close()
        folder = getattr(self, "_age_folder", None)
        if folder is not None:
            _remove(folder)
            self._age_folder = None


def _identities(path: Path) -> list[Any]:
    """The age identities of an identity file (``AGE-SECRET-KEY-1…`` lines; ``#`` comments)."""
    from pyrage import x25519

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AcquisitionError(f"{path}: cannot read the age identity file ({type(exc).__name__})") from None
    found = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            found.append(x25519.Identity.from_str(line))
        except Exception:  # pyrage raises its own IdentityError (not exported for typing)
            raise AcquisitionError(f"{path}: not an age identity file (an AGE-SECRET-KEY-1… line)") from None
    if not found:
        raise AcquisitionError(f"{path}: no age identity in it")
    return found


class _TooBig(Exception):
    pass


class _Capped:
    """A writer that refuses to pass ``limit`` bytes (the temporary-disk budget)."""

    def __init__(self, sink: Any, limit: int) -> None:
        self.sink = sink
        self.left = limit

    def write(self, data: bytes) -> int:
        self.left -= len(data)
        if self.left < 0:
            raise _TooBig()
        return int(self.sink.write(data))

    def flush(self) -> None:
        self.sink.flush()


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _fact(value: object) -> str | None:
    if value is None or isinstance(value, dict | list | bool):
        return None
    text = str(value)
    return text[:256] or None
