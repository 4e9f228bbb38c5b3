"""Android, side by side: unmask and ``mvt-android`` 2026.10.26 on generated evidence with planted
traces, and peak memory on a 1,000,000-entry ``files.json``.

``python -m bench.bench_android [--files N] [--no-big] [--no-mvt-big] [--runs N] [--no-install]``
writes ``bench/out/android.md`` (and ``bench/out/android.json``); ``--smoke`` (``make bench-smoke``)
is the CI guard, written to ``bench/out/android-smoke.md``, exiting 1 when unmask misses a planted
trace or flags a look-alike. It

1. builds, in code (``tests/builders/android.py``), an AndroidQF folder as AndroidQF writes it
   (``processes.json``, ``dumpsys.txt`` without a ``bugreport.zip``, ``logcat.txt``…) and an
   ``adb bugreport`` zip (Android 14 dumpstate with its real section delimiters, a tombstone under
   ``FS/data/tombstones``), each with planted traces listed in :data:`AQF_TRACES` and
   :data:`BUGREPORT_TRACES`, plus legitimate look-alikes that nobody should flag;
2. runs ``unmask check-androidqf`` / ``mvt-android check-androidqf`` on the folder and ``unmask
   check-bugreport`` / ``mvt-android check-bugreport`` on the zip, alternating, ``--runs`` times,
   with Echap's published STIX set (unmask also with the patterns it derives from Echap's
   ``ioc.yaml``, which MVT cannot load), and measures wall time and peak RSS (``bench/measure.py``);
3. says for every planted trace which tool reported it, and counts the other alerts;
4. scans an AndroidQF folder whose ``files.json`` lists ``--files`` entries (``bench/android.py``)
   with unmask and, unless ``--no-mvt-big``, with MVT, and reports their peak memory.

MVT runs from ``bench/.mvt-venv`` (``bench/peer.py`` installs it unless ``--no-install``), with
its network checks off and its data folders private; without it, unmask is measured alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.builders.android import (
    AndroidQFBuilder,
    accessibility_v14,
    appops,
    battery_daily,
    battery_history,
    bugreport_text,
    dumpsys_block,
    dumpsys_package,
    package_block,
    package_json,
    settings_text,
    tombstone_text,
    write_bugreport,
)

from bench import measure, peer
from bench.android import big_acquisition
from bench.generate import BENCH_DIR, REPO

OUT = BENCH_DIR / "out"
WORK = OUT / "android"
EVIDENCE = WORK / "evidence"  # apart from the output folders: unmask refuses an output inside the evidence's folder
RUNS = WORK / "runs"
PUBLISHED = REPO / "src/unmask/data/iocs/echap__stalkerware.stix2"
PATTERNS = REPO / "src/unmask/data/iocs/echap__stalkerware-patterns.stix2"
IOCS = [PUBLISHED, PATTERNS]
MVT_IOCS = [PUBLISHED]
"""MVT's indicator loader stops with a traceback on a ``MATCHES`` pattern (:func:`mvt_patterns_probe`),
so MVT gets Echap's published set alone."""
MVT_ANDROID = peer.VENV / "bin" / "mvt-android"

ECHAP_CERT = "31A6ECECD97CF39BC4126B8745CD94A7C30BF81C"  # TheTruthSpy's signing certificate (Echap)
ECHAP_DOMAIN = "thetruthspy.com"  # TheTruthSpy (Echap), in a log line


@dataclass(frozen=True)
class Trace:
    """One planted trace, and how an alert of each tool that reports it reads."""

    name: str
    what: str
    needle: str
    """Text of an unmask alert about it (message, observable or indicator), lower-cased."""
    mvt: str
    """Text of an MVT alert about it (``module: message``), in MVT's wording."""
    rules: tuple[str, ...] = ()
    """unmask rules that report it (any rule when empty)."""


