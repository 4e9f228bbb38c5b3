"""Write an iOS sysdiagnose in code, with the layout the phone writes, as a folder or a ``.tar.gz``.

The phone names the archive ``sysdiagnose_YYYY.MM.DD_HH-MM-SS±ZZZZ_<platform>_<device>_<build>.tar.gz``
and puts everything in one top folder of the same name (research/peers.md appendix B; the iOS 18/26
structure notes of AutismIsForDorks/ios-sysdiagnose-reference, structure/overview.md). Inside:

- command outputs at the top: ``ps.txt``, ``ps_thread.txt``, ``taskinfo.txt``,
  ``spindump-nosymbols.txt``, ``remotectl_dumpstate.txt``, ``sysdiagnose.log``;
- ``crashes_and_spins/`` with crash and diagnostic reports (``.ips``: a one-line JSON header and a
  JSON or text body; ``JetsamEvent-*.ips``);
- ``system_logs.logarchive/`` with ``Info.plist``, ``Persist/*.tracev3`` and ``Extra/shutdown.log``
  (``shutdown.0.log`` on iOS 26, iLEAPP PR #2205);
- ``logs/`` with copies of device files (``logs/SystemVersion/SystemVersion.plist``,
  ``logs/Accessibility/TCC.db``, ``logs/MobileInstallation/…``) and ``summaries/``.

Every text format is written the way the published parsers read it (EC-DIGIT-CSIRC/sysdiagnose
parsers and tests, iShutdown, MVT ``ShutdownLog``); the cited sources are in each parser's
docstring. Nothing here is a real device's data: the files only carry the structure under test.
"""

from __future__ import annotations

import io
import json
import plistlib
import tarfile
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

DEFAULT_TIME = datetime(2025, 11, 23, 0, 36, 23, tzinfo=UTC)
"""When the default sysdiagnose was taken (19:36:23 at -0500 on the device)."""
DEFAULT_OFFSET = "-0500"
PS_HEADER_IOS16 = (
    "USER               UID PRSNA   PID  PPID        F  %CPU %MEM PRI NI      VSZ    RSS WCHAN    TT  STAT "
    "STARTED      TIME COMMAND"
)
PS_HEADER_OLD = (
    "USER             UID   PID  PPID  %CPU %MEM PRI NI      VSZ    RSS WCHAN    TT  STAT STARTED      TIME COMMAND"
)
PS_THREAD_HEADER = "USER             UID   PID  PPID   TT  %CPU STAT PRI     STIME     UTIME COMMAND"


def zone_of(offset: str) -> timezone:
    """``-0500`` as a fixed time zone."""
    sign = -1 if offset.startswith("-") else 1
    return timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))


def local_text(when: datetime, offset: str, fraction: int = 2) -> str:
    """``2025-11-22 19:29:43.00 -0500``: the time form of crash report headers."""
    local = when.astimezone(zone_of(offset))
    frac = f".{local.microsecond:06d}"[: fraction + 1] if fraction else ""
    return local.strftime("%Y-%m-%d %H:%M:%S") + frac + " " + offset


