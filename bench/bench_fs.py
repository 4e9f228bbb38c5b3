"""``python -m bench.bench_fs``: unmask ``check-fs`` and MVT ``mvt-ios check-fs`` side by side on one
generated full-filesystem dump of about 200,000 files, with every public indicator set.

The dump comes from :func:`tests.builders.sample_fs.build_sample_dump` (a real device's layout,
traces planted from the public sets in every artefact both tools read, seeded, cached under
``bench/data/``), as a folder and as a ``.tar.gz``. MVT reads folders only; unmask is run on both.
The runs alternate (unmask folder, MVT folder, unmask archive), each measured in a fresh process
(:mod:`bench.measure`: wall time, peak RSS). Detections are compared by what was detected
(:mod:`bench.compare`), with the heuristics MVT raises on a dump mapped to the unmask rules of the
same published heuristic. Results go to ``bench/out/fs/results.json`` and ``docs/benchmarks-fs.md``
(``--doc`` to change); the exit status is 1 when a target is missed or a planted trace is not
found.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import compare, measure, peer
from bench.generate import BENCH_DIR, DATA_DIR, REPO

OUT = BENCH_DIR / "out" / "fs"
TARGET_SPEEDUP = 20.0
TARGET_MEMORY = 0.25
GENERATOR_VERSION = 1
_SOURCES = ("tests/builders/sample_fs.py", "tests/builders/ios_fs.py", "tests/builders/schema.py",
            "tests/builders/binarycookies.py")

# MVT module slug → unmask rules of the same heuristic, on a dump. MVT's session resource log raises
# its "HTTP redirect between suspicious domains" alert only on an indicator match of the same entry,
# so an unmask indicator finding on that artefact covers it.
FS_HEURISTICS: dict[str, set[str]] = {
    **compare.HEURISTIC_RULES,
    "datausage": {"process-pk-gap", "process-orphan-usage", "process-without-binary"},
    "netusage": {"process-pk-gap", "process-orphan-usage", "process-without-binary"},
    "net_base": {"process-pk-gap", "process-orphan-usage", "process-without-binary"},
    "applications": {"app-not-from-app-store"},
    "webkit_session_resource_log": {"indicator:ios/webkit_session_log/origin"},
}


def _log(msg: str) -> None:
    print(msg, flush=True)


def _digest() -> str:
    h = hashlib.sha256(str(GENERATOR_VERSION).encode())
    for rel in _SOURCES:
        h.update((REPO / rel).read_bytes())
    return h.hexdigest()[:10]


def get_dump(files: int, seed: int) -> dict[str, Any]:
    """The cached dump of ``files`` files (folder and .tar.gz), built when missing."""
    from tests.builders.sample_fs import build_sample_dump

    folder = DATA_DIR / f"fs-{files}-s{seed}-g{_digest()}"
    meta = folder / "meta.json"
    if meta.is_file():
        return dict(json.loads(meta.read_text()), root=str(folder))
    scratch = folder.with_name(folder.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    _log(f"generating a {files:,}-file dump (seed {seed}) into {folder} …")
    t0 = time.perf_counter()
    sample = build_sample_dump(scratch, files=files, seed=seed, forms=("tar.gz",))
    doc = {
        "files": files,
        "counts": sample.counts,
        "planted": [asdict(p) for p in sample.planted],
        "unmask_only": [asdict(p) for p in sample.unmask_only],
        "folder": str(sample.folder.relative_to(scratch)),
        "archive": str(sample.archives["tar.gz"].relative_to(scratch)),
        "archive_bytes": sample.archives["tar.gz"].stat().st_size,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (scratch / "meta.json").write_text(json.dumps(doc, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    scratch.rename(folder)
    _log(f"  built in {doc['seconds']} s: {sample.counts}")
    return dict(doc, root=str(folder))


def unmask_cmd(dump: Path, iocs: list[Path], out: Path) -> list[str]:
    """``unmask check-fs`` with the indicator files MVT gets."""
    cmd = [str(Path(sys.executable).parent / "unmask"), "check-fs", str(dump), "--output", str(out), "--quiet"]
    for f in iocs:
        cmd += ["--iocs", str(f)]
    return cmd


def mvt_cmd(dump: Path, iocs: list[Path], out: Path) -> list[str]:
    """``mvt-ios check-fs`` with every indicator file, as a user would run it."""
    cmd = [str(peer.MVT_IOS), *peer.GROUP_FLAGS, "check-fs"]
    for f in iocs:
        cmd += ["--iocs", str(f)]
    return [*cmd, "--output", str(out), str(dump)]


def unmask_detections(out: Path) -> compare.Detections:
    """unmask's detections, with indicator findings per artefact kind kept as pseudo-rules so that
    MVT alerts derived from an indicator match (the session log's redirect alert) can be mapped."""
    det = compare.unmask_detections(out)
    path = out / "alerts.json"
    if path.is_file():
        for a in json.loads(path.read_text()):
            if a.get("indicator"):
                det.heuristics.add(f"indicator:{a.get('source')}")
    return det


def compare_fs(u: compare.Detections, m: compare.Detections) -> compare.Comparison:
    """:func:`bench.compare.compare` with the dump's heuristic mapping."""
    missed_h = sorted(x for x in m.heuristics if not (FS_HEURISTICS.get(x, set()) & u.heuristics))
    return compare.Comparison(
        missed_indicators=sorted(m.indicators - u.indicators),
        missed_heuristics=missed_h,
        only_unmask_indicators=sorted(u.indicators - m.indicators),
        common_indicators=len(m.indicators & u.indicators),
    )


_LOADS: dict[str, float] = {}


def _run(label: str, cmd: list[str], logs: Path, env: dict[str, str] | None) -> measure.Run:
    _LOADS[label] = measure.load_average()
    run = measure.measure(cmd, log_prefix=logs / label, env=env, timeout=7200)
    _log(f"    {label:<16} {run.wall:8.2f} s  cpu {run.cpu:7.2f} s  {run.peak_mb:8.1f} MB  exit {run.rc}  "
         f"(load {_LOADS[label]:.1f})")
    return run


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) the dump, run both tools, compare, write the report."""
    p = argparse.ArgumentParser(prog="python -m bench.bench_fs", description=__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=200_000, help="files in the generated dump (default 200,000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-mvt", action="store_true", help="benchmark unmask alone")
    p.add_argument("--no-install", action="store_true", help="use MVT only if it is already installed")
    p.add_argument("--doc", default=None, help="markdown report (default docs/benchmarks-fs.md)")
    args = p.parse_args(argv)

    from unmask import __version__ as unmask_version

    status = peer.PeerStatus(False, None, "MVT not run (--no-mvt)") if args.no_mvt else peer.ensure_mvt(
        install=not args.no_install, log=_log)
    _log(f"peer: {status.note}")
    dump = get_dump(args.files, args.seed)
    root = Path(dump["root"])
    folder, archive = root / dump["folder"], root / dump["archive"]
    iocs = peer.public_sets()  # both tools get the sets as published (MVT cannot load unmask's derived ones)
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    logs = OUT / "logs"
    from bench.run import unmask_env

    env = unmask_env()
    _log(f"end to end on {dump['counts']['entries']:,} entries ({dump['counts']['files']:,} files), "
         f"load average {measure.load_average():.2f}:")
    runs: dict[str, measure.Run] = {}
    runs["unmask folder"] = _run("unmask-folder", unmask_cmd(folder, iocs, OUT / "unmask-folder"), logs, env)
    if status.available:
        runs["mvt folder"] = _run("mvt-folder", mvt_cmd(folder, iocs, OUT / "mvt-folder"), logs,
                                  peer.mvt_env(OUT / "mvt-home"))
    runs["unmask tar.gz"] = _run("unmask-targz", unmask_cmd(archive, iocs, OUT / "unmask-targz"), logs, env)

    u_det = unmask_detections(OUT / "unmask-folder")
    u_arch = unmask_detections(OUT / "unmask-targz")
    planted = dump["planted"] + dump["unmask_only"]
    result: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": measure.machine(),
        "unmask_version": unmask_version,
        "mvt": status.__dict__,
        "dump": {k: v for k, v in dump.items() if k != "root"},
        "ioc_files": [f.name for f in iocs],
        "runs": {k: {"wall": r.wall, "peak_mb": r.peak_mb, "cpu": r.cpu, "rc": r.rc, "load_before": load}
                 for (k, r), load in zip(runs.items(), _LOADS.values(), strict=True)},
        "unmask_detections": {"indicators": sorted(u_det.indicators), "heuristics": sorted(
            h for h in u_det.heuristics if not h.startswith("indicator:")), "alerts": u_det.alerts},
        "planted_missed": compare.missed_planted(u_det, planted),
        "archive_same_as_folder": (u_arch.indicators, u_arch.heuristics) == (u_det.indicators, u_det.heuristics),
        "unmask_timings": json.loads((OUT / "unmask-folder" / "info.json").read_text())["extra"].get("timings", {}),
        "mvt_cmd": mvt_cmd(Path("DUMP"), [Path("IOC.stix2")], Path("OUT")),
        "unmask_cmd": unmask_cmd(Path("DUMP"), [Path("IOC.stix2")], Path("OUT")),
    }
    failures: list[str] = []
    if result["planted_missed"]:
        failures.append(f"planted traces missed: {result['planted_missed']}")
    if not result["archive_same_as_folder"]:
        failures.append("the .tar.gz gave other detections than the folder")
    if any(r.rc != 1 for k, r in runs.items() if k.startswith("unmask")):
        failures.append("an unmask run did not end with exit status 1 (traces found)")
    if "mvt folder" in runs and runs["mvt folder"].rc != 0:
        # A traceback is not a result: nothing is compared, and the run fails.
        failures.append(f"MVT exited {runs['mvt folder'].rc} (see {logs / 'mvt-folder.err'}): not compared")
    elif "mvt folder" in runs:
        m_det = compare.mvt_detections(peer.read_alerts(OUT / "mvt-folder"))
        cmp_ = compare_fs(u_det, m_det)
        u, m = runs["unmask folder"], runs["mvt folder"]
        result["mvt_detections"] = {"indicators": sorted(m_det.indicators), "heuristics": sorted(m_det.heuristics),
                                    "alerts": m_det.alerts, "by_level": m_det.by_level}
        result["comparison"] = {
            "unmask_finds_all": cmp_.unmask_finds_all,
            "missed_indicators": cmp_.missed_indicators,
            "missed_heuristics": cmp_.missed_heuristics,
            "common_indicators": cmp_.common_indicators,
            "only_unmask_indicators": cmp_.only_unmask_indicators,
        }
        result["speedup"] = m.wall / u.wall
        result["cpu_speedup"] = m.cpu / u.cpu
        result["memory_ratio"] = u.peak_mb / m.peak_mb
        result["targets"] = {
            "speedup": result["speedup"] >= TARGET_SPEEDUP,
            "memory": result["memory_ratio"] <= TARGET_MEMORY,
            "detections": cmp_.unmask_finds_all,
        }
        failures += [f"target not met: {k}" for k, ok in result["targets"].items() if not ok]
    result["failures"] = failures
    (OUT / "results.json").write_text(json.dumps(result, indent=1, default=str))
    doc = Path(args.doc) if args.doc else REPO / "docs" / "benchmarks-fs.md"
    doc.write_text(render(result))
    _log(f"wrote {doc} and {OUT / 'results.json'}")
    for f in failures:
        _log(f"FAILED: {f}")
    return 1 if failures else 0


def _ok(flag: bool | None) -> str:
    return "n/a" if flag is None else ("**met**" if flag else "**not met**")


def render(r: dict[str, Any]) -> str:
    """The markdown report of one run."""
    runs = r["runs"]
    counts = r["dump"]["counts"]
    lines = [
        "# Benchmark: full-filesystem dumps, unmask `check-fs` vs MVT `check-fs`",
        "",
        f"Generated by `python -m bench.bench_fs` on {r['started']}: {r['machine'].get('cpu', '?')}, "
        f"{r['machine'].get('cores', '?')} cores, Python {r['machine'].get('python', '?')}; unmask {r['unmask_version']}, "
        f"{r['mvt']['note']}.",
        "",
        f"Input: one generated dump of {counts['entries']:,} entries ({counts['files']:,} files) "
        f"(`tests/builders/sample_fs.py`, seed in `bench/out/fs/results.json`), with traces planted from the public "
        f"sets in every artefact both tools read; all {len(r['ioc_files'])} bundled indicator files given to both. "
        "MVT reads folders only; unmask also ran on the same dump as a `.tar.gz` "
        f"({r['dump']['archive_bytes'] / 2**20:.0f} MB). One measured run each, alternating, each in a fresh process "
        "(`bench/measure.py`: wall time, peak resident memory).",
        "",
        "| run | wall time | CPU time | peak memory | exit | load average before |",
        "|---|---|---|---|---|---|",
    ]
    for name, run in runs.items():
        lines.append(f"| {name} | {run['wall']:.1f} s | {run['cpu']:.1f} s | {run['peak_mb']:.0f} MB | {run['rc']} | "
                     f"{run['load_before']:.1f} |")
    lines += ["", "| target | measured | |", "|---|---|---|"]
    if "comparison" in r:
        c = r["comparison"]
        u, m = runs["unmask folder"], runs["mvt folder"]
        lines += [
            f"| ≥ {TARGET_SPEEDUP:.0f}× faster than MVT | {r['speedup']:.1f}× wall ({u['wall']:.1f} s vs {m['wall']:.1f} s); "
            f"{r['cpu_speedup']:.1f}× CPU ({u['cpu']:.1f} s vs {m['cpu']:.1f} s) | {_ok(r['targets']['speedup'])} |",
            f"| ≤ 1/4 of MVT's peak memory | {r['memory_ratio']:.2f} ({u['peak_mb']:.0f} MB vs {m['peak_mb']:.0f} MB) | "
            f"{_ok(r['targets']['memory'])} |",
            f"| every detection MVT makes | {c['common_indicators']} of {c['common_indicators'] + len(c['missed_indicators'])} "
            f"indicator detections; heuristics missed: {', '.join(c['missed_heuristics']) or 'none'} | "
            f"{_ok(r['targets']['detections'])} |",
            "",
            f"Found by unmask only ({len(c['only_unmask_indicators'])}): "
            + ", ".join(f"{col} `{v}`" for col, v in c["only_unmask_indicators"]),
            "",
            f"MVT heuristics: {', '.join(r['mvt_detections']['heuristics']) or 'none'}; alerts by level: "
            f"{r['mvt_detections']['by_level']}.",
        ]
    else:
        lines.append(f"| vs MVT | MVT not run: {r['mvt']['note']} | n/a |")
    lines += [
        "",
        f"Planted traces missed by unmask: {r['planted_missed'] or 'none'}; the `.tar.gz` gave the same detections as "
        f"the folder: {r['archive_same_as_folder']}.",
        "",
        "unmask's time by stage (folder run, `info.json`): "
        + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(r["unmask_timings"].items(), key=lambda kv: -kv[1])[:12]),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
