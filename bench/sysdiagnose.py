"""A sysdiagnose of about 300 MB with planted traces, side by side: unmask, MVT and iShutdown's rules.

``python -m bench.sysdiagnose [--size-mb 300] [--runs 1] [--no-mvt] [--smoke]``

1. Generates (once, cached under ``bench/data``) a sysdiagnose ``.tar.gz`` with the phone's layout
   (``tests/builders/sysdiagnose.py``) and the traces of ``plant()``: a Pegasus process in
   ``/private/var/db/`` that delayed four of six shutdowns, a QuaDream path, a Predator path
   running at collection, an IMTranscoderAgent crash and a Jetsam report naming the Mac's
   simulator. The bulk is what makes real sysdiagnoses large: unified-log chunks
   (``system_logs.logarchive/Persist/*.tracev3``, pseudo-random, so they do not compress), a few
   thousand ordinary crash reports, and process lists and a spindump of several hundred processes.
2. Times ``unmask check-sysdiagnose`` on it (wall time and peak RSS of the child,
   :mod:`bench.measure`), with the bundled indicator sets.
3. Runs MVT 2026.10.26's ``mvt-ios check-sysdiagnose`` on the same archive with the same
   indicator files (installed in ``bench/.mvt-venv`` by :mod:`bench.peer`), and reads what it wrote.
4. Applies iShutdown's published rules to the same shutdown log, reimplemented here from their
   description (research/peers.md §2.3; facts only, none of its code): the reboot count (SIGTERM
   occurrences), reboots preceded by three or more ``these clients are still here`` notices, and
   every line containing ``/private/var/db/`` or ``/private/var/tmp/``. Like iShutdown it takes the
   first archive member whose name ends with ``shutdown.log``.

Writes ``bench/out/sysdiagnose.md`` and ``bench/out/sysdiagnose.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import shutil
import subprocess
import sys
import tarfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import measure, peer
from bench.generate import BENCH_DIR, DATA_DIR

OUT = BENCH_DIR / "out"
CHUNK = 16 << 20
GENERATOR_VERSION = 3


class _Noise(io.RawIOBase):
    """``size`` pseudo-random bytes from a seed, produced as they are read (never held whole)."""

    def __init__(self, seed: int, size: int) -> None:
        self._rng = random.Random(seed)
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self._left, 1 << 20)
        if n <= 0:
            return 0
        buffer[:n] = self._rng.randbytes(n)
        self._left -= n
        return n


def _ordinary_crashes(count: int, taken: datetime, rng: random.Random) -> dict[str, bytes]:
    """Crash reports of ordinary apps spread over the boots that ``plant()``'s shutdowns imply
    (each boot a minute after a shutdown), with the uptime that matches: what a real phone keeps."""
    from tests.builders.sysdiagnose import ips_crash

    apps = [("MobileSafari", "/Applications/MobileSafari.app/MobileSafari"),
            ("Maps", "/Applications/Maps.app/Maps"),
            ("Photos", "/Applications/MobileSlideShow.app/MobileSlideShow"),
            ("WhatsApp", "/private/var/containers/Bundle/Application/3C1F/WhatsApp.app/WhatsApp"),
            ("assistantd", "/System/Library/PrivateFrameworks/AssistantServices.framework/assistantd"),
            ("Spotify", "/private/var/containers/Bundle/Application/9A2B/Spotify.app/Spotify")]
    boots = [taken - timedelta(days=36)] + [taken - timedelta(days=d) + timedelta(minutes=1) for d in (30, 24, 18, 12, 6, 2)]
    ends = [*boots[1:], taken]
    files: dict[str, bytes] = {}
    for i in range(count):
        name, path = apps[i % len(apps)]
        k = rng.randrange(len(boots))
        span = (ends[k] - boots[k]).total_seconds() - 3600
        when = boots[k] + timedelta(seconds=rng.uniform(600, span))
        data = ips_crash(process=name, path=path, time=when, pid=1000 + i, uptime=int((when - boots[k]).total_seconds()),
                         exception=("EXC_CRASH", ""), signal="SIGABRT", termination=("SIGNAL", 6, "Abort trap: 6"),
                         faulting_thread=rng.randrange(0, 40), thread_name="com.apple.main-thread")
        files[f"crashes_and_spins/{'Retired/' if i % 3 else ''}{name}-{when:%Y-%m-%d-%H%M%S}-{i}.ips"] = data
    return files


def build(size_mb: int, seed: int = 1, *, log: Any = print) -> Path:
    """The benchmark sysdiagnose (about ``size_mb`` MB compressed), generated once."""
    from tests.builders.sysdiagnose import (
        PREDATOR_PATH,
        Proc,
        SysdiagnoseBuilder,
        default_processes,
        plant,
        ps_thread_txt,
        ps_txt,
        spindump_txt,
        taskinfo_txt,
    )

    builder = plant(SysdiagnoseBuilder().minimal())
    target = DATA_DIR / f"sysdiagnose-{size_mb}mb-s{seed}-v{GENERATOR_VERSION}" / f"{builder.name}.tar.gz"
    if target.is_file():
        return target
    log(f"generating a {size_mb} MB sysdiagnose at {target} …")
    rng = random.Random(seed)
    procs = [*default_processes(), Proc(2200, PREDATOR_PATH, "root", 0, 1, "7:02PM", run_seconds=1800)]
    procs += [Proc(3000 + i, f"/System/Library/PrivateFrameworks/Svc{i}.framework/svc{i}d", threads=rng.randrange(1, 30))
              for i in range(600)]
    builder.add("ps.txt", ps_txt(procs))
    builder.add("ps_thread.txt", ps_thread_txt(procs))
    builder.add("taskinfo.txt", taskinfo_txt(procs))
    builder.add("spindump-nosymbols.txt", spindump_txt(procs, taken=builder.taken))
    builder.files.update(_ordinary_crashes(3000, builder.taken, rng))
    fixed = sum(len(v) for v in builder.files.values())
    noise = max(0, size_mb * (1 << 20) - fixed // 4)
    builder.folders.update({"system_logs.logarchive/Persist", "logs/MobileInstallation"})

    def bulk(tar: tarfile.TarFile, mtime: int) -> None:
        left, n = noise, 0
        while left > 0:
            size = min(CHUNK, left)
            n += 1
            info = tarfile.TarInfo(f"{builder.name}/system_logs.logarchive/Persist/{n:016x}.tracev3")
            info.size, info.mode, info.mtime = size, 0o644, mtime
            tar.addfile(info, io.BufferedReader(_Noise(seed * 1000 + n, size)))
            left -= size

    tmp = builder.write_tar(target.parent, file_name=target.name + ".part", more=bulk)
    tmp.replace(target)
    log(f"  {target.stat().st_size / 1e6:.0f} MB")
    return target


# --- iShutdown's rules, as research/peers.md §2.3 describes them ---------------------------------

_SIGTERM = re.compile(r"SIGTERM: \[(\d+)\]")


def ishutdown(archive: Path) -> dict[str, Any]:
    """iShutdown_detect's three outputs on the first member whose name ends with shutdown.log."""
    with tarfile.open(archive, "r:gz") as tar:
        member = next((m for m in tar if m.isfile() and m.name.endswith("shutdown.log")), None)
        if member is None:
            return {"found": False, "note": "no member ending with shutdown.log (iOS 26 names it shutdown.0.log)"}
        handle = tar.extractfile(member)
        assert handle is not None
        text = handle.read().decode("utf-8", "replace")
    lines = text.splitlines()
    reboots = text.count("SIGTERM")
    delayed: list[str] = []
    notices = 0
    for line in lines:
        if "these clients are still here" in line:
            notices += 1
        match = _SIGTERM.search(line)
        if match:
            if notices >= 3:
                delayed.append(datetime.fromtimestamp(int(match.group(1)), UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))
            notices = 0
    suspicious: dict[str, list[str]] = {}
    for folder in ("/private/var/db/", "/private/var/tmp/"):
        suspicious[folder] = [line.split(folder, 1)[1].strip() for line in lines if folder in line]
    return {"found": True, "member": member.name, "reboots": reboots, "delayed": delayed, "suspicious": suspicious}