AQF_TRACES = [
    Trace("renamed-cert", "stalkerware renamed to `com.android.sys.update`, signed with TheTruthSpy's certificate "
          "(packages.json)", ECHAP_CERT.lower(), ECHAP_CERT.lower(), ("indicator",)),
    Trace("vendor-org", "an unlisted app signed by KidsShield's vendor (certificate organisation `Tesline-Service SRL`)",
          "tesline-service srl", "tesline", ("indicator",)),
    Trace("build-pattern", "iKeyMonitor's next build, `com.android.internet.a20240105` (Echap lists earlier dates)",
          "com.android.internet.a20240105", "com.android.internet.a20240105", ("indicator",)),
    Trace("running-app", "`com.apspy.app` (TheTruthSpy's app id) running, in processes.json", "com.apspy.app",
          "com.apspy.app"),
    Trace("sideload", "`com.android.sys.update` installed over ADB (installer `null`)",
          "com.android.sys.update was installed", 'installed via adb or another method: "com.android.sys.update"',
          ("android-sideloaded-app",)),
    Trace("play-protect", "Play Protect turned off (`package_verifier_enable=0`)", "package_verifier_enable",
          "package_verifier_enable"),
    Trace("tmp-payload", "`/data/local/tmp/pred.so` (files.json)", "/data/local/tmp/pred.so", "/data/local/tmp/pred.so"),
    Trace("su", "`/system/bin/su` (root_binaries.json)", "/system/bin/su", "/system/bin/su"),
    Trace("accessibility", "an accessibility service of the renamed app, enabled and bound (dumpsys.txt, no "
          "bugreport.zip)", "com.android.sys.update/", "com.android.sys.update/", ("android-accessibility-service",)),
    Trace("removed-app", "`com.wipe.me` installed, then removed (battery history in dumpsys.txt)", "com.wipe.me",
          "com.wipe.me"),
    Trace("log-domain", f"`{ECHAP_DOMAIN}` (TheTruthSpy) in logcat.txt", ECHAP_DOMAIN, ECHAP_DOMAIN),
]
BUGREPORT_TRACES = [
    Trace("app-id", "`com.apspy.app` (TheTruthSpy) installed with no installer (dumpsys package)", "com.apspy.app",
          'app with id "com.apspy.app"', ("indicator",)),
    Trace("accessibility", "its accessibility service, enabled and bound (dumpsys accessibility)", "com.apspy.app/",
          "dumpsys_accessibility:", ("android-accessibility-service",)),
    Trace("install-appop", "a browser allowed to install apps (`REQUEST_INSTALL_PACKAGES`, appops)",
          "request_install_packages", "request_install_packages"),
    Trace("uninstall", "`com.wipe.me` uninstalled (daily stats `Uninstall` line, as AOSP prints it)", "com.wipe.me",
          "com.wipe.me"),
    Trace("downgrade", "`com.chat.app` downgraded from version 310 to 280 (daily stats)", "com.chat.app", "com.chat.app"),
    Trace("old-patch", "security patch 2023-01-05, 16 months before the bugreport", "2023-01-05", "2023-01-05"),
    Trace("crash", "a crash of a root (uid 0) process, netd (FS/data/tombstones)", "netd", "uid '0'"),
    Trace("log-domain", f"`{ECHAP_DOMAIN}` in the system log section", ECHAP_DOMAIN, ECHAP_DOMAIN),
]
LOOK_ALIKES = ["com.thetruthtable.app", "com.tesline.weather", "com.android.internet.browser"]