def client_uuid(seed: str) -> str:
    """A stable binary UUID for a shutdown.log client (upper case, as the log writes it)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed)).upper()


# --- shutdown.log -------------------------------------------------------------------------------


@dataclass
class Reboot:
    """One shutdown as shutdown.log records it: delay notices, each naming the clients still
    there, then the SIGTERM line with the Unix time."""

    time: datetime | None
    notices: list[tuple[float, list[tuple[int, str]]]] = field(default_factory=list)
    one_line: bool = False
    """The older form: ``After 0.1s, remaining client pid: 155 (/usr/libexec/nfcd)`` per client."""
    uuids: bool = True
    """Clients carry a trailing binary-UUID path component (seen from 2021 to iOS 26)."""


def shutdown_log(reboots: Sequence[Reboot], *, header: bool = True) -> bytes:
    """A shutdown.log: per reboot its delay notices (multi-line ``these clients are still here``
    form, or the one-line form) and the ``SIGTERM: [<epoch>] All buffers flushed`` line."""
    lines: list[str] = []
    for reboot in reboots:
        if header:
            lines.append("%%%%% Entering phase: Waiting for apps to exit")
        for delay, clients in reboot.notices:
            shown = [(pid, f"{path}/{client_uuid(path)}" if reboot.uuids else path) for pid, path in clients]
            if reboot.one_line:
                lines.extend(f"After {delay:.2f}s, remaining client pid: {pid} ({path})" for pid, path in shown)
            else:
                lines.append(f"After {delay:.2f}s, these clients are still here:")
                lines.extend(f"\t\tremaining client pid: {pid} ({path})" for pid, path in shown)
        if reboot.time is not None:
            lines.append(f"SIGTERM: [{int(reboot.time.timestamp())}] All buffers flushed")
    return ("\n".join(lines) + "\n").encode() if lines else b""


def delayed(time: datetime, clients: Sequence[tuple[int, str]], notices: int = 1, **kwargs: Any) -> Reboot:
    """A reboot delayed by ``notices`` notices, each naming the same clients."""
    return Reboot(time, [(round(0.5 + i * 0.5, 2), list(clients)) for i in range(notices)], **kwargs)


# --- crash and diagnostic reports -----------------------------------------------------------------


def ips_crash(
    *,
    process: str,
    path: str,
    time: datetime,
    offset: str = DEFAULT_OFFSET,
    pid: int = 412,
    bug_type: str = "309",
    exception: tuple[str, str] = ("EXC_BAD_ACCESS", "KERN_INVALID_ADDRESS at 0x0000000000000010"),
    signal: str = "SIGSEGV",
    termination: tuple[str, int, str] = ("SIGNAL", 11, "Segmentation fault: 11"),
    faulting_thread: int = 3,
    thread_name: str = "com.apple.imagent.transcode",
    uptime: int = 86_000,
    os_version: str = "iPhone OS 17.2.1 (21C66)",
    build: str = "21C66",
    model: str = "iPhone14,2",
    bundle_id: str | None = None,
    parent: str = "launchd",
) -> bytes:
    """A ``.ips`` crash report in the two-part JSON form (iOS 15 and later): a one-line header,
    then the body (bug_type 309), as AutismIsForDorks/ios-sysdiagnose-reference formats/ips.md
    describes them."""
    incident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{process}{time.isoformat()}")).upper()
    header = {
        "app_name": process, "timestamp": local_text(time, offset), "app_version": "", "slice_uuid": incident.lower(),
        "build_version": "", "platform": 2, "bundleID": bundle_id or f"com.apple.{process}",
        "share_with_app_devs": 0, "is_first_party": 1, "bug_type": bug_type, "os_version": os_version,
        "roots_installed": 0, "name": process, "incident_id": incident,
    }
    threads = [{"id": 1000 + i, "frames": [{"imageOffset": 4096 * i, "imageIndex": 0}]} for i in range(faulting_thread + 1)]
    threads[faulting_thread]["name"] = thread_name
    threads[faulting_thread]["triggered"] = True
    body = {
        "uptime": uptime, "procRole": "Unspecified", "version": 2, "userID": 501, "deployVersion": 210,
        "modelCode": model, "coalitionID": 101, "osVersion": {"isEmbedded": True, "train": os_version.split(" (")[0],
                                                           "releaseType": "User", "build": build},
        "captureTime": local_text(time, offset, 4), "incident": incident, "pid": pid, "cpuType": "ARM-64",
        "procName": process, "procPath": path, "parentProc": parent, "parentPid": 1,
        "bundleInfo": {"CFBundleIdentifier": bundle_id or f"com.apple.{process}"},
        "exception": {"type": exception[0], "subtype": exception[1], "signal": signal,
                      "codes": "0x0000000000000001, 0x0000000000000010"},
        "termination": {"namespace": termination[0], "code": termination[1], "indicator": termination[2],
                        "byProc": "exc handler", "byPid": pid, "flags": 0},
        "faultingThread": faulting_thread, "threads": threads,
        "usedImages": [{"base": 4_294_967_296, "size": 65536, "uuid": incident.lower(), "path": path, "name": process}],
    }
    return (json.dumps(header) + "\n" + json.dumps(body, indent=2) + "\n").encode()


def ips_text_crash(
    *,
    process: str,
    path: str,
    time: datetime,
    offset: str = DEFAULT_OFFSET,
    pid: int = 412,
    exception: str = "EXC_BAD_ACCESS (SIGSEGV)",
    subtype: str = "KERN_INVALID_ADDRESS at 0x0000000000000010",
    termination: str = "Namespace SIGNAL, Code 0xb",
    triggered: int = 3,
    os_version: str = "iPhone OS 14.4 (18D52)",
    header: bool = True,
) -> bytes:
    """A crash report in the older text form: a one-line JSON header (bug_type 109) and the text
    report iOS 14 and earlier wrote (``.ips``), or the text alone (``.crash``, ``header=False``)."""
    incident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"text{process}{time.isoformat()}")).upper()
    head = json.dumps({
        "app_name": process, "timestamp": local_text(time, offset), "app_version": "", "slice_uuid": incident.lower(),
        "adam_id": 0, "build_version": "", "bundleID": f"com.apple.{process}", "share_with_app_devs": False,
        "is_first_party": True, "bug_type": "109", "os_version": os_version, "incident_id": incident, "name": process,
    })
    text = f"""Incident Identifier: {incident}