# --- the runs -------------------------------------------------------------------------------------


def _bundled() -> list[Path]:
    """The bundled sets as published, given to both tools (MVT cannot load unmask's derived ones)."""
    return peer.public_sets()


def run_unmask(archive: Path, iocs: list[Path], out: Path) -> tuple[measure.Run, list[dict[str, Any]]]:
    """``unmask check-sysdiagnose`` on the archive, measured; its alerts."""
    from bench.run import unmask_env

    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(Path(sys.executable).parent / "unmask"), "check-sysdiagnose", str(archive), "--output", str(out),
           "--quiet"]
    for f in iocs:
        cmd += ["--iocs", str(f)]
    run = measure.measure(cmd, log_prefix=OUT / "sysdiagnose-logs" / out.name, env=unmask_env())
    alerts = json.loads((out / "alerts.json").read_text()) if (out / "alerts.json").is_file() else []
    return run, alerts


def run_mvt(archive: Path, iocs: list[Path], out: Path) -> tuple[measure.Run | None, dict[str, Any]]:
    """``mvt-ios check-sysdiagnose`` on the archive, measured; what it wrote and said."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = peer.mvt_env(OUT / "mvt-home")
    helped = subprocess.run([str(peer.MVT_IOS), *peer.GROUP_FLAGS, "check-sysdiagnose", "--help"],
                            capture_output=True, text=True, env=env, check=False, timeout=300)
    if helped.returncode != 0:
        return None, {"exists": False, "help": (helped.stderr or helped.stdout)[-800:]}
    listed = subprocess.run([str(peer.MVT_IOS), *peer.GROUP_FLAGS, "check-sysdiagnose", "--list-modules", str(archive)],
                            capture_output=True, text=True, env=env, check=False, timeout=600)
    cmd = [str(peer.MVT_IOS), *peer.GROUP_FLAGS, "check-sysdiagnose"]
    for f in iocs:
        cmd += ["--iocs", str(f)]
    cmd += ["--output", str(out), str(archive)]
    run = measure.measure(cmd, log_prefix=OUT / "sysdiagnose-logs" / out.name, env=env)
    written = sorted(p.name for p in out.iterdir())
    modules: dict[str, Any] = {}
    for p in sorted(out.glob("*.json")):
        try:
            modules[p.name] = json.loads(p.read_text())
        except ValueError:
            modules[p.name] = "(unreadable)"
    stderr = Path(run.stderr).read_text(errors="replace") if Path(run.stderr).exists() else ""
    stdout = Path(run.stdout).read_text(errors="replace") if Path(run.stdout).exists() else ""
    return run, {
        "exists": True,
        "modules": [line.split("]", 1)[-1].strip() for line in (listed.stdout + listed.stderr).splitlines()
                    if "Modules from" in line or "No forensic sysdiagnose modules" in line
                    or line.strip().startswith("supported_commands")],
        "written": written,
        "alerts": peer.read_alerts(out),
        "outputs": {k: v for k, v in modules.items() if k != "info.json"},
        "log_tail": (stdout + stderr)[-3000:],
    }


def _timings(out: Path) -> str:
    info = out / "info.json"
    if not info.is_file():
        return "n/a"
    t = json.loads(info.read_text()).get("extra", {}).get("timings", {})
    top = sorted(((k, v) for k, v in t.items() if k not in ("parse", "seconds")), key=lambda kv: -kv[1])[:6]
    return ", ".join(f"{k} {v:.2f} s" for k, v in top)


def ios26(iocs: list[Path]) -> dict[str, str]:
    """The planted traces in a small iOS 26 sysdiagnose: what unmask and iShutdown's rules say."""
    from tests.builders.sysdiagnose import SysdiagnoseBuilder, plant

    builder = plant(SysdiagnoseBuilder(build="23B85", version="26.1").minimal())
    log = builder.files.pop("system_logs.logarchive/Extra/shutdown.log")
    builder.shutdown(log, "shutdown.0.log")
    base = OUT / "sysdiagnose-ios26"
    shutil.rmtree(base, ignore_errors=True)
    archive = builder.write_tar(base / "archive")
    run, alerts = run_unmask(archive, iocs, base / "unmask")
    if run.rc not in (0, 1):
        raise RuntimeError(f"unmask failed on the iOS 26 archive: {Path(run.stderr).read_text()[-400:]}")
    rules = Counter(a["rule"] for a in alerts)
    found = ishutdown(archive)
    return {
        "unmask_rules": ", ".join(f"`{k}` {v}" for k, v in sorted(rules.items())),
        "ishutdown": found.get("note", "") if not found.get("found") else
        f"{found['reboots']} reboots, {len(found['delayed'])} delayed",
    }