def _aqf() -> AndroidQFBuilder:
    b = AndroidQFBuilder()
    b.set_json("packages.json", [
        package_json("com.android.sys.update", installer="null", cert_sha1=ECHAP_CERT),
        package_json("com.family.safe.helper", subject="C=MD, O=Tesline-Service SRL, CN=Kids Safety 11-03-2024 09:15:00"),
        package_json("com.android.internet.a20240105"),
        # Look-alikes: store installs, their own certificates.
        package_json("com.thetruthtable.app", subject="C=US, O=Truth Table Inc., CN=Truth"),
        package_json("com.tesline.weather", subject="C=MD, O=Tesline Services SRL, CN=Weather"),
        package_json("com.android.internet.browser", subject="C=US, O=Browser Ltd, CN=Browser"),
        package_json("com.whatsapp", subject="C=US, O=WhatsApp Inc., CN=Brian Acton"),
    ])
    b.set_json("processes.json", [
        {"pid": 1, "uid": 0, "ppid": 0, "filename": "init", "command_line": ["/system/bin/init"], "path": "/system/bin/init"},
        {"pid": 4242, "uid": 10231, "ppid": 700, "filename": "com.apspy.app", "command_line": ["com.apspy.app"]},
        {"pid": 4300, "uid": 10190, "ppid": 700, "filename": "com.whatsapp", "command_line": ["com.whatsapp"]},
    ])
    b.set_text("settings_secure.txt", settings_text({"package_verifier_enable": "0", "accessibility_enabled": "1",
                                                     "enabled_accessibility_services": "com.android.sys.update/.Keys"}))
    b.set_text("settings_global.txt", settings_text({"adb_enabled": "1", "upload_apk_enable": "1"}))
    b.set_json("files.json", [
        {"path": "/data/local/tmp/pred.so", "size": 4096, "mode": "-rwxr-xr-x", "user_id": 2000, "group_id": 2000,
         "modified_time": 1714602600, "changed_time": 1714602600, "access_time": 1714602600},
        {"path": "/sdcard/DCIM/Camera/IMG_0001.jpg", "size": 2_000_000, "mode": "-rw-rw----", "modified_time": 1714500000},
    ])
    b.set_json("root_binaries.json", ["/system/bin/su"])
    b.set_json("mounts.json", ["/dev/block/dm-4 on / type ext4 (ro,seclabel,relatime)",
                               "/dev/block/dm-6 on /vendor type ext4 (ro,seclabel,relatime)"])
    b.set_text("logcat.txt", "05-01 22:31:00.000  4242  4250 I Upload: posting to https://"
               f"{ECHAP_DOMAIN}/api/upload\n05-01 22:31:05.000  4300  4301 I WhatsApp: connected\n")
    b.add_dumpsys("package", dumpsys_package([package_block("com.android.sys.update", installer=None,
                                                            first="2024-04-28 21:00:00"),
                                              package_block("com.whatsapp")]))
    b.add_dumpsys("accessibility", accessibility_v14(["com.android.sys.update/.Keys"], bound=["com.android.sys.update/.Keys"]))
    b.add_dumpsys("batterystats", battery_history("2024-05-01-18-02-17", [
        ("+2h00m00s000ms", 'pkginst=7:"com.wipe.me"'), ("+2h30m00s000ms", '+top=u0a245:"com.wipe.me"'),
        ("+3h00m00s000ms", 'pkgunin=0:"com.wipe.me"')]))
    return b


def _bugreport(path: Path) -> Path:
    props = {
        "ro.product.model": "Pixel 7", "ro.product.manufacturer": "Google", "ro.build.version.release": "14",
        "ro.build.version.security_patch": "2023-01-05",
        "ro.build.fingerprint": "google/panther/panther:14/AP1A.240405.002/11480754:user/release-keys",
        "persist.sys.timezone": "Europe/Paris",
    }
    dumpsys = [
        dumpsys_block("package", dumpsys_package([package_block("com.apspy.app", installer=None, first="2024-04-28 21:00:00",
                                                                granted=("android.permission.READ_SMS",)),
                                                  package_block("com.whatsapp"),
                                                  package_block("com.thetruthtable.app")])),
        dumpsys_block("accessibility", accessibility_v14(["com.apspy.app/.Svc"], bound=["com.apspy.app/.Svc"])),
        dumpsys_block("appops", appops({"com.android.chrome": [("REQUEST_INSTALL_PACKAGES", "allow")],
                                        "com.whatsapp": [("CAMERA", "allow")]})),
        dumpsys_block("batterystats", battery_daily([
            ("2024-05-01-03-00-00", "2024-05-02-03-00-00", [("com.wipe.me", None), ("com.chat.app", 280)]),
            ("2024-04-30-03-00-00", "2024-05-01-03-00-00", [("com.wipe.me", 7), ("com.chat.app", 310)]),
        ])),
    ]
    logcat = ("--------- beginning of main\n"
              f"05-01 22:31:00.000 10231  4242  4250 I Upload: posting to https://{ECHAP_DOMAIN}/api/upload\n")
    text = bugreport_text(props=props, dumpsys=dumpsys, logcat=logcat)
    crash = tombstone_text("/system/bin/netd", uid=0)
    return write_bugreport(path, text, fs={"/data/tombstones/tombstone_00": crash.encode()})


