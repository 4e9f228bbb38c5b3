"""Seeded benchmark inputs: realistic iOS backups at several sizes, cached under ``bench/data/``.

The backups come from :func:`tests.builders.sample.build_sample` (real device schemas, traces
planted from the public indicator sets) with ``varied_paths=True``, scaled so the number of
messages, visits, processes and WhatsApp messages grows with the Manifest. Building 200k rows
takes minutes, so each backup is cached in a folder whose name carries the size, the seed and a
digest of the builder sources: editing a builder invalidates the cache, rerunning does not.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"

# Bump when the shape below changes in a way the builder digest does not capture.
GENERATOR_VERSION = 1

# Manifest rows per named size. "large" is the size the targets are stated for.
SIZES: dict[str, int] = {"small": 10_000, "medium": 100_000, "large": 200_000, "xlarge": 300_000}

_BUILDER_SOURCES = ("tests/builders/sample.py", "tests/builders/ios_backup.py", "tests/builders/schema.py")


@dataclass(frozen=True)
class Shape:
    """How many of each artefact a backup of ``rows`` Manifest rows gets.

    Ratios follow issue 2's reference backup (200k rows, 20k messages, 20k visits): one message
    and one visit per ten files, one WhatsApp message per twenty, one process per thousand.
    """

    rows: int
    messages: int
    visits: int
    processes: int
    whatsapp: int

    @classmethod
    def for_rows(cls, rows: int) -> Shape:
        """The proportional shape for a Manifest of about ``rows`` rows."""
        return cls(rows, rows // 10, rows // 10, max(30, rows // 1000), rows // 20)


@dataclass(frozen=True)
class BenchBackup:
    """A generated backup on disk and what was planted in it."""

    name: str
    path: Path
    seed: int
    shape: Shape
    counts: dict[str, int]
    planted: list[dict[str, str]]
    disk_bytes: int
    generated_seconds: float | None  # None when it came from the cache


def generator_digest() -> str:
    """Short digest of the builder sources plus :data:`GENERATOR_VERSION` (part of the cache key)."""
    h = hashlib.sha256(str(GENERATOR_VERSION).encode())
    for rel in _BUILDER_SOURCES:
        h.update((REPO / rel).read_bytes())
    return h.hexdigest()[:10]


def _disk_usage(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def get_backup(name: str, seed: int = 1, *, rows: int | None = None, log=print) -> BenchBackup:
    """Return the cached backup for ``name`` (a key of :data:`SIZES`) and ``seed``, building it if needed."""
    from tests.builders.sample import build_sample  # imported late: only needed when building

    rows = rows if rows is not None else SIZES[name]
    shape = Shape.for_rows(rows)
    folder = DATA_DIR / f"{name}-{rows}-s{seed}-g{generator_digest()}"
    meta_path = folder / "meta.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        return BenchBackup(
            name, folder / "backup", seed, shape, meta["counts"], meta["planted"], meta["disk_bytes"], None
        )
    # Build into a scratch folder and rename at the end, so an interrupted build is never reused.
    scratch = folder.with_name(folder.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    log(f"generating the {name} backup ({rows:,} Manifest rows, seed {seed}) into {folder} …")
    t0 = time.perf_counter()
    # build_sample adds 8 rows of its own (databases, plists, the planted WebKit file).
    sample = build_sample(
        scratch / "backup",
        messages=shape.messages,
        visits=shape.visits,
        filler_files=max(0, rows - 8),
        processes=shape.processes,
        whatsapp=shape.whatsapp,
        seed=seed,
        varied_paths=True,
    )
    seconds = time.perf_counter() - t0
    planted = [asdict(p) for p in sample.planted]
    disk = _disk_usage(scratch / "backup")
    meta_doc = {
        "counts": sample.counts,
        "planted": planted,
        "disk_bytes": disk,
        "seconds": round(seconds, 1),
        "shape": asdict(shape),
        "generator": generator_digest(),
    }
    (scratch / "meta.json").write_text(json.dumps(meta_doc, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    scratch.rename(folder)
    log(f"  built in {seconds:.0f} s: {sample.counts}")
    return BenchBackup(name, folder / "backup", seed, shape, sample.counts, planted, disk, seconds)
