"""``python -m bench.profile BACKUP OUTFILE``: where unmask's time goes on one backup.

Runs ``unmask.api.check_backup`` (all public sets, results written) under cProfile in this fresh
process and writes a JSON document with the per-stage timings unmask records itself
(``extra["timings"]``), the wall time, and the functions with the most own time and the most
cumulative time. The harness calls it on the largest backup; it is also handy by hand.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path


def _rows(stats: pstats.Stats, key: str, limit: int) -> list[dict[str, object]]:
    raw = stats.stats  # type: ignore[attr-defined]  # {(file, line, func): (cc, nc, tt, ct, callers)}
    index = 2 if key == "tottime" else 3
    top = sorted(raw.items(), key=lambda kv: kv[1][index], reverse=True)[:limit]
    out = []
    for (file, line, func), (_cc, nc, tt, ct, _callers) in top:
        short = file
        for marker in ("/site-packages/", "/src/", "/lib/python3"):
            if marker in file:
                short = file.split(marker, 1)[1]
                break
        out.append(
            {
                "function": f"{short}:{line}({func})",
                "calls": nc,
                "tottime": round(tt, 3),
                "cumtime": round(ct, 3),
            }
        )
    return out


def profile(backup: Path, limit: int = 25) -> dict[str, object]:
    """Profile one ``check_backup`` of ``backup`` with the public sets."""
    from unmask.api import check_backup
    from unmask.detect.indicators.sets import bundled_files

    files = bundled_files()
    with tempfile.TemporaryDirectory(prefix="unmask-profile-") as out:
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        result = check_backup(backup, iocs=files, output=out)
        prof.disable()
        wall = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    records = {name: len(recs) for name, recs in result.records.items()}
    return {
        "backup": str(backup),
        "wall_under_profiler": round(wall, 3),
        "timings": result.extra["timings"],
        "records": records,
        "top_tottime": _rows(stats, "tottime", limit),
        "top_cumtime": _rows(stats, "cumtime", limit),
    }


def timings_only(backup: Path) -> dict[str, object]:
    """Per-stage timings of one unprofiled ``check_backup`` (the profiler inflates Python-heavy stages)."""
    from unmask.api import check_backup
    from unmask.detect.indicators.sets import bundled_files

    with tempfile.TemporaryDirectory(prefix="unmask-profile-") as out:
        result = check_backup(backup, iocs=bundled_files(), output=out)
    return {"timings": result.extra["timings"], "seconds": result.extra["seconds"]}


def _rss_mb() -> float:
    """Peak RSS of this process so far, in MB.

    ``VmHWM`` from /proc is used when there is one: ``ru_maxrss`` would start at the parent's RSS,
    because Linux carries the high-water mark of the forked copy across ``exec``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_checkpoints(backup: Path) -> dict[str, float]:
    """Peak RSS after each step of a scan, doing by hand what ``check_backup`` does (records
    streamed to an output folder, as the command line does).

    Must run first in a fresh process: ru_maxrss only grows, so later steps would hide earlier ones.
    """
    from unmask.acquisition import open_ios_backup
    from unmask.api import scan_acquisition
    from unmask.detect.indicators.sets import bundled_files
    from unmask.report.writers import OutputWriter

    out = {"imports": _rss_mb()}
    acq = open_ios_backup(backup)
    out["opened (Manifest.db checked, nothing loaded per row)"] = _rss_mb()
    with tempfile.TemporaryDirectory(prefix="unmask-profile-") as folder:
        writer = OutputWriter(Path(folder))
        result = scan_acquisition(acq, command="check-backup", iocs=bundled_files(), sink=writer)
        out["scanned (records streamed to the output folder)"] = _rss_mb()
        writer.finish(result)
        out["written (all outputs)"] = _rss_mb()
    out["records"] = float(sum(c.records for c in result.coverage))
    return out


def allocation_sites(backup: Path, limit: int = 12) -> list[dict[str, object]]:
    """The source lines holding the most memory once a scan without an output folder has finished
    (every record kept, as for library use; tracemalloc is slow, so use a small backup): what the
    records and findings are made of."""
    import tracemalloc

    from unmask.acquisition import open_ios_backup
    from unmask.api import scan_acquisition
    from unmask.detect.indicators.sets import bundled_files

    tracemalloc.start(1)
    result = scan_acquisition(open_ios_backup(backup), command="check-backup", iocs=bundled_files())
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    total = sum(len(r) for r in result.records.values())
    rows = []
    for stat in snapshot.statistics("lineno")[:limit]:
        frame = stat.traceback[0]
        name = frame.filename.split("/src/", 1)[-1].split("/lib/python3.11/", 1)[-1]
        rows.append(
            {
                "line": f"{name}:{frame.lineno}",
                "mb": round(stat.size / 2**20, 2),
                "blocks": stat.count,
                "bytes_per_record": round(stat.size / max(total, 1)),
            }
        )
    return rows


def main(argv: list[str]) -> int:
    """Entry point: profile ``argv[1]`` into the JSON file ``argv[2]``.

    ``--memory-sites SMALL_BACKUP`` (optional, after them) adds the tracemalloc breakdown.
    """
    backup, target = Path(argv[1]), Path(argv[2])
    doc: dict[str, object] = {"memory": memory_checkpoints(backup)}
    if len(argv) > 4 and argv[3] == "--memory-sites":
        doc["memory_sites"] = {"backup": argv[4], "sites": allocation_sites(Path(argv[4]))}
    doc.update({"plain": timings_only(backup), "profiled": profile(backup)})
    target.write_text(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