# --- running the tools ------------------------------------------------------------------------------


def _unmask_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNMASK_")}
    env["UNMASK_CACHE_DIR"] = str(WORK / "unmask-cache")
    env["UNMASK_DATA_DIR"] = str(WORK / "unmask-home")
    return env


def unmask_cmd(verb: str, evidence: Path, out: Path, iocs: list[Path]) -> list[str]:
    cmd = [str(Path(sys.executable).parent / "unmask"), verb, str(evidence), "-o", str(out), "-q"]
    for f in iocs:
        cmd += ["--iocs", str(f)]
    return cmd


def mvt_cmd(verb: str, evidence: Path, out: Path, iocs: list[Path]) -> list[str]:
    cmd = [str(MVT_ANDROID), *peer.GROUP_FLAGS, verb]
    for f in iocs:
        cmd += ["--iocs", str(f)]
    if verb == "check-androidqf":
        cmd.append("-n")  # no backup-password prompt
    return [*cmd, "--output", str(out), str(evidence)]


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    return path


def _alerts_unmask(out: Path) -> list[dict[str, Any]]:
    path = out / "alerts.json"
    return list(json.loads(path.read_text())) if path.is_file() else []


def _found(trace: Trace, alerts: list[dict[str, Any]], *, unmask: bool) -> list[dict[str, Any]]:
    """The alerts of one tool that report a trace: by what the alert says (its message, and MVT's
    module or unmask's observable and indicator), never by the record it carries."""
    hits = []
    for a in alerts:
        if unmask:
            if trace.rules and a.get("rule") not in trace.rules:
                continue
            said = json.dumps([a.get("message"), a.get("observable"), a.get("indicator")], default=str)
            needle = trace.needle
        else:
            said, needle = f"{a.get('module', '')}: {a.get('message', '')}", trace.mvt
        if needle.lower() in said.lower():
            hits.append(a)
    return hits


def _summary(alert: dict[str, Any], *, unmask: bool) -> str:
    if unmask:
        return f"{alert.get('severity')} {alert.get('rule')}: {str(alert.get('message'))[:110]}"
    return f"{alert.get('level')} {alert.get('module')}: {str(alert.get('message'))[:110]}"


