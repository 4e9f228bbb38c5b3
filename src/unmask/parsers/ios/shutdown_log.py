"""shutdown.log: the processes that were still running while the phone shut down.

During a shutdown ``logd`` writes, every time it finds clients still alive, a *delay notice*
naming them, then a ``SIGTERM`` line with the Unix time once its buffers are flushed. Kaspersky
found Pegasus, Reign and Predator processes in these notices across infections (Securelist, "A
lightweight method to detect potential iOS malware", Jan 2024; iShutdown).

Where it is: ``/private/var/db/diagnostics/shutdown.log`` on the device (MVT ``ShutdownLog``,
FFS), and its copy ``system_logs.logarchive/Extra/shutdown.log`` in a sysdiagnose (SAF
``shutdownlogs``). iOS 26 names the file ``shutdown.0.log`` (iLEAPP PR #1465, #2205; MVT #830,
#834), so ``shutdown.*.log`` is read too.

Format, reconstructed from the parsers of iShutdown, MVT (PR #196), SAF and iLEAPP and from the
iOS 26.5 capture a public Rust parser reproduces (research/peers.md §2.2):

- ``After 1.26s, these clients are still here:`` then tab-indented
  ``remaining client pid: 153 (/usr/sbin/filecoordinationd/<BINARY-UUID>)`` lines (the
  multi-line form);
- ``After 0.1s, remaining client pid: 155 (/usr/libexec/nfcd)``: the older one-line form;
- ``SIGTERM: [1774602168] All buffers flushed``: the end of one shutdown, with its Unix time;
  MVT also reads a time written as `` @<epoch>`` on that line;
- ``%%%%% Entering phase: …`` phase markers, and nothing else.

A shutdown's notices come before its SIGTERM line (iShutdown, MVT and iLEAPP all attribute them
so). A notice whose delay is smaller than the one before starts a new shutdown even without a
SIGTERM line between them (the rule of the Rust parser, which found it stable across versions);
clients after the last SIGTERM line belong to a shutdown whose time is unknown.

Clients often carry a trailing binary-UUID component (iShutdown README: ``…staging/mptbd/
42286BD8-…``; iOS 26: ``/usr/libexec/coreduetd/FC9C4AD0-…``): it is stripped, so ``client`` is the
executable's path (matched as ``file:path``) and every component of it is offered as a process
name (``process:name``), as MVT matches them.

Records: one :class:`ShutdownClient` per client per shutdown (its pid, path, the longest delay
it was still there at, how many notices named it), one :class:`ShutdownReboot` per shutdown, and
one :class:`ShutdownLogFile` per log file with its counts, so an empty or emptied log is a fact
too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.formats.text import Line
from unmask.model import Obs, Record, Timestamp
from unmask.parsers.base import ParseContext, Source, TextParser

FOLDER = "/private/var/db/diagnostics/"

_NOTICE = re.compile(r"After\s+([0-9]+(?:\.[0-9]+)?)\s*s,\s+these clients are still here:?\s*\Z")
_CLIENT = re.compile(r"\s*remaining client pid:\s*(\d+)\s*\((.*)\)\s*\Z")
_ONE_LINE = re.compile(r"After\s+([0-9]+(?:\.[0-9]+)?)\s*s,\s+remaining client pid:\s*(\d+)\s*\((.*)\)\s*\Z")
_SIGTERM = re.compile(r"SIGTERM:\s*(?:\[(\d{9,11})\]|\[[^\]]*\])?(?:.*?\s@(\d{9,11}))?")
_PHASE = re.compile(r"%+\s*Entering phase:")
_UUID_TAIL = re.compile(r"/([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})\Z")


def split_client(raw: str) -> tuple[str, str | None]:
    """A client as logged → (executable path without a trailing binary UUID, that UUID)."""
    match = _UUID_TAIL.search(raw)
    if match is None or match.start() == 0:
        return raw, None
    return raw[: match.start()], match.group(1).upper()


def path_names(path: str) -> tuple[str, ...]:
    """Every component of a client path, once each, in order (each may be a process name)."""
    out: list[str] = []
    for part in path.split("/"):
        if part and part not in out:
            out.append(part)
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShutdownClient(Record):
    """A process still running during one shutdown, as shutdown.log names it."""

    kind: ClassVar[str] = "ios/shutdown_log/client"
    summary: ClassVar[str] = "{client} (pid {pid}) still running at shutdown #{reboot}, {delay} s in"

    sigterm: Timestamp | None = None
    reboot: int
    pid: int | None = None
    client: Annotated[str, Obs.FILE_PATH]
    names: Annotated[tuple[str, ...], Obs.PROCESS] = ()
    raw_client: str
    binary_uuid: str | None = None
    delay: float | None = None
    notices: int = 1
    form: str = "multi-line"


@dataclass(frozen=True, slots=True, kw_only=True)
class ShutdownReboot(Record):
    """One shutdown recorded in shutdown.log: when, and how long clients delayed it."""

    kind: ClassVar[str] = "ios/shutdown_log/reboot"
    summary: ClassVar[str] = "shutdown #{reboot}: {notices} delay notice(s), {clients} client(s), longest {longest_delay} s"

    sigterm: Timestamp | None = None
    reboot: int
    notices: int = 0
    clients: int = 0
    longest_delay: float | None = None
    closed: bool = True
    """Whether the SIGTERM line ending it was written (False: clients after the last one)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShutdownLogFile(Record):
    """One shutdown log file: how many shutdowns it records, over which span, and what it could
    not read."""

    kind: ClassVar[str] = "ios/shutdown_log/file"
    summary: ClassVar[str] = "{file_name}: {reboots} shutdown(s) from {first_sigterm} to {last_sigterm}"

    first_sigterm: Timestamp | None = None
    last_sigterm: Timestamp | None = None
    file_name: str
    reboots: int = 0
    clients: int = 0
    lines: int = 0
    unrecognised: int = 0


