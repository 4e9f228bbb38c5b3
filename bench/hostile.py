"""``python -m bench.hostile``: every hostile-evidence case through the CLI, and what it cost.

Each case of :mod:`tests.hostile.cases` damages a freshly built sample backup (traces planted from
the public sets); ``unmask check-backup`` then runs on it in a child process
(:func:`tests.hostile.harness.run`: an address-space ceiling, a wall-clock limit, peak resident
memory from ``wait4``, peak size of its private TMPDIR). One markdown row per case: the exit
code, wall time, peak memory and temporary disk, the coverage of the damaged parser(s) (and what
screening said of an attachment), and whether every family planted outside the damaged artefact
was still found. The table is printed and written to ``bench/out/hostile.md``.

    python -m bench.hostile [--case NAME ...] [--timeout 300] [--memory-mb 3072]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.builders.sample import build_sample
from tests.hostile.cases import CASES, DAMAGE, FAMILIES
from tests.hostile.harness import run

OUT = Path(__file__).resolve().parent / "out"
HEADER = (
    "| case | what it is | exit | wall s | peak RSS MB | peak temp MB | damaged parser: coverage | "
    "planted families outside it found |\n|---|---|---|---|---|---|---|---|"
)


def _load(path: Path) -> object:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _cell(text: str, limit: int = 160) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _coverage(info: dict, parsers: tuple[str, ...]) -> str:
    by_name = {c["parser"]: c for c in info.get("coverage", [])}
    parts = []
    for name in parsers:
        c = by_name.get(name)
        if c is None:
            parts.append(f"{name}: —")
            continue
        reason = c.get("reason") or ""
        reason = reason.split(": ", 1)[-1] if reason.startswith("/") else reason
        parts.append(f"{name}: {c['status']} ({c['records']} records)" + (f", {reason[:90]}" if reason else ""))
    return "; ".join(parts)


def _screening(results: Path) -> str:
    screened = _load(results / "screened_files.json")
    if not isinstance(screened, list):
        return ""
    notes = []
    for report in screened:
        if "/SMS/Attachments/" not in report.get("device_path", ""):
            continue
        limits = ",".join(report.get("limits_hit") or []) or "none"
        notes.append(f"screened {report.get('detected_type')}: limits {limits}, {len(report.get('errors') or [])} "
                     f"errors, {len(report.get('findings') or [])} findings")
    return "; ".join(notes)


def run_case(name: str, folder: Path, *, timeout: float, memory_mb: int) -> str:
    """Build, damage, scan one case; return its table row."""
    case = CASES[name]
    damage = DAMAGE[name]
    sample = build_sample(folder / "backup")
    started = time.perf_counter()
    case(sample.root, folder)
    built = time.perf_counter() - started
    results = folder / "results"
    outcome = run(["check-backup", str(sample.root), "--output", str(results), "--quiet", *damage.args], tmp=folder,
                  timeout=timeout, memory_mb=memory_mb)
    info = _load(results / "info.json")
    alerts = _load(results / "alerts.json")
    info = info if isinstance(info, dict) else {}
    found = {a["indicator"]["collection"] for a in alerts if a.get("indicator")} if isinstance(alerts, list) else set()
    expected = FAMILIES - damage.lost
    missing = sorted(expected - found)
    if damage.lost == FAMILIES:
        families = f"n/a (index damaged); found {len(found & FAMILIES)}/5"
    else:
        families = "yes" if not missing else f"**no**: missing {', '.join(missing)}"
        if damage.lost:
            families += f" (lost with it: {', '.join(sorted(damage.lost - found)) or 'none'})"
    coverage = _coverage(info, damage.parsers) if info else _cell(outcome.stderr.strip().splitlines()[-1]
                                                                       if outcome.stderr.strip() else "no info.json")
    screening = _screening(results) if name.startswith("attachment-") else ""
    if screening:
        coverage += f"; {screening}"
    rc = f"{outcome.rc}" + (" (timed out)" if outcome.timed_out else "")
    if outcome.rc != damage.rc:
        rc = f"**{rc}** (expected {damage.rc})"
    what = " ".join((case.__doc__ or name).strip().split("\n\n")[0].split())
    if damage.args:
        what += f" (scan with {' '.join(damage.args)})"
    print(f"  {name}: built in {built:.1f} s, rc {outcome.rc}, {outcome.seconds:.1f} s", file=sys.stderr, flush=True)
    return (f"| {name} | {_cell(what, 200)} | {rc} | {outcome.seconds:.1f} | {outcome.peak_mb:.0f} | "
            f"{outcome.temp_peak_mb:.1f} | {_cell(coverage, 400)} | {families} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="one case (repeatable; default all)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per scan before it is killed")
    parser.add_argument("--memory-mb", type=int, default=3072, help="address space of the scan")
    args = parser.parse_args(argv)
    names = args.case or list(CASES)
    rows = []
    for name in names:
        folder = Path(tempfile.mkdtemp(prefix=f"unmask-hostile-{name}-"))
        try:
            rows.append(run_case(name, folder, timeout=args.timeout, memory_mb=args.memory_mb))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    table = HEADER + "\n" + "\n".join(rows) + "\n"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "hostile.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