def side_by_side(name: str, verb: str, evidence: Path, traces: list[Trace], runs: int, mvt: bool,
                 log: Callable[[str], None]) -> dict[str, Any]:
    """Both tools on one piece of evidence, alternating; times, memory, and the planted traces found."""
    home = WORK / "mvt-home"
    tools: dict[str, Any] = {"unmask": {"runs": []}, **({"mvt": {"runs": []}} if mvt else {})}
    outs: dict[str, Path] = {}
    for i in range(runs):
        for tool in tools:
            out = _fresh(RUNS / f"{name}-{tool}-{i}")
            if tool == "unmask":
                run = measure.measure(unmask_cmd(verb, evidence, out, IOCS), log_prefix=RUNS / f"{name}-unmask-{i}",
                                      env=_unmask_env())
            else:
                run = measure.measure(mvt_cmd(verb, evidence, out, MVT_IOCS), log_prefix=RUNS / f"{name}-mvt-{i}",
                                      env=peer.mvt_env(home))
            tools[tool]["runs"].append({"rc": run.rc, "wall": round(run.wall, 2), "cpu": round(run.cpu, 2),
                                        "peak_mb": round(run.peak_mb, 1)})
            outs[tool] = out
            log(f"  {name} {tool} run {i + 1}: exit {run.rc}, {run.wall:.2f} s, {run.peak_mb:.0f} MB")
    result: dict[str, Any] = {"evidence": str(evidence.relative_to(REPO)), "verb": verb, "traces": []}
    alerts = {"unmask": _alerts_unmask(outs["unmask"])}
    if mvt:
        alerts["mvt"] = peer.read_alerts(outs["mvt"])
    explained: dict[str, set[int]] = {t: set() for t in alerts}
    for trace in traces:
        row: dict[str, Any] = {"name": trace.name, "what": trace.what}
        for tool, found in alerts.items():
            hits = _found(trace, found, unmask=tool == "unmask")
            explained[tool].update(id(h) for h in hits)
            row[tool] = [_summary(h, unmask=tool == "unmask") for h in hits]
        result["traces"].append(row)
    for tool, found in alerts.items():
        runs_ = tools[tool]["runs"]
        result[tool] = {
            "exit": runs_[-1]["rc"],
            "median_wall": measure.median([r["wall"] for r in runs_]),
            "median_cpu": measure.median([r["cpu"] for r in runs_]),
            "median_peak_mb": measure.median([r["peak_mb"] for r in runs_]),
            "alerts": len(found),
            "other": [_summary(a, unmask=tool == "unmask") for a in found if id(a) not in explained[tool]],
            "look_alikes_flagged": sorted({la for la in LOOK_ALIKES for a in found
                                           if la in str(a.get("message", ""))}),
        }
    return result


def mvt_patterns_probe(evidence: Path) -> dict[str, Any]:
    """What MVT does when given the patterns file too: its exit status and last line of output."""
    out = _fresh(RUNS / "mvt-patterns")
    run = measure.measure(mvt_cmd("check-androidqf", evidence, out, IOCS), log_prefix=RUNS / "mvt-patterns",
                          env=peer.mvt_env(WORK / "mvt-home"))
    lines = [ln for ln in run.stderr.read_text(errors="replace").splitlines() if ln.strip()]
    return {"rc": run.rc, "last_line": lines[-1].strip()[:200] if lines else ""}