def _summary(alerts: list[dict[str, Any]]) -> list[str]:
    by = Counter((a["rule"], a["severity"]) for a in alerts)
    lines = [f"- `{rule}` ({sev}): {n}" for (rule, sev), n in sorted(by.items(), key=lambda kv: (kv[0][1], kv[0][0]))]
    for a in alerts:
        if a["rule"] == "indicator":
            lines.append(f"  - {a['observable']['value']} → {a['indicator']['collection']} ({a['indicator']['type']})")
    return lines


def render(doc: dict[str, Any]) -> str:
    """The side-by-side note."""
    u, m, i = doc["unmask"], doc["mvt"], doc["ishutdown"]
    lines = [
        "# A sysdiagnose with planted traces: unmask, MVT and iShutdown side by side",
        "",
        f"Archive: `{doc['archive']}` ({doc['archive_mb']:.0f} MB compressed, {doc['members']:,} members), generated by "
        "`python -m bench.sysdiagnose` from `tests/builders/sysdiagnose.py` (`plant()`): a Pegasus process "
        "(`roleaccountd`) in `/private/var/db/com.apple.xpc.roleaccountd.staging/` delaying 4 of 6 shutdowns (2 of them "
        "with 4 notices), a QuaDream path (`…staging/subridged`) in one shutdown, a Predator path "
        "(`/private/var/tmp/UserEventAgent`) running in ps.txt/taskinfo.txt, an IMTranscoderAgent crash and a Jetsam "
        "report naming `com.apple.CoreSimulator.CoreSimulatorService`; plus 3,000 ordinary crash reports, 600 "
        "processes and unified-log chunks of pseudo-random bytes for the bulk.",
        "",
        f"Machine: {doc['machine']}. Indicators: the {doc['ioc_files']} bundled public STIX files, given to both tools.",
        "",
        "| tool | wall time | peak RSS | exit | what it reports |",
        "|---|---|---|---|---|",
        f"| unmask {doc['unmask_version']} `check-sysdiagnose` | {u['wall']:.1f} s | {u['peak_mb']:.0f} MB | {u['rc']} | "
        f"{len(u['alerts'])} findings ({', '.join(f'{k} {v}' for k, v in u['by_severity'].items() if v)}) |",
    ]
    if m.get("run"):
        lines.append(f"| MVT {doc['mvt_version']} `check-sysdiagnose` | {m['run']['wall']:.1f} s | "
                     f"{m['run']['peak_mb']:.0f} MB | {m['run']['rc']} | {len(m['alerts'])} alerts |")
    else:
        lines.append(f"| MVT `check-sysdiagnose` | – | – | – | {m.get('note', 'not run')} |")
    if i.get("found"):
        lines.append(f"| iShutdown's rules (reference, {i['seconds']:.1f} s) | | | | {i['reboots']} reboots, "
                     f"{len(i['delayed'])} delayed, {sum(len(v) for v in i['suspicious'].values())} suspicious lines |")
    lines += ["", "## unmask", "", f"Runs: {', '.join(f'{w:.1f} s' for w in u['walls'])} (median shown above). Where the "
              f"time goes (info.json timings of the median run): {u['timings']}.", "", *_summary(u["alerts"]), ""]
    if doc.get("ios26"):
        v = doc["ios26"]
        lines += ["## The same traces in an iOS 26 sysdiagnose (`shutdown.0.log`)", "",
                  f"A small archive with build 23B85 and the log named as iOS 26 names it: unmask reports "
                  f"{v['unmask_rules']}; iShutdown's rules: {v['ishutdown']}.", ""]
    lines += ["## MVT 2026.10.26 `mvt-ios check-sysdiagnose`", ""]
    if m.get("run") and m["run"]["rc"] != 0:
        lines += [str(m.get("note")), "", "```", str(m.get("log_tail", ""))[-1500:], "```", ""]
    elif m.get("run"):
        lines += ["What `--list-modules` says:", "", "```", *m["modules"], "```", "",
                  f"Files written: {', '.join(m['written']) or 'none'}.", "",
                  f"Alerts: {len(m['alerts'])}." + (" " + "; ".join(str(a.get('message', a))[:200] for a in m['alerts'][:10])
                                                    if m['alerts'] else ""), "",
                  "What its modules extracted:", "", "```", json.dumps(m["outputs"], indent=1, default=str)[:3000], "```", ""]
    else:
        lines += [str(m.get("note")), ""]
    lines += ["## iShutdown's rules on the same shutdown.log", ""]
    if i.get("found"):
        lines += [f"Member read: `{i['member']}`.", "", f"- reboots (SIGTERM occurrences): {i['reboots']}",
                  f"- reboots after 3 or more 'these clients are still here' notices: {len(i['delayed'])} "
                  f"({', '.join(i['delayed'])})"]
        for folder, hits in i["suspicious"].items():
            lines.append(f"- lines containing `{folder}`: {len(hits)}" + (f" (e.g. `{hits[0]}`)" if hits else ""))
        lines.append("")
        lines.append("It reports lines, not processes or findings: no indicator match, no allow-list, nothing about "
                     "the crash, the process list or the Jetsam report, and on iOS 26 (`shutdown.0.log`) it finds no log.")
    else:
        lines.append(str(i.get("note")))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Generate, run the three, write the note."""
    p = argparse.ArgumentParser(prog="python -m bench.sysdiagnose", description=__doc__.split("\n\n")[0])
    p.add_argument("--size-mb", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--runs", type=int, default=1, help="measured unmask runs (the median is reported)")
    p.add_argument("--no-mvt", action="store_true")
    p.add_argument("--smoke", action="store_true", help="a 20 MB archive, unmask only (CI)")
    args = p.parse_args(argv)
    size = 20 if args.smoke else args.size_mb
    OUT.mkdir(parents=True, exist_ok=True)
    archive = build(size, args.seed)
    with tarfile.open(archive, "r:gz") as tar:
        members = sum(1 for _ in tar)
    iocs = _bundled()
    runs = []
    for n in range(args.runs):
        run, alerts = run_unmask(archive, iocs, OUT / f"sysdiagnose-unmask-{n + 1}")
        print(f"unmask: {run.wall:.1f} s, {run.peak_mb:.0f} MB, exit {run.rc}, {len(alerts)} findings", flush=True)
        runs.append((run, alerts))
    run, alerts = sorted(runs, key=lambda ra: ra[0].wall)[len(runs) // 2]
    from unmask import __version__

    doc: dict[str, Any] = {
        "archive": archive.name, "archive_mb": archive.stat().st_size / 1e6, "members": members,
        "machine": ", ".join(f"{k} {v}" for k, v in measure.machine().items()), "ioc_files": len(iocs),
        "unmask_version": __version__,
        "unmask": {"wall": run.wall, "peak_mb": run.peak_mb, "rc": run.rc, "walls": [r.wall for r, _ in runs],
                   "timings": _timings(OUT / f"sysdiagnose-unmask-{1 + [r for r, _ in runs].index(run)}"),
                   "alerts": alerts, "by_severity": dict(Counter(a["severity"] for a in alerts))},
        "mvt_version": peer.MVT_VERSION,
    }
    doc["ios26"] = ios26(iocs)
    t0 = datetime.now(UTC)
    doc["ishutdown"] = ishutdown(archive)
    doc["ishutdown"]["seconds"] = (datetime.now(UTC) - t0).total_seconds()
    if args.no_mvt or args.smoke:
        doc["mvt"] = {"note": "not run (--no-mvt or --smoke)", "alerts": []}
    else:
        status = peer.ensure_mvt(install=True)
        if not status.available:
            doc["mvt"] = {"note": status.note, "alerts": []}
        else:
            mrun, found = run_mvt(archive, iocs, OUT / "sysdiagnose-mvt")
            doc["mvt"] = {**found, "run": None if mrun is None else
                          {"wall": mrun.wall, "peak_mb": mrun.peak_mb, "rc": mrun.rc}}
            if mrun is None:
                doc["mvt"]["note"] = "mvt-ios has no check-sysdiagnose command"
            else:
                print(f"MVT: {mrun.wall:.1f} s, {mrun.peak_mb:.0f} MB, exit {mrun.rc}, "
                      f"{len(found.get('alerts', []))} alerts", flush=True)
                if mrun.rc != 0:  # a traceback is not "0 alerts"
                    doc["mvt"]["note"] = f"mvt-ios exited {mrun.rc}: its run is no result (log tail below)"
    (OUT / "sysdiagnose.json").write_text(json.dumps(doc, indent=1, default=str))
    note = OUT / ("sysdiagnose-smoke.md" if args.smoke else "sysdiagnose.md")
    note.write_text(render(doc))
    print(f"wrote {note}")
    failed = (doc["mvt"].get("run") or {}).get("rc", 0) != 0
    if failed:
        print(f"FAILED: {doc['mvt']['note']}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