CrashReporter Key:   0000000000000000000000000000000000000000
Hardware Model:      iPhone12,1
Process:             {process} [{pid}]
Path:                {path}
Identifier:          com.apple.{process}
Version:             1.0 (1)
Code Type:           ARM-64 (Native)
Role:                Unspecified
Parent Process:      launchd [1]
Coalition:           com.apple.{process} [{pid}]

Date/Time:           {local_text(time, offset, 4)}
Launch Time:         {local_text(time - timedelta(hours=1), offset, 4)}
OS Version:          {os_version}
Release Type:        User
Baseband Version:    2.04.04
Report Version:      104

Exception Type:  {exception}
Exception Subtype: {subtype}
VM Region Info: 0x10 is not in any region.
Termination Signal: Segmentation fault: 11
Termination Reason: {termination}
Terminating Process: exc handler [{pid}]
Triggered by Thread:  {triggered}

Thread 0 name:  Dispatch queue: com.apple.main-thread
Thread 0:
0   libsystem_kernel.dylib        \t0x00000001bf1a1234 mach_msg_trap + 8

Thread {triggered} Crashed:
0   ImageIO                       \t0x00000001a0b01234 0x1a0a00000 + 1053236

Binary Images:
0x100000000 - 0x100007fff {process} arm64e  <{incident.lower().replace('-', '')}> {path}