def watched(cmd: list[str], *, log_prefix: Path, env: dict[str, str], limit: float) -> dict[str, Any]:
    """Run ``cmd`` for at most ``limit`` seconds, reading its peak RSS (``VmHWM``) and CPU time from
    /proc once a second: a tool that would run for hours is stopped, and what it had cost by then
    is still known. Its whole process group is stopped (it is started as its own session)."""
    import signal
    import subprocess
    import time

    out, err = log_prefix.with_suffix(".out"), log_prefix.with_suffix(".err")
    tick = os.sysconf("SC_CLK_TCK")
    peak_kb, cpu = 0, 0.0
    started = time.perf_counter()
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(cmd, stdout=o, stderr=e, env=env, start_new_session=True)
        while proc.poll() is None and time.perf_counter() - started < limit:
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
                peak_kb = max(peak_kb, *(int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmHWM:")))
                fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
                cpu = (int(fields[11]) + int(fields[12])) / tick
            except (OSError, ValueError, IndexError):
                pass
            time.sleep(1)
        finished = proc.poll() is not None
        if not finished:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    wall = time.perf_counter() - started
    return {"rc": proc.returncode if finished else None, "finished": finished, "wall": round(wall, 1),
            "cpu": round(cpu, 1), "peak_mb": round(peak_kb / 1024, 1)}


def big_files(files: int, mvt: bool, log: Callable[[str], None], mvt_limit: float) -> dict[str, Any]:
    """Peak memory of a scan of an AndroidQF folder whose files.json lists ``files`` entries."""
    root = EVIDENCE / f"big-{files}"
    if not (root / "files.json").is_file():
        log(f"  writing an AndroidQF folder with a {files:,}-entry files.json …")
        big_acquisition(_fresh(root), files)
    size = (root / "files.json").stat().st_size
    out: dict[str, Any] = {"files": files, "files_json_mb": round(size / 1e6, 1)}
    run = measure.measure([*unmask_cmd("check-androidqf", root, _fresh(RUNS / "big-unmask"), IOCS), "--no-screen"],
                          log_prefix=RUNS / "big-unmask", env=_unmask_env(), timeout=7200)
    out["unmask"] = {"rc": run.rc, "finished": True, "wall": round(run.wall, 1), "cpu": round(run.cpu, 1),
                     "peak_mb": round(run.peak_mb, 1)}
    log(f"  files.json {files:,} entries: unmask exit {run.rc}, {run.wall:.1f} s, {run.peak_mb:.0f} MB")
    if mvt:
        mvt_out = _fresh(RUNS / "big-mvt")
        out["mvt"] = watched(mvt_cmd("check-androidqf", root, mvt_out, MVT_IOCS), log_prefix=RUNS / "big-mvt",
                             env=peer.mvt_env(WORK / "mvt-home"), limit=mvt_limit)
        logged = (mvt_out / "command.log").read_text(errors="replace").splitlines() if (mvt_out / "command.log").is_file() else []
        out["mvt"]["last_log"] = logged[-1].split(" - ", 1)[-1][:160] if logged else ""
        log(f"  files.json {files:,} entries: MVT {out['mvt']}")
    return out


# --- the report ---------------------------------------------------------------------------------------


def _cell(hits: list[str] | None) -> str:
    if hits is None:
        return "n/a"
    return ("**yes**: " + "; ".join(f"`{h}`" for h in hits[:2]) + (" …" if len(hits) > 2 else "")) if hits else "no"


def render(doc: dict[str, Any]) -> str:
    mvt = doc["mvt_status"]
    lines = [
        "# Android: unmask beside mvt-android 2026.10.26",
        "",
        f"Generated by `python -m bench.bench_android` on {doc['machine']} ({doc['date']}); unmask at "
        f"{doc['revision']}; {mvt}; load average {doc.get('load', '?')} when it started (the machine is shared, "
        "so CPU seconds compare the tools better than wall time). Evidence is built in code by "
        "`tests/builders/android.py` (nothing opaque). Indicators: both tools get Echap's published "
        "`echap__stalkerware.stix2`; unmask also gets `echap__stalkerware-patterns.stix2` (the certificate "
        "organisations, certificate-name patterns and build-numbered package names of Echap's `ioc.yaml`, "
        "converted by `tools/echap_stix.py`), which MVT cannot load (see below). Times and memory of the "
        f"side-by-side runs are medians of {doc['runs']} run(s) per tool, alternating; peak memory is the peak "
        "RSS of the tool's process (`bench/measure.py`; for MVT on the big files.json, its `VmHWM`).",
        "",
    ]
    for part in doc["side_by_side"]:
        lines += [f"## `{part['verb']}` on `{part['evidence']}`", ""]
        tools = [t for t in ("unmask", "mvt") if t in part]
        lines += ["| tool | exit | wall (s) | CPU (s) | peak RSS (MB) | alerts | look-alikes flagged |",
                  "|---|---|---|---|---|---|---|"]
        for t in tools:
            r = part[t]
            name = "unmask" if t == "unmask" else "mvt-android"
            lines.append(f"| {name} {part['verb']} | {r['exit']} | {r['median_wall']:.2f} | {r['median_cpu']:.2f} | "
                         f"{r['median_peak_mb']:.0f} | "
                         f"{r['alerts']} | {', '.join(r['look_alikes_flagged']) or 'none'} |")
        lines += ["", "| planted trace | unmask | mvt-android |", "|---|---|---|"]
        for row in part["traces"]:
            lines.append(f"| {row['what']} | {_cell(row.get('unmask'))} | {_cell(row.get('mvt'))} |")
        for t in tools:
            other = part[t]["other"]
            if other:
                lines += ["", f"Other {('unmask' if t == 'unmask' else 'MVT')} alerts ({len(other)}):", ""]
                lines += [f"- `{o}`" for o in other[:20]] + (["- …"] if len(other) > 20 else [])
        found = {t: sum(1 for row in part["traces"] if row.get(t)) for t in tools}
        lines += ["", "Planted traces reported: " + ", ".join(
            f"{'unmask' if t == 'unmask' else 'MVT'} {found[t]} of {len(part['traces'])}" for t in tools) + ".", ""]
    big = doc.get("big")
    if big:
        lines += [f"## Peak memory: AndroidQF folder with a {big['files']:,}-entry files.json ({big['files_json_mb']} MB)", "",
                  "| tool | exit | wall (s) | CPU (s) | peak RSS (MB) |", "|---|---|---|---|---|"]
        for t, name in (("unmask", "unmask check-androidqf"), ("mvt", "mvt-android check-androidqf")):
            r = big.get(t)
            if r is None:
                continue
            rc = r["rc"] if r.get("finished", True) else f"stopped after {r['wall'] / 60:.0f} min"
            lines.append(f"| {name} | {rc} | {r['wall']} | {r['cpu']} | {r['peak_mb']:.0f} |")
        lines += ["", "unmask reads files.json incrementally (ijson) and streams its records to `files.json` in the "
                  "output folder; MVT loads the whole array (mvt #841) and then compares every file's hashes with "
                  "every hash indicator in turn."]
        if "mvt" in big and not big["mvt"].get("finished", True):
            lines += ["", f"MVT was stopped after {big['mvt']['wall'] / 60:.0f} minutes "
                      f"(`--mvt-limit`); its peak RSS by then is shown; its log's last line was "
                      f"`{big['mvt'].get('last_log', '')}`."]
        lines.append("")
    probe = doc.get("mvt_patterns")
    if probe:
        lines += ["## MVT and pattern indicators", "",
                  f"Given `echap__stalkerware-patterns.stix2` as well, `mvt-android check-androidqf` exits {probe['rc']} "
                  f"with a traceback ending in `{probe['last_line']}`: its loader splits every pattern on `=`, so a valid "
                  "STIX `MATCHES` pattern stops the whole run. MVT above was therefore given Echap's published set only.", ""]
    lines += ["## Why the differences", "", *doc["notes"], ""]
    return "\n".join(lines)


NOTES = [
    "- MVT's AQFProcesses reads `ps.txt`; AndroidQF writes `processes.json` (its collector) or `processes.txt`, so "
    "a running stalkerware process is not checked by MVT.",
    "- MVT runs its dumpsys modules only from a `bugreport.zip`; an AndroidQF acquisition with `dumpsys.txt` and no "
    "bugreport gets no accessibility, package, appops or battery analysis from MVT. unmask reads the same sections from "
    "either (the acquisition's own `dumpsys.txt` first).",
    "- Certificate organisations and regular expressions on certificate names and package ids are STIX patterns "
    "(`app:cert.organization = …`, `app:id MATCHES …`) that MVT's indicator loader does not use; unmask matches them "
    "(RE2, linear time).",
    "- Neither logcat (AndroidQF's `logcat.txt`, the bugreport's system log) is read by MVT; unmask matches the "
    "domains, URLs and addresses in it.",
    "- AOSP prints a removal in the daily stats as `Uninstall <package>`; MVT reads only `Update … vers=` lines (and "
    "takes `vers=0` for a removal). unmask reads both, and the battery history's `pkginst`/`pkgunin` events.",
    "- unmask reports an app once when packages.json and `dumpsys package` both describe it, naming both.",
    "- The security-patch rule of unmask measures the patch's age at the acquisition (AndroidQF's `acquisition.json`, "
    "the dumpstate header); MVT's AQFGetProp measures it against the day MVT runs, so a patch that was one month old "
    "when the phone was examined is reported as outdated later.",
]


def _revision() -> str:
    import subprocess

    proc = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True, text=True,
                          check=False)
    return proc.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="unmask beside mvt-android on generated Android evidence")
    parser.add_argument("--files", type=int, default=1_000_000, help="entries of the big files.json (default 1,000,000)")
    parser.add_argument("--no-big", action="store_true", help="skip the big files.json run")
    parser.add_argument("--no-mvt-big", action="store_true", help="run only unmask on the big files.json")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per tool (default 3)")
    parser.add_argument("--no-install", action="store_true", help="do not install MVT when it is missing")
    parser.add_argument("--mvt-limit", type=float, default=3600,
                        help="stop MVT on the big files.json after this many seconds (default 3600)")
    parser.add_argument("--doc", type=Path, default=None, help="markdown report (default bench/out/android.md)")
    parser.add_argument("--smoke", action="store_true",
                        help="CI guard: one run, a 20,000-entry files.json, MVT only if installed; exit 1 when unmask "
                             "misses a planted trace, flags a look-alike or does not exit 1")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="only rewrite the report from a saved bench/out/android.json")
    args = parser.parse_args(argv)
    if args.render:
        (args.doc or OUT / "android.md").write_text(render(json.loads(args.render.read_text())))
        return 0
    if args.smoke:
        args.runs, args.no_install, args.no_mvt_big = 1, True, True
        args.files = min(args.files, 20_000)
    args.doc = args.doc or OUT / ("android-smoke.md" if args.smoke else "android.md")

    def log(msg: str) -> None:
        print(msg, flush=True)

    WORK.mkdir(parents=True, exist_ok=True)
    status = peer.ensure_mvt(install=not args.no_install, log=log)
    log(status.note)
    EVIDENCE.mkdir(parents=True, exist_ok=True)
    aqf = _aqf().write_folder(_fresh(EVIDENCE / "aqf"))
    report = _bugreport(_fresh(EVIDENCE / "bugreport.zip"))
    doc: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {measure.machine().get('cpu', '')}".strip(", "),
        "date": __import__("datetime").date.today().isoformat(),
        "revision": _revision(),
        "mvt_status": status.note,
        "load": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
        "runs": args.runs,
        "side_by_side": [
            side_by_side("aqf", "check-androidqf", aqf, AQF_TRACES, args.runs, status.available, log),
            side_by_side("bugreport", "check-bugreport", report, BUGREPORT_TRACES, args.runs, status.available, log),
        ],
        "notes": NOTES,
    }
    if status.available:
        doc["mvt_patterns"] = mvt_patterns_probe(aqf)
        log(f"  MVT with the patterns file: {doc['mvt_patterns']}")
    if not args.no_big:
        doc["big"] = big_files(args.files, status.available and not args.no_mvt_big, log, args.mvt_limit)
    (OUT / ("android-smoke.json" if args.smoke else "android.json")).write_text(json.dumps(doc, indent=1, default=str))
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    args.doc.write_text(render(doc))
    log(f"wrote {args.doc}")
    problems = [f"{part['verb']}: unmask missed {row['name']}" for part in doc["side_by_side"]
                for row in part["traces"] if not row["unmask"]]
    problems += [f"{part['verb']}: unmask flagged {la}" for part in doc["side_by_side"]
                 for la in part["unmask"]["look_alikes_flagged"]]
    problems += [f"{part['verb']}: unmask exited {part['unmask']['exit']}, not 1" for part in doc["side_by_side"]
                 if part["unmask"]["exit"] != 1]
    if doc.get("big") and doc["big"]["unmask"]["rc"] not in (0, 1):  # no planted trace: 0; never 2 or 3
        problems.append(f"big files.json: unmask exited {doc['big']['unmask']['rc']}")
    for problem in problems:
        log(f"BROKEN: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
