"""Where indicator sets come from: ``--iocs`` paths, ``UNMASK_IOCS``, the bundled public sets and
the sets downloaded by ``unmask iocs update``; and a per-file compiled cache keyed by SHA-256.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path

import platformdirs

from unmask.detect.indicators.stix import LoadedSet, load_bytes
from unmask.errors import IndicatorError, UsageError
from unmask.model import Indicator, IndicatorSetInfo

ENV_IOCS = "UNMASK_IOCS"
ENV_DATA = "UNMASK_DATA_DIR"
ENV_CACHE = "UNMASK_CACHE_DIR"
_CACHE_FORMAT = 4  # 4: app:cert.common_name keeps its name (was read as app:cert.commonname)
_SUFFIXES = (".stix2", ".json", ".stix")


def data_dir() -> Path:
    """The user data folder (downloaded indicator sets live in ``indicators/`` below it)."""
    return Path(os.environ.get(ENV_DATA) or platformdirs.user_data_dir("unmask"))


def downloaded_dir() -> Path:
    """Folder of the sets fetched by ``unmask iocs update``."""
    return data_dir() / "indicators"


def cache_dir() -> Path:
    """Folder of compiled indicator files."""
    return Path(os.environ.get(ENV_CACHE) or platformdirs.user_cache_dir("unmask")) / "indicators"


def bundled_files() -> list[Path]:
    """The public sets shipped with unmask (see data/iocs/ATTRIBUTION.md)."""
    folder = files("unmask.data").joinpath("iocs")
    with as_file(folder) as path:
        return sorted(p for p in Path(path).iterdir() if p.suffix == ".stix2")


def _expand(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _SUFFIXES)
        if not found:
            raise UsageError(f"{path}: no .stix2/.json indicator files in this folder")
        return found
    if path.is_file():
        return [path]
    raise UsageError(f"{path}: indicator file or folder does not exist")


def resolve(
    paths: Sequence[str | Path] = (), *, use_env: bool = True, use_default: bool = True
) -> list[Path]:
    """The indicator files to load.

    Explicit paths first, then ``UNMASK_IOCS`` (an ``os.pathsep`` list). When neither names
    anything, the bundled public sets and any downloaded sets are the default.
    """
    chosen: list[Path] = []
    for p in paths:
        chosen.extend(_expand(Path(p)))
    if use_env:
        for part in os.environ.get(ENV_IOCS, "").split(os.pathsep):
            if part.strip():
                chosen.extend(_expand(Path(part.strip())))
    if not chosen and use_default:
        chosen.extend(bundled_files())
        folder = downloaded_dir()
        if folder.is_dir():
            chosen.extend(sorted(folder.glob("*.stix2")))
    unique: dict[Path, None] = {}
    for p in chosen:
        unique.setdefault(p.resolve(), None)
    return list(unique)


def _cached(digest: str) -> Path:
    return cache_dir() / f"{digest}.v{_CACHE_FORMAT}.m{marshal.version}"


# A cache entry is this magic, the SHA-256 of the body, and the body: marshal of plain tuples (the
# fastest thing Python reads back). The checksum comes first because marshal trusts its input: a
# truncated or damaged entry is recompiled, never handed to marshal.
_MAGIC = b"unmask-iocs\x00"
_HEAD = len(_MAGIC) + 32


def _read_entry(cache: Path, path: Path, digest: str) -> LoadedSet | None:
    try:
        blob = cache.read_bytes()
    except OSError:
        return None
    body = memoryview(blob)[_HEAD:]
    if blob[: len(_MAGIC)] != _MAGIC or hashlib.sha256(body).digest() != blob[len(_MAGIC) : _HEAD]:
        return None
    try:
        doc = marshal.loads(body)
        indicators_, unique, collections, by_type, unsupported, examples, rows = doc
        info = IndicatorSetInfo(
            name=path.name,
            path=str(path),
            sha256=digest,
            indicators=indicators_,
            unique=unique,
            collections=collections,
            by_type=by_type,
            unsupported=unsupported,
            unsupported_examples=examples,
        )
        name = path.name
        return LoadedSet(info, [Indicator(t, v, c, s, name) for t, v, c, s in rows])
    except (ValueError, TypeError, EOFError):
        return None


def load_cached(path: Path) -> LoadedSet:
    """Load one file, using the compiled cache when this exact content was compiled before."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IndicatorError(f"{path}: cannot read ({exc.strerror})") from None
    digest = hashlib.sha256(data).hexdigest()
    cache = _cached(digest)
    loaded = _read_entry(cache, path, digest)
    if loaded is None:
        loaded = load_bytes(data, path.name, str(path), digest=digest)
        _store(cache, loaded)
    return loaded


def _store(cache: Path, loaded: LoadedSet) -> None:
    info = loaded.info
    # Collections and types repeat across rows; marshal writes a repeated object once and reads it
    # back shared, so rows name the same string objects instead of copies.
    shared: dict[str, str] = {}
    rows = tuple(
        (
            shared.setdefault(i.type, i.type),
            i.value,
            shared.setdefault(i.collection, i.collection),
            i.stix_id,
        )
        for i in loaded.indicators
    )
    body = marshal.dumps(
        (
            info.indicators,
            info.unique,
            tuple(info.collections),
            tuple((str(k), int(v)) for k, v in info.by_type),
            info.unsupported,
            tuple(info.unsupported_examples),
            rows,
        )
    )
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(_MAGIC + hashlib.sha256(body).digest() + body)
        tmp.replace(cache)
    except OSError:
        pass  # a read-only home must not stop a scan; the next run compiles again


@dataclass
class IndicatorSets:
    """All loaded sets: their provenance and the indicators, de-duplicated across files."""

    sets: list[IndicatorSetInfo]
    indicators: list[Indicator]

    @property
    def unsupported(self) -> int:
        """Patterns skipped across all files."""
        return sum(s.unsupported for s in self.sets)


def load_sets(files_: Iterable[Path], *, cache: bool = True) -> IndicatorSets:
    """Load indicator files; a file that is not STIX raises :class:`IndicatorError`."""
    from unmask.detect.indicators.stix import load_file

    infos: list[IndicatorSetInfo] = []
    indicators: list[Indicator] = []
    seen: set[tuple[str, str, str]] = set()
    for path in files_:
        loaded = load_cached(path) if cache else load_file(path)
        infos.append(loaded.info)
        for ind in loaded.indicators:
            key = (ind.type, ind.value, ind.collection)
            if key not in seen:
                seen.add(key)
                indicators.append(ind)
    return IndicatorSets(infos, indicators)