EOF
"""
    return ((head + "\n") if header else "").encode() + text.encode()


def jetsam_event(
    *,
    time: datetime,
    processes: Sequence[tuple[str, int, str | None]],
    largest: str,
    offset: str = DEFAULT_OFFSET,
    os_version: str = "iPhone OS 17.2.1 (21C66)",
) -> bytes:
    """A ``JetsamEvent-*.ips`` (bug_type 298): every process at the time, the killed ones with a
    ``reason``."""
    incident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"jetsam{time.isoformat()}")).upper()
    header = {"bug_type": "298", "timestamp": local_text(time, offset), "os_version": os_version,
              "incident_id": incident}
    body = {
        "crashReporterKey": "0" * 40, "kernel": "Darwin Kernel Version 23.2.0", "product": "iPhone14,2",
        "incident": incident, "date": local_text(time, offset), "build": os_version, "timeDelta": 7,
        "memoryStatus": {"compressorSize": 1000, "pageSize": 16384},
        "largestProcess": largest,
        "genCounter": 0,
        "processes": [
            {"pid": pid, "name": name, "states": ["daemon"], "rpages": 100 + pid, "lifetimeMax": 200,
             **({"reason": reason} if reason else {})}
            for name, pid, reason in processes
        ],
    }
    return (json.dumps(header) + "\n" + json.dumps(body, indent=1) + "\n").encode()


# --- process lists --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    """One process of the moment the sysdiagnose was taken."""

    pid: int
    command: str
    user: str = "mobile"
    uid: int = 501
    ppid: int = 1
    started: str = "7:22PM"
    threads: int = 2
    run_seconds: int = 3600


def default_processes() -> list[Proc]:
    """A few of the processes every iPhone runs (paths from a real iOS 18 ps.txt, per
    AutismIsForDorks/ios-sysdiagnose-reference artifacts/ps.md)."""
    return [
        Proc(1, "/sbin/launchd", "root", 0, 0, "Tue09PM", 4, 5 * 86400),
        Proc(33, "/usr/libexec/logd", "_logd", 272, 1, "Tue09PM"),
        Proc(35, "/System/Library/CoreServices/SpringBoard.app/SpringBoard", "mobile", 501, 1, "Tue09PM"),
        Proc(64, "/System/Library/PrivateFrameworks/IDS.framework/identityservicesd.app/identityservicesd"),
        Proc(88, "/System/Library/PrivateFrameworks/IMCore.framework/imagent.app/imagent"),
        Proc(120, "/usr/libexec/locationd", "_locationd", 205, 1, "Tue09PM"),
        Proc(430, "/Applications/MobileSafari.app/MobileSafari", started="7:02PM"),
    ]


def ps_txt(processes: Iterable[Proc], *, old: bool = False) -> bytes:
    """``ps.txt``: the header of iOS 16+ (with PRSNA and F) or the older one, one row per process."""
    rows = [PS_HEADER_OLD if old else PS_HEADER_IOS16]
    for p in processes:
        if old:
            rows.append(f"{p.user:<16} {p.uid:>4} {p.pid:>5} {p.ppid:>5}   0.0  0.1  31  0  4226848   8912 -        ??  "
                        f"Ss   {p.started:>7}   0:01.00 {p.command}")
        else:
            rows.append(f"{p.user:<16} {p.uid:>5}     - {p.pid:>5} {p.ppid:>5}     4004   0.0  0.0  31  0        0      0 "
                        f"-        ??  Ss   {p.started:>7}   0:00.10 {p.command}")
    return ("\n".join(rows) + "\n").encode()


def ps_thread_txt(processes: Iterable[Proc]) -> bytes:
    """``ps_thread.txt`` (``ps -M``): a process row (with the ``??`` TT column and the command)
    followed by one row per further thread without them (the distinction EC-DIGIT's psthread
    parser relies on)."""
    rows = [PS_THREAD_HEADER]
    for p in processes:
        rows.append(f"{p.user:<16} {p.uid:>4} {p.pid:>5} {p.ppid:>5}   ??   0.0 S     31T   0:00.01   0:00.02 {p.command}")
        rows.extend(f"{p.user:<16} {p.uid:>4} {p.pid:>5} {p.ppid:>5}        0.0 S     31T   0:00.00   0:00.00"
                    for _ in range(max(0, p.threads - 1)))
    return ("\n".join(rows) + "\n").encode()


def taskinfo_txt(processes: Sequence[Proc]) -> bytes:
    """``taskinfo.txt``: ``num tasks: N``, then per task a ``process: "name" [pid]`` block of
    tab-indented ``key: value`` lines with its ``run time`` and its threads (layout as read by
    EC-DIGIT's taskinfo parser)."""
    out = [f"num tasks: {len(processes)}", ""]
    for p in processes:
        name = p.command.rsplit("/", 1)[-1]
        out += [
            f'process: "{name}" [{p.pid}]',
            "\tarchitecture: arm64e",
            "\tcoalition (type 0) ID: 101",
            f"\tuid: {p.uid}",
            f"\trun time: {p.run_seconds} s",
            "\tuser/system time: 0.100000 s / 0.200000 s",
            "\tthreads:",
        ]
        for t in range(p.threads):
            out += [f"\t\tthread ID: 0x{0x1000 + t:x} / {4000 + t}", "\t\tuser/system time: 0.0 s / 0.0 s"]
        out += ["", ""]
    return "\n".join(out).encode()


def spindump_txt(processes: Sequence[Proc], *, taken: datetime, offset: str = DEFAULT_OFFSET,
                 since_boot: int = 5 * 86400, os_version: str = "iPhone OS 17.2.1 (Build 21C66)") -> bytes:
    """``spindump-nosymbols.txt``: the header (Date/Time, OS Version, Time Since Boot) and one
    ``Process:`` block per process (layout of AutismIsForDorks/ios-sysdiagnose-reference
    artifacts/spindump.md)."""
    out = [
        f"Date/Time:        {local_text(taken, offset, 3)}",
        f"End time:         {local_text(taken + timedelta(seconds=2), offset, 3)}",
        f"OS Version:       {os_version}",
        "Architecture:     arm64e",
        "Report Version:   67",
        "",
        "Data Source:      Stackshots",
        "Duration:         2.00s",
        "Steps:            8 (250ms sampling interval)",
        "",
        "Hardware model:   iPhone14,2",
        "Active cpus:      6",
        f"Time Since Boot:  {since_boot}s",
        "",
    ]
    for p in processes:
        name = p.command.rsplit("/", 1)[-1]
        out += [
            f"Process:          {name} [{p.pid}]",
            f"UUID:             {client_uuid(p.command)}",
            f"Path:             {p.command}",
            f"Identifier:       {name}",
            f"Parent:           launchd [{p.ppid}]",
            f"UID:              {p.uid}",
            "Footprint:        1024 KB",
            f"Time Since Fork:  {p.run_seconds}s",
            "Num samples:      8 (1-8)",
            "",
            f"  Thread 0x{p.pid:x}    8 samples (1-8)    priority 31 (base 31)",
            "  8  ??? (dyld + 1234) [0x1000]",
            "",
        ]
    return "\n".join(out).encode()


# --- the archive ----------------------------------------------------------------------------------


def archive_name(taken: datetime = DEFAULT_TIME, offset: str = DEFAULT_OFFSET, build: str = "21C66",
                 device: str = "iPhone", platform: str = "iPhone-OS") -> str:
    """``sysdiagnose_2025.11.22_19-36-23-0500_iPhone-OS_iPhone_21C66``: the phone's name for it."""
    local = taken.astimezone(zone_of(offset))
    return f"sysdiagnose_{local.strftime('%Y.%m.%d_%H-%M-%S')}{offset}_{platform}_{device}_{build}"


class SysdiagnoseBuilder:
    """Files of one sysdiagnose, by path inside its top folder; written as a folder or a ``.tar.gz``.

    ``minimal()`` adds what every sysdiagnose holds; tests add the artefacts they need.
    """

    def __init__(self, *, taken: datetime = DEFAULT_TIME, offset: str = DEFAULT_OFFSET, build: str = "21C66",
                 version: str = "17.2.1", model: str = "iPhone14,2") -> None:
        self.taken = taken
        self.offset = offset
        self.build = build
        self.version = version
        self.model = model
        self.name = archive_name(taken, offset, build)
        self.files: dict[str, bytes] = {}
        self.folders: set[str] = set()
        self.links: dict[str, str] = {}

    def add(self, path: str, data: bytes) -> SysdiagnoseBuilder:
        """A file at ``path`` inside the top folder."""
        self.files[path] = data
        return self

    def folder(self, path: str) -> SysdiagnoseBuilder:
        """An empty folder (the phone writes some, such as ``crashes_and_spins/Panics``)."""
        self.folders.add(path)
        return self

    def link(self, path: str, target: str) -> SysdiagnoseBuilder:
        """A symbolic link (for hostile-evidence tests)."""
        self.links[path] = target
        return self

    def minimal(self, processes: Sequence[Proc] | None = None) -> SysdiagnoseBuilder:
        """The files every sysdiagnose has: the command outputs, the log archive skeleton,
        SystemVersion.plist, sysdiagnose.log, and the folder layout."""
        procs = list(processes) if processes is not None else default_processes()
        local = self.taken.astimezone(zone_of(self.offset))
        stamp = local.strftime("%Y.%m.%d_%H-%M-%S") + self.offset
        self.add("sysdiagnose.log", (
            f"{local.strftime('%a %b %d %H:%M:%S %Y')}: sysdiagnose version 3.0\n"
            f"Creating IN_PROGRESS_sysdiagnose_{stamp}_iPhone-OS_iPhone_{self.build}\n"
            f"Output: /private/var/mobile/Library/Logs/CrashReporter/DiagnosticLogs/sysdiagnose/{self.name}.tar.gz\n"
        ).encode())
        self.add("ps.txt", ps_txt(procs))
        self.add("ps_thread.txt", ps_thread_txt(procs))
        self.add("taskinfo.txt", taskinfo_txt(procs))
        self.add("spindump-nosymbols.txt", spindump_txt(procs, taken=self.taken, offset=self.offset))
        self.add("remotectl_dumpstate.txt", (
            "Local device\n\tUUID: 00000000-0000-0000-0000-000000000000\n\tMessaging Protocol Version: 3\n"
            f"\tProduct Type: {self.model}\n\tOS Build: {self.version} ({self.build})\n\tProperties:\n"
            f"\t\tBuildVersion => {self.build}\n\t\tOSVersion => {self.version}\n\t\tProductType => {self.model}\n"
            "\t\tSerialNumber => XXXXXXXXXXXX\n\t\tUniqueDeviceID => 0000000000000000000000000000000000000000\n"
        ).encode())
        self.add("logs/SystemVersion/SystemVersion.plist", plistlib.dumps({
            "ProductBuildVersion": self.build, "ProductCopyright": "1983-2025 Apple Inc.", "ProductName": "iPhone OS",
            "ProductVersion": self.version, "SystemImageID": "00000000-0000-0000-0000-000000000000",
        }))
        self.add("system_logs.logarchive/Info.plist", plistlib.dumps({
            "ArchiveIdentifier": "00000000-0000-0000-0000-000000000001", "OSArchiveVersion": 5,
            "EndTimeRef": {"WallTime": int(self.taken.timestamp()) * 10**9},
        }))
        self.add("system_logs.logarchive/Persist/0000000000000001.tracev3", b"\x00\x10\x00\x00" + bytes(60))
        self.add("summaries/crashes_and_spins.log", b"")
        self.folder("crashes_and_spins/Panics")
        self.folder("logs/MobileInstallation")
        return self

    def shutdown(self, data: bytes, name: str = "shutdown.log") -> SysdiagnoseBuilder:
        """The shutdown log copy in ``system_logs.logarchive/Extra/``."""
        return self.add(f"system_logs.logarchive/Extra/{name}", data)

    def crash(self, name: str, data: bytes) -> SysdiagnoseBuilder:
        """A report in ``crashes_and_spins/`` (``name`` may hold a subfolder)."""
        return self.add(f"crashes_and_spins/{name}", data)

    # -- writing ---------------------------------------------------------------------------------

    def write_folder(self, parent: Path) -> Path:
        """The extracted folder ``parent/<name>/``; returns it."""
        root = parent / self.name
        root.mkdir(parents=True, exist_ok=False)
        for folder in sorted(self.folders):
            (root / folder).mkdir(parents=True, exist_ok=True)
        for path, data in sorted(self.files.items()):
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for path, target_name in self.links.items():
            link = root / path
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(target_name)
        return root

    def write_tar(self, parent: Path, *, file_name: str | None = None, level: int = 6,
                  more: Callable[[tarfile.TarFile, int], None] | None = None) -> Path:
        """The ``.tar.gz`` the phone writes (``parent/<name>.tar.gz``), folders before their files;
        ``more(tar, mtime)`` adds members streamed from elsewhere last (the benchmark's bulk)."""
        parent.mkdir(parents=True, exist_ok=True)
        target = parent / (file_name or f"{self.name}.tar.gz")
        mtime = int(self.taken.timestamp())
        with tarfile.open(target, "w:gz", compresslevel=level, format=tarfile.PAX_FORMAT) as tar:
            folders = {self.name} | {f"{self.name}/{f}" for f in self.folders}
            for path in self.files:
                parts = path.split("/")[:-1]
                folders.update(f"{self.name}/" + "/".join(parts[: i + 1]) for i in range(len(parts)))
            for folder in sorted(folders):
                info = tarfile.TarInfo(folder)
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, mtime
                tar.addfile(info)
            for path, data in sorted(self.files.items()):
                info = tarfile.TarInfo(f"{self.name}/{path}")
                info.size, info.mode, info.mtime = len(data), 0o644, mtime
                tar.addfile(info, io.BytesIO(data))
            for path, target_name in self.links.items():
                info = tarfile.TarInfo(f"{self.name}/{path}")
                info.type, info.linkname, info.mtime = tarfile.SYMTYPE, target_name, mtime
                tar.addfile(info)
            if more is not None:
                more(tar, mtime)
        return target


def days_before(when: datetime, days: float) -> datetime:
    """``days`` before ``when`` (tests read better with it)."""
    return when - timedelta(days=days)


__all__ = [
    "DEFAULT_TIME",
    "Proc",
    "Reboot",
    "SysdiagnoseBuilder",
    "archive_name",
    "days_before",
    "default_processes",
    "delayed",
    "ips_crash",
    "ips_text_crash",
    "jetsam_event",
    "ps_thread_txt",
    "ps_txt",
    "run_on",
    "shutdown_log",
    "spindump_txt",
    "taskinfo_txt",
]


def run_on(parser: Any, builder: SysdiagnoseBuilder, where: Path, *, tar: bool = False) -> tuple[list[Any], Any]:
    """Write ``builder`` (a folder, or its ``.tar.gz``) under ``where`` and run one parser class on
    it; returns the records and the coverage."""
    from unmask.acquisition.registry import open_acquisition
    from unmask.parsers.base import run_parser

    root = builder.write_tar(where) if tar else builder.write_folder(where)
    with open_acquisition(root, kind="ios-sysdiagnose") as acq:
        return run_parser(parser(), acq)


# --- a sysdiagnose with planted traces (demo, end-to-end tests, benchmark) -----------------------

PEGASUS_CLIENT = "/private/var/db/com.apple.xpc.roleaccountd.staging/roleaccountd"
"""``roleaccountd`` is a Pegasus process name in Amnesty's set; the folder is the one Kaspersky saw."""
QUADREAM_PATH = "/private/var/db/com.apple.xpc.roleaccountd.staging/subridged"
"""A QuaDream KingSpawn file path of the mvt-indicators set."""
PREDATOR_PATH = "/private/var/tmp/UserEventAgent"
"""A Cytrox/Predator file path of Amnesty's set."""
SIMULATOR = "com.apple.CoreSimulator.CoreSimulatorService"
IMTRANSCODER = ("/System/Library/PrivateFrameworks/IMTranscoding.framework/XPCServices/IMTranscoderAgent.xpc/"
                "IMTranscoderAgent")
PLANTED_RULES = frozenset({
    "indicator", "shutdown-writable-path", "shutdown-persistent-client", "shutdown-delayed-reboot",
    "crash-message-parser", "process-impossible-name", "process-writable-path",
})
"""The rules a scan of :func:`plant` fires, and nothing else."""


def plant(builder: SysdiagnoseBuilder) -> SysdiagnoseBuilder:
    """Traces of three families in one sysdiagnose: a Pegasus process that delayed four of six
    shutdowns from /private/var/db/, a QuaDream path once, a Predator path running at collection,
    an IMTranscoderAgent crash and a Jetsam report naming the Mac's simulator."""
    t = builder.taken
    ordinary = [(153, "/usr/sbin/filecoordinationd"), (0, "/kernel")]
    reboots = []
    for day in (30, 24, 18, 12, 6, 2):
        clients = list(ordinary)
        if day in (24, 18, 12, 6):
            clients.append((2143 + day, PEGASUS_CLIENT))
        if day == 12:
            clients.append((3000, QUADREAM_PATH))
        reboots.append(delayed(t - timedelta(days=day), clients, notices=4 if day in (18, 6) else 1))
    builder.shutdown(shutdown_log(reboots))
    procs = [*default_processes(), Proc(2200, PREDATOR_PATH, "root", 0, 1, "7:02PM", run_seconds=1800)]
    builder.add("ps.txt", ps_txt(procs)).add("taskinfo.txt", taskinfo_txt(procs))
    # Booted two days ago, just after the last shutdown: the crash's uptime says so.
    crash_at = t - timedelta(hours=5)
    uptime = int((crash_at - (t - timedelta(days=2) + timedelta(minutes=1))).total_seconds())
    builder.crash(f"IMTranscoderAgent-{crash_at:%Y-%m-%d-%H%M%S}.ips",
                  ips_crash(process="IMTranscoderAgent", path=IMTRANSCODER, time=crash_at, uptime=uptime))
    builder.crash(f"JetsamEvent-{crash_at:%Y-%m-%d-%H%M%S}.ips",
                  jetsam_event(time=crash_at + timedelta(minutes=30),
                               processes=[("SpringBoard", 35, None), (SIMULATOR, 2301, None),
                                          ("MobileSafari", 430, "per-process-limit")],
                               largest="MobileSafari"))
    return builder
