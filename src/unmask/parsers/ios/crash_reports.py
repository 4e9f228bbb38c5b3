"""Crash and diagnostic reports (``.ips``, ``.crash``): which process failed, how, and when.

Exploits that break a parser leave its crash report behind; Citizen Lab found ``IMTranscoderAgent``
crashes around FORCEDENTRY deliveries and iVerify names crash reports among the places Pegasus
traces were found (research/peers.md H14, H28). Reports also name processes: a crash report its
faulting process, a ``JetsamEvent`` report (bug type 298) every process alive when memory ran out.

Where: ``/private/var/mobile/Library/Logs/CrashReporter/`` on the device, with subfolders
(``Retired/``, ``Panics/``, ``Assistant/``…); ``crashes_and_spins/`` in a sysdiagnose (SAF
``crashlogs`` globs ``crashes_and_spins/**/*.ips``; its ``summaries/crashes_and_spins.log`` lists
the same files under the device folder).

Forms (AutismIsForDorks/ios-sysdiagnose-reference formats/ips.md, SAF ``crashlogs``):

- the **two-part JSON** form (iOS 15 and later): a one-line JSON header (``bug_type``,
  ``timestamp``, ``app_name``/``name``, ``os_version``, ``incident_id``, ``bundleID``), then a JSON
  body: ``procName``, ``procPath``, ``pid``, ``parentProc``, ``captureTime``, ``uptime`` (seconds
  since boot), ``exception`` (``type``, ``subtype``, ``signal``, ``codes``), ``termination``
  (``namespace``, ``code``, ``indicator``), ``faultingThread`` and ``threads``, ``modelCode``,
  ``osVersion``, ``bundleInfo``; Jetsam and stackshot reports list ``processes`` (``name`` or
  ``procName``, ``pid``, a ``reason`` on the killed ones) and ``largestProcess``;
- the **older text** form (iOS 14 and earlier): the JSON header line, then ``Key: value`` lines
  (``Process:  imagent [412]``, ``Path:``, ``Parent Process:``, ``Date/Time:``, ``OS Version:``,
  ``Exception Type:  EXC_BAD_ACCESS (SIGSEGV)``, ``Exception Subtype:``, ``Termination Reason:``,
  ``Triggered by Thread:``/``Crashed Thread:``), also written without a header as ``.crash``;
- a body in another form (a plist, truncated JSON) keeps what the header says (``form``
  ``header-only``).

Times carry their offset (``2025-11-22 19:29:43.48 -0500``): ``captureTime`` (or the text form's
``Date/Time``, a Jetsam report's ``date``) is preferred to the header's ``timestamp``. ``booted``
is the capture time less the ``uptime``: the boot the report belongs to, which the reboot history
uses. A report is read whole within :attr:`CrashReportsParser.max_bytes` (decompressed if need be,
:func:`unmask.formats.text.open_text`); a JSON body goes to the json module, a text body is split by
:func:`unmask.formats.text.iter_lines`.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.formats.text import iter_lines, open_text
from unmask.model import Obs, Record, Timestamp, WallClockRecord
from unmask.parsers.base import ParseContext, Parser, Source, integer, number, text

FOLDER = "/private/var/mobile/Library/Logs/CrashReporter/"
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S.%f %z", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%SZ")

# What bug_type a report has (the reference's table; research/peers.md H28).
REPORT_TYPES = {
    "109": "crash", "309": "crash", "210": "spin", "288": "stackshot", "298": "jetsam", "308": "exc_user_fault",
    "385": "exc_resource", "142": "low_memory", "327": "app_launch_failure", "179": "thermal",
}
MAX_PROCESSES = 5000
"""Process names kept from one report's ``processes`` list (a stackshot of a busy phone lists
several hundred)."""

_PROCESS = re.compile(r"(.*?)\s*\[(\d+)\]\s*\Z")
_EXCEPTION = re.compile(r"(\S+)\s*\((\S+)\)")


def report_type(bug_type: str | None, file_name: str) -> str:
    """``crash``, ``jetsam``, ``stackshot``… from the bug type (or the file name's prefix)."""
    if bug_type in REPORT_TYPES:
        return REPORT_TYPES[bug_type]
    lower = file_name.lower()
    if lower.startswith("jetsamevent"):
        return "jetsam"
    if lower.endswith(".crash"):
        return "crash"
    return "other"


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashReport(WallClockRecord):
    """A crash or diagnostic report: the process, how it ended, and when."""

    kind: ClassVar[str] = "ios/crash_reports/report"
    summary: ClassVar[str] = (
        "{report_type} report {file_name}: {process} {exception_type} {signal} {termination_reason}"
    )

    time: Timestamp | None = None
    booted: Timestamp | None = None
    file_name: str
    bug_type: str | None = None
    report_type: str = "other"
    form: str = "json"
    process: Annotated[str | None, Obs.PROCESS] = None
    process_path: Annotated[str | None, Obs.FILE_PATH] = None
    pid: int | None = None
    parent: Annotated[str | None, Obs.PROCESS] = None
    bundle_id: Annotated[str | None, Obs.APP_ID] = None
    exception_type: str | None = None
    exception_subtype: str | None = None
    signal: str | None = None
    termination_namespace: str | None = None
    termination_code: str | None = None
    termination_reason: str | None = None
    faulting_thread: int | None = None
    faulting_thread_name: str | None = None
    incident: str | None = None
    os_version: str | None = None
    model: str | None = None
    uptime: float | None = None
    largest_process: Annotated[str | None, Obs.PROCESS] = None
    processes: Annotated[tuple[str, ...], Obs.PROCESS] = ()
    killed: tuple[str, ...] = ()


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any, limit: int = 4096) -> str | None:
    found = text(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else None
    return found[:limit] if found else None


class CrashReportsParser(Parser):
    """Crash and diagnostic reports (.ips JSON and text forms, .crash, JetsamEvent)."""

    name = "crash_reports"
    platform = "ios"
    sources = (Source(FOLDER + "**/*.ips"), Source(FOLDER + "**/*.crash"))
    records = (CrashReport,)
    max_bytes: ClassVar[int] = 32 << 20
    """A report larger than this (after decompression) fails: real ones, stackshots included, are
    a few megabytes at most."""
    max_line: ClassVar[int] = 1 << 20

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Record]:
        """One record per report file: the header line and the body, read whole within
        :attr:`max_bytes`; a JSON body through the json module, a text body line by line."""
        file_name = device_path.rsplit("/", 1)[-1]
        with ctx.open(device_path) as raw:
            data = open_text(raw, max_bytes=self.max_bytes).read()
        if data.startswith(codecs.BOM_UTF8):
            data = data[3:]
        if not data.strip():
            raise ArtefactError("empty report")
        cut = data.find(b"\n")
        first, rest = (data, b"") if cut < 0 else (data[:cut], data[cut + 1:])
        header: dict[str, Any] = {}
        body = data
        if first.strip().startswith(b"{"):
            try:
                loaded = json.loads(first)
            except (ValueError, RecursionError):
                loaded = None
            if isinstance(loaded, dict):
                header, body = loaded, rest
        body = body.strip()
        if body.startswith(b"{"):
            try:
                parsed = json.loads(body)
            except (ValueError, RecursionError):
                parsed = None
            if isinstance(parsed, dict):
                if not header and "bug_type" in parsed:
                    header = {"bug_type": parsed.get("bug_type")}
                yield self._from_json(ctx, device_path, file_name, header, parsed)
                return
            ctx.warn(f"{device_path}: the report's body is not valid JSON; only its header was read")
            if not header:
                raise ArtefactError("neither a JSON header nor a readable body")
            yield self._from_json(ctx, device_path, file_name, header, {}, form="header-only")
            return
        if body and not body.startswith(b"<?xml"):
            lines = [line.text for line in iter_lines(io.BytesIO(body), max_line=self.max_line)]
            yield self._from_text(ctx, device_path, file_name, header, lines)
            return
        if not header:
            raise ArtefactError("not a crash report (no JSON header, no known body)")
        yield self._from_json(ctx, device_path, file_name, header, {}, form="header-only")

    # -- the JSON form ---------------------------------------------------------------------------

    def _time(self, ctx: ParseContext, *candidates: Any) -> timeutil.WallTime | None:
        for value in candidates:
            if isinstance(value, str) and value.strip():
                found = ctx.wall_time(value.strip(), TIME_FORMATS)
                if found is not None:
                    return found
        return None

    def _from_json(self, ctx: ParseContext, device_path: str, file_name: str, header: dict[str, Any],
                   body: dict[str, Any], form: str = "json") -> CrashReport:
        bug_type = _str(header.get("bug_type") or body.get("bug_type"), 16)
        exception, termination = _dict(body.get("exception")), _dict(body.get("termination"))
        bundle, os_block = _dict(body.get("bundleInfo")), _dict(body.get("osVersion"))
        wall = self._time(ctx, body.get("captureTime"), body.get("date"), header.get("timestamp"))
        uptime = number(body.get("uptime")) if not isinstance(body.get("uptime"), bool) else None
        faulting = integer(body.get("faultingThread"))
        thread_name = None
        threads = body.get("threads")
        if faulting is not None and isinstance(threads, list) and 0 <= faulting < len(threads):
            thread = threads[faulting]
            if isinstance(thread, dict):
                thread_name = _str(thread.get("name") or thread.get("queue"), 256)
        names: list[str] = []
        killed: list[str] = []
        procs = body.get("processes")
        if isinstance(procs, list):
            for entry in procs[:MAX_PROCESSES]:
                if not isinstance(entry, dict):
                    continue
                name = _str(entry.get("name") or entry.get("procName"), 256)
                if not name:
                    continue
                if name not in names:
                    names.append(name)
                if entry.get("reason") and name not in killed:
                    killed.append(name)
            if len(procs) > MAX_PROCESSES:
                ctx.warn(f"{device_path}: only the first {MAX_PROCESSES} of {len(procs)} processes were read")
        process = _str(body.get("procName") or header.get("app_name") or header.get("name"), 256)
        train = _str(os_block.get("train"), 64)
        build = _str(os_block.get("build"), 32)
        os_version = f"{train} ({build})" if train and build else _str(header.get("os_version"), 128)
        code = termination.get("code")
        return CrashReport(
            device_path=device_path,
            locator="file",
            time_inferred=wall.inferred if wall else "",
            time=wall.value if wall else None,
            booted=timeutil.shifted(wall.value, -uptime) if wall and uptime is not None and uptime >= 0 else None,
            file_name=file_name,
            bug_type=bug_type,
            report_type=report_type(bug_type, file_name),
            form=form,
            process=process,
            process_path=_str(body.get("procPath"), 4096),
            pid=integer(body.get("pid")),
            parent=_str(body.get("parentProc"), 256),
            bundle_id=_str(bundle.get("CFBundleIdentifier") or header.get("bundleID"), 256),
            exception_type=_str(exception.get("type"), 128),
            exception_subtype=_str(exception.get("subtype"), 1024),
            signal=_str(exception.get("signal"), 64),
            termination_namespace=_str(termination.get("namespace"), 64),
            termination_code=None if code is None or isinstance(code, bool | dict | list) else str(code)[:64],
            termination_reason=_str(termination.get("indicator") or termination.get("reason"), 1024),
            faulting_thread=faulting,
            faulting_thread_name=thread_name,
            incident=_str(body.get("incident") or header.get("incident_id"), 64),
            os_version=os_version,
            model=_str(body.get("modelCode") or body.get("product"), 64),
            uptime=uptime,
            largest_process=_str(body.get("largestProcess"), 256),
            processes=tuple(names),
            killed=tuple(killed),
        )

    # -- the text form ---------------------------------------------------------------------------

    def _from_text(self, ctx: ParseContext, device_path: str, file_name: str, header: dict[str, Any],
                   lines: list[str]) -> CrashReport:
        fields: dict[str, str] = {}
        crashed: int | None = None
        for raw in lines:
            if raw.startswith(("Binary Images:", "EOF")):
                break
            thread = re.match(r"Thread (\d+) Crashed", raw)
            if thread:
                crashed = int(thread.group(1))
                continue
            key, sep, value = raw.partition(":")
            if sep and key and not key.startswith((" ", "\t")) and len(key) < 40 and key not in fields:
                fields[key.strip()] = value.strip()
        process, pid = None, None
        match = _PROCESS.match(fields.get("Process", ""))
        if match:
            process, pid = match.group(1) or None, int(match.group(2))
        elif fields.get("Process"):
            process = fields["Process"]
        parent = _PROCESS.match(fields.get("Parent Process", ""))
        exc_type, signal = fields.get("Exception Type"), None
        exc = _EXCEPTION.match(exc_type or "")
        if exc:
            exc_type, signal = exc.group(1), exc.group(2)
        reason = fields.get("Termination Reason")
        namespace, code = None, None
        if reason:
            ns = re.match(r"Namespace (\S+?),\s*Code (\S+)", reason)
            if ns:
                namespace, code = ns.group(1), ns.group(2)
        faulting = integer(fields.get("Triggered by Thread") or fields.get("Crashed Thread"))
        wall = self._time(ctx, fields.get("Date/Time"), header.get("timestamp"))
        bug_type = _str(header.get("bug_type"), 16)
        if not process and not header:
            raise ArtefactError("not a crash report (no Process line and no JSON header)")
        return CrashReport(
            device_path=device_path,
            locator="file",
            time_inferred=wall.inferred if wall else "",
            time=wall.value if wall else None,
            file_name=file_name,
            bug_type=bug_type,
            report_type=report_type(bug_type, file_name),
            form="text",
            process=(process or _str(header.get("app_name") or header.get("name"), 256)),
            process_path=fields.get("Path") or None,
            pid=pid,
            parent=(parent.group(1) or None) if parent else (fields.get("Parent Process") or None),
            bundle_id=fields.get("Identifier") or _str(header.get("bundleID"), 256),
            exception_type=exc_type or None,
            exception_subtype=fields.get("Exception Subtype") or None,
            signal=signal,
            termination_namespace=namespace,
            termination_code=code,
            termination_reason=fields.get("Termination Signal") or reason or None,
            faulting_thread=faulting if faulting is not None else crashed,
            incident=fields.get("Incident Identifier") or _str(header.get("incident_id"), 64),
            os_version=fields.get("OS Version") or _str(header.get("os_version"), 128),
            model=fields.get("Hardware Model") or None,
        )
