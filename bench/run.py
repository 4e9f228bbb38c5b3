"""``python -m bench.run``: unmask and MVT side by side on generated backups, plus micro-benchmarks.

``make bench`` runs this with the defaults: installs MVT into ``bench/.mvt-venv`` if needed,
generates (or reuses) the small, medium and large backups, runs both tools on each, alternating,
``--runs`` times after one untimed warm-up each, runs the micro-benchmarks and the profile of
the largest backup, and writes ``docs/benchmarks.md`` and ``bench/out/results.json``.

``make bench-smoke`` (``--smoke``) is the CI guard: the small backup, one run, MVT only if it is
already installed, the cheap micro-benchmarks, and the report in ``bench/out/`` instead of docs/.
Exit status 1 when the harness finds unmask broken: a planted trace missed, an MVT detection
missed (when MVT ran in the smoke run), or a scan that did not end with exit status 1 ("traces
found"), which is what the planted backups must give.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import compare, measure, micro, peer, report
from bench.generate import BENCH_DIR, DATA_DIR, REPO, SIZES, BenchBackup, get_backup

OUT = BENCH_DIR / "out"
UNMASK_CACHE = DATA_DIR / "unmask-cache"  # the compiled-indicator cache the end-to-end runs use (warm)


def _log(msg: str) -> None:
    print(msg, flush=True)


def unmask_env() -> dict[str, str]:
    """Environment for unmask runs: only the indicator files named on the command line are used."""
    env = {k: v for k, v in os.environ.items() if k != "UNMASK_IOCS"}
    env["UNMASK_CACHE_DIR"] = str(UNMASK_CACHE)
    env["UNMASK_DATA_DIR"] = str(OUT / "unmask-home")
    return env


def unmask_cmd(backup: Path, iocs: list[Path], out: Path) -> list[str]:
    """``unmask check-backup`` with the same indicator files MVT gets."""
    cmd = [
        str(Path(sys.executable).parent / "unmask"),
        "check-backup",
        str(backup),
        "--output",
        str(out),
        "--quiet",
    ]
    for f in iocs:
        cmd += ["--iocs", str(f)]
    return cmd


def _tool_summary(runs: list[measure.Run], loads: list[float]) -> dict[str, object]:
    return {
        "walls": [r.wall for r in runs],
        "peaks_mb": [r.peak_mb for r in runs],
        "rcs": [r.rc for r in runs],
        "cpu": [r.cpu for r in runs],
        "median_wall": measure.median([r.wall for r in runs]),
        "median_peak_mb": measure.median([r.peak_mb for r in runs]),
        "load_avg": loads,
    }


def end_to_end(
    bb: BenchBackup, iocs: list[Path], status: peer.PeerStatus, runs: int, *, warmup: bool = True
) -> dict[str, object]:
    """Both tools on one backup, alternating, ``runs`` measured runs each after one warm-up each
    (the smoke run skips the warm-up: it checks that the harness works, its times are not reported)."""
    base = OUT / bb.name
    shutil.rmtree(base, ignore_errors=True)
    use_mvt = status.available
    mvt_home = OUT / "mvt-home"
    u_runs: list[measure.Run] = []
    m_runs: list[measure.Run] = []
    u_loads: list[float] = []
    m_loads: list[float] = []
    u_timings: list[dict[str, float]] = []

    def run_unmask(tag: str) -> measure.Run:
        out = base / f"unmask-{tag}"
        shutil.rmtree(out, ignore_errors=True)
        r = measure.measure(
            unmask_cmd(bb.path, iocs, out), log_prefix=base / "logs" / f"unmask-{tag}", env=unmask_env()
        )
        _log(f"    unmask {tag:>6}: {r.wall:7.2f} s  {r.peak_mb:7.1f} MB  exit {r.rc}")
        return r

    def run_mvt(tag: str) -> measure.Run:
        out = base / f"mvt-{tag}"
        shutil.rmtree(out, ignore_errors=True)
        if not peer.MVT_IOS.exists():
            # The venv vanished mid-run (seen once on a shared machine): reinstall rather than lose the run.
            again = peer.ensure_mvt(install=True, log=_log)
            if not again.available:
                raise RuntimeError(again.note)
        r = measure.measure(
            peer.check_backup_cmd(bb.path, iocs, out),
            log_prefix=base / "logs" / f"mvt-{tag}",
            env=peer.mvt_env(mvt_home),
        )
        _log(f"    MVT    {tag:>6}: {r.wall:7.2f} s  {r.peak_mb:7.1f} MB  exit {r.rc}")
        return r

    _log(
        f"  {bb.name}: {bb.counts['manifest_rows']:,} Manifest rows, "
        f"load average {measure.load_average():.2f}"
    )
    # Warm-up (untimed): fills the OS page cache for both tools and unmask's compiled-indicator cache.
    if warmup:
        run_unmask("warmup")
        if use_mvt:
            run_mvt("warmup")
    for i in range(runs):
        u_loads.append(measure.load_average())
        r = run_unmask(str(i + 1))
        u_runs.append(r)
        info = base / f"unmask-{i + 1}" / "info.json"
        if info.is_file():
            u_timings.append(json.loads(info.read_text()).get("extra", {}).get("timings", {}))
        if use_mvt:
            m_loads.append(measure.load_average())
            m_runs.append(run_mvt(str(i + 1)))

    last = runs
    # Keep only the last run's outputs (read below): all runs of a 200k-row backup take gigabytes.
    for tag in ["warmup", *map(str, range(1, runs))]:
        for tool in ("unmask", "mvt"):
            shutil.rmtree(base / f"{tool}-{tag}", ignore_errors=True)
    u_det = compare.unmask_detections(base / f"unmask-{last}")
    row: dict[str, object] = {
        "size": bb.name,
        "rows": bb.counts["manifest_rows"],
        "counts": bb.counts,
        "disk_mb": bb.disk_bytes / 2**20,
        "generated_s": bb.generated_seconds,
        "planted": bb.planted,
        "unmask": _tool_summary(u_runs, u_loads),
        "unmask_timings": u_timings[-1] if u_timings else {},
        "unmask_detections": _det_doc(u_det),
        "planted_missed": compare.missed_planted(u_det, bb.planted),
    }
    if use_mvt:
        m_det = compare.mvt_detections(peer.read_alerts(base / f"mvt-{last}"))
        cmp_ = compare.compare(u_det, m_det)
        row["mvt"] = _tool_summary(m_runs, m_loads)
        row["mvt_detections"] = _det_doc(m_det)
        row["comparison"] = {
            "unmask_finds_all": cmp_.unmask_finds_all,
            "missed_indicators": cmp_.missed_indicators,
            "missed_heuristics": cmp_.missed_heuristics,
            "common_indicators": cmp_.common_indicators,
            "only_unmask_indicators": cmp_.only_unmask_indicators,
        }
        uw, mw = row["unmask"]["median_wall"], row["mvt"]["median_wall"]  # type: ignore[index]
        up, mp = row["unmask"]["median_peak_mb"], row["mvt"]["median_peak_mb"]  # type: ignore[index]
        row["speedup"] = mw / uw if uw else float("nan")
        row["memory_ratio"] = up / mp if mp else float("nan")
        if any(r.rc != 0 for r in m_runs):
            row["mvt_note"] = f"MVT exit codes {[r.rc for r in m_runs]} (see {base / 'logs'})"
    return row


def _det_doc(d: compare.Detections) -> dict[str, object]:
    return {
        "alerts": d.alerts,
        "by_level": d.by_level,
        "indicators": sorted(d.indicators),
        "heuristics": sorted(d.heuristics),
    }


def _revision() -> str:
    """The commit measured, and whether src/ had uncommitted changes (read-only git queries)."""
    import subprocess

    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head} (src/ with uncommitted changes)" if dirty else head


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--smoke", action="store_true", help="seconds-long CI run: small backup, 1 run, no MVT install"
    )
    p.add_argument("--sizes", default=None, help=f"comma-separated sizes out of {', '.join(SIZES)}")
    p.add_argument(
        "--runs", type=int, default=None, help="measured runs per tool and size (default 3; smoke 1)"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-mvt", action="store_true", help="benchmark unmask alone")
    p.add_argument("--no-install", action="store_true", help="use MVT only if it is already installed")
    p.add_argument(
        "--matching", default=None, help="comma-separated synthetic set sizes (default 10^3..10^6)"
    )
    p.add_argument("--skip-micro", action="store_true")
    p.add_argument("--skip-profile", action="store_true")
    p.add_argument(
        "--doc", default=None, help="markdown report path (default docs/benchmarks.md; smoke: bench/out)"
    )
    p.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: render the report again from bench/out/results.json",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; see the module docstring."""
    args = _parse(argv)
    smoke = args.smoke
    sizes = (args.sizes or ("small" if smoke else "small,medium,large")).split(",")
    runs = args.runs or (1 if smoke else 3)
    matching = [
        int(float(x)) for x in (args.matching or ("1e3,1e4" if smoke else "1e3,1e4,1e5,1e6")).split(",")
    ]
    doc_path = (
        Path(args.doc)
        if args.doc
        else (OUT / "benchmarks-smoke.md" if smoke else REPO / "docs" / "benchmarks.md")
    )
    OUT.mkdir(parents=True, exist_ok=True)
    if args.render_only:
        results_path = OUT / ("results-smoke.json" if smoke else "results.json")
        doc_path.write_text(report.render(json.loads(results_path.read_text())))
        _log(f"wrote {doc_path} from {results_path}")
        return 0
    # The in-process micro-benchmarks compile indicator files too: keep that cache out of the user's.
    os.environ["UNMASK_CACHE_DIR"] = str(UNMASK_CACHE)

    from unmask import __version__ as unmask_version

    started = datetime.now(UTC)
    revision = _revision()
    if args.no_mvt:
        status = peer.PeerStatus(False, None, "MVT not run (--no-mvt)")
    else:
        status = peer.ensure_mvt(install=not (smoke or args.no_install), log=_log)
    _log(f"peer: {status.note}")
    iocs = peer.public_sets()
    results: dict[str, object] = {
        "started": started.isoformat(timespec="seconds"),
        "smoke": smoke,
        "runs": runs,
        "seed": args.seed,
        "machine": measure.machine(),
        "revision": revision,
        "unmask_version": unmask_version,
        "mvt": status.__dict__,
        "ioc_files": [f.name for f in iocs],
        "load_avg_start": measure.load_average(),
        "unmask_cmd": unmask_cmd(Path("BACKUP"), [Path("IOC.stix2")], Path("OUT")),
        "mvt_cmd": peer.check_backup_cmd(Path("BACKUP"), [Path("IOC.stix2")], Path("OUT")),
    }
    failures: list[str] = []
    rows = []
    backups: dict[str, BenchBackup] = {}
    _log("end to end:")
    for size in sizes:
        bb = get_backup(size, args.seed, log=_log)
        backups[size] = bb
        row = end_to_end(bb, iocs, status, runs, warmup=not smoke)
        rows.append(row)
        if row["planted_missed"]:
            failures.append(f"{size}: unmask missed planted traces {row['planted_missed']}")
        rcs = row["unmask"]["rcs"]  # type: ignore[index]
        if any(rc != 1 for rc in rcs):
            failures.append(f"{size}: unmask exit codes {rcs}, expected 1 (traces found)")
        comparison = row.get("comparison")
        if smoke and isinstance(comparison, dict) and not comparison["unmask_finds_all"]:
            failures.append(f"{size}: unmask missed MVT detections {comparison}")
    results["end_to_end"] = rows

    if not args.skip_micro:
        _log("micro-benchmarks:")
        mvt_home = OUT / "mvt-home" if status.available else None
        results["loading"] = micro.bench_loading(iocs, 1 if smoke else 3, mvt_home, log=_log)
        results["matching"] = micro.bench_matching(
            matching, backups[sizes[0]].path, seed=args.seed, min_seconds=0.3 if smoke else 1.0, log=_log
        )
        results["payloads"] = (
            {"status": "skipped in the smoke run"} if smoke else micro.bench_payloads(log=_log)
        )

    if not (smoke or args.skip_profile):
        largest = max(backups.values(), key=lambda b: b.counts["manifest_rows"])
        _log(f"profile of unmask on {largest.name} …")
        target = OUT / f"profile-{largest.name}.json"
        import subprocess

        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.profile",
                str(largest.path),
                str(target),
                "--memory-sites",
                str(min(backups.values(), key=lambda b: b.counts["manifest_rows"]).path),
            ],
            cwd=REPO,
            env=unmask_env(),
            check=False,
        )
        if proc.returncode == 0:
            results["profile"] = {"size": largest.name, **json.loads(target.read_text())}

    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["load_avg_end"] = measure.load_average()
    results["failures"] = failures
    (OUT / ("results-smoke.json" if smoke else "results.json")).write_text(
        json.dumps(results, indent=1, default=str)
    )
    doc_path.parent.mkdir(parents=True, exist_ok=True)
    doc_path.write_text(report.render(results))
    _log(f"wrote {doc_path}")
    for f in failures:
        _log(f"FAILED: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