class _Seen:
    """One client of the shutdown being read: the longest delay it was there at, how many
    notices named it, and the form of the lines."""

    __slots__ = ("delay", "form", "notices")

    def __init__(self, delay: float | None, form: str) -> None:
        self.delay = delay
        self.notices = 1
        self.form = form


class _Shutdown:
    """The shutdown being read: its notices, and its clients by (pid, path as logged)."""

    __slots__ = ("clients", "delay", "notices")

    def __init__(self) -> None:
        self.notices = 0
        self.delay: float | None = None
        self.clients: dict[tuple[int | None, str], _Seen] = {}

    def notice(self, delay: float) -> None:
        self.notices += 1
        self.delay = delay

    def client(self, pid: int | None, raw: str, delay: float | None, form: str) -> None:
        seen = self.clients.get((pid, raw))
        if seen is None:
            self.clients[(pid, raw)] = _Seen(delay, form)
            return
        if delay is not None and (seen.delay is None or delay > seen.delay):
            seen.delay = delay
        seen.notices += 1

    @property
    def empty(self) -> bool:
        return not self.notices and not self.clients


class ShutdownLogParser(TextParser):
    """Processes still running at each shutdown, from shutdown.log (incl. iOS 26 shutdown.0.log)."""

    name = "shutdown_log"
    platform = "ios"
    sources = (Source(FOLDER + "shutdown.log"), Source(FOLDER + "shutdown.*.log"))
    records = (ShutdownClient, ShutdownReboot, ShutdownLogFile)
    max_bytes: ClassVar[int | None] = 256 << 20
    max_line = 64 << 10

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[Record]:
        """Shutdowns, their clients, and the file's summary."""
        current = _Shutdown()
        reboot = 0
        count = unrecognised = clients = 0
        first = last = None
        locator = "line=1"
        for line in lines:
            count += 1
            text = line.text
            if not text.strip():
                continue
            if text.startswith("SIGTERM"):
                match = _SIGTERM.match(text)
                epoch = (match.group(1) or match.group(2)) if match else None
                when = timeutil.unix_int(int(epoch)) if epoch else None
                reboot += 1
                clients += len(current.clients)
                yield from self._emit(device_path, f"line={line.number}", reboot, when, current, closed=True)
                current = _Shutdown()
                if when is not None:
                    first = when if first is None or when < first else first
                    last = when if last is None or when > last else last
                continue
            notice = _NOTICE.match(text)
            if notice:
                delay = float(notice.group(1))
                if current.delay is not None and delay < current.delay and not current.empty:
                    reboot += 1
                    clients += len(current.clients)
                    yield from self._emit(device_path, locator, reboot, None, current, closed=False)
                    current = _Shutdown()
                current.notice(delay)
                locator = f"line={line.number}"
                continue
            one = _ONE_LINE.match(text)
            if one:
                delay = float(one.group(1))
                if current.delay is not None and delay < current.delay and not current.empty:
                    reboot += 1
                    clients += len(current.clients)
                    yield from self._emit(device_path, locator, reboot, None, current, closed=False)
                    current = _Shutdown()
                if current.delay != delay:
                    current.notice(delay)
                    locator = f"line={line.number}"
                current.client(int(one.group(2)), one.group(3), delay, "one-line")
                continue
            client = _CLIENT.match(text)
            if client and current.notices:
                current.client(int(client.group(1)), client.group(2), current.delay, "multi-line")
                continue
            if _PHASE.match(text):
                continue
            unrecognised += 1
        if not current.empty:
            reboot += 1
            clients += len(current.clients)
            yield from self._emit(device_path, locator, reboot, None, current, closed=False)
        yield ShutdownLogFile(
            device_path=device_path,
            locator="file",
            first_sigterm=first,
            last_sigterm=last,
            file_name=device_path.rsplit("/", 1)[-1],
            reboots=reboot,
            clients=clients,
            lines=count,
            unrecognised=unrecognised,
        )
        if unrecognised:
            ctx.warn(f"{device_path}: {unrecognised} line(s) in no known shutdown.log form")

    @staticmethod
    def _emit(device_path: str, locator: str, reboot: int, when: Timestamp | None, shutdown: _Shutdown,
              *, closed: bool) -> Iterator[Record]:
        longest: float | None = None
        for (pid, raw), seen in shutdown.clients.items():
            path, binary = split_client(raw)
            d = seen.delay
            if d is not None and (longest is None or d > longest):
                longest = d
            yield ShutdownClient(
                device_path=device_path,
                locator=f"{locator} shutdown={reboot} pid={pid}",
                sigterm=when,
                reboot=reboot,
                pid=pid,
                client=path,
                names=path_names(path),
                raw_client=raw,
                binary_uuid=binary,
                delay=d,
                notices=seen.notices,
                form=seen.form,
            )
        yield ShutdownReboot(
            device_path=device_path,
            locator=f"{locator} shutdown={reboot}",
            sigterm=when,
            reboot=reboot,
            notices=shutdown.notices,
            clients=len(shutdown.clients),
            longest_delay=longest if longest is not None else shutdown.delay,
            closed=closed,
        )
