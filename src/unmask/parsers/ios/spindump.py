"""The spindump of a sysdiagnose (``spindump-nosymbols.txt``): its processes, and the boot time.

Layout (AutismIsForDorks/ios-sysdiagnose-reference artifacts/spindump.md, iOS 18/26; SAF
``spindumpnosymbols``): a header of ``Key: value`` lines (``Date/Time:``, ``OS Version:``,
``Hardware model:``, ``Time Since Boot: 848s``), then one block per process:
``Process: <name> [<pid>]`` (sometimes followed by a state such as ``(suspended)``), ``Path:``,
``Identifier:``, ``Parent: <name> [<pid>]``, ``Responsible: <name> [<pid>]``, ``UID:``, and its
sampled threads.

Records: one :class:`SpindumpProcess` per process block, and one :class:`SpindumpReport` with the
sampling time and the boot it implies (``Date/Time`` less ``Time Since Boot``), for the reboot
history.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.formats.text import Line
from unmask.model import Obs, Record, Timestamp, WallClockRecord
from unmask.parsers.base import ParseContext, Source, TextParser, integer
from unmask.parsers.ios.crash_reports import TIME_FORMATS
from unmask.parsers.ios.processes import RunningProcess

_FIELD = re.compile(r"([A-Z][A-Za-z /]+?):\s+(.*)\Z")
_NAME_PID = re.compile(r"(.*?)\s*\[(\d+)\]")
_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*s")


@dataclass(frozen=True, slots=True, kw_only=True)
class SpindumpProcess(RunningProcess):
    """A process sampled by the sysdiagnose's spindump."""

    kind: ClassVar[str] = "ios/spindump/process"
    parent_name: Annotated[str | None, Obs.PROCESS] = None
    responsible: Annotated[str | None, Obs.PROCESS] = None
    identifier: str | None = None
    binary_uuid: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SpindumpReport(WallClockRecord):
    """The spindump itself: when it sampled, and the boot that implies."""

    kind: ClassVar[str] = "ios/spindump/report"
    summary: ClassVar[str] = "spindump at {taken} ({os_version}, {model}), booted {booted}"

    taken: Timestamp | None = None
    booted: Timestamp | None = None
    os_version: str | None = None
    model: str | None = None
    since_boot: float | None = None
    processes: int = 0


class SpindumpParser(TextParser):
    """Processes sampled by the sysdiagnose's spindump, and the boot time it implies."""

    name = "spindump"
    platform = "ios"
    sources = (Source.section("sysdiagnose:spindump-nosymbols.txt"), Source.section("sysdiagnose:spindump.txt"))
    records = (SpindumpProcess, SpindumpReport)
    max_line = 64 << 10
    max_bytes: ClassVar[int | None] = 1 << 30

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[Record]:
        """The process blocks, then the report."""
        head: dict[str, str] = {}
        block: dict[str, Any] | None = None
        count = 0
        for line in lines:
            text = line.text
            match = _FIELD.match(text)
            if match is None:
                continue
            key, value = match.group(1).strip(), match.group(2).strip()
            if key == "Process":
                if block is not None:
                    count += 1
                    yield self._process(device_path, block)
                block = {"locator": f"line={line.number}", "Process": value}
                continue
            if block is None:
                head.setdefault(key, value)
            elif key not in block:
                block[key] = value
        if block is not None:
            count += 1
            yield self._process(device_path, block)
        if not head and not count:
            raise ArtefactError("not a spindump (no header, no Process: block)")
        taken = ctx.wall_time(head.get("Date/Time", ""), TIME_FORMATS)
        since = _SECONDS.match(head.get("Time Since Boot", ""))
        seconds = float(since.group(1)) if since else None
        yield SpindumpReport(
            device_path=device_path,
            locator="header",
            time_inferred=taken.inferred if taken else "",
            taken=taken.value if taken else None,
            booted=timeutil.shifted(taken.value, -seconds) if taken and seconds is not None else None,
            os_version=head.get("OS Version"),
            model=head.get("Hardware model") or head.get("Hardware Model"),
            since_boot=seconds,
            processes=count,
        )

    @staticmethod
    def _process(device_path: str, block: dict[str, Any]) -> SpindumpProcess:
        name, pid = block["Process"], None
        match = _NAME_PID.match(name)
        if match:
            name, pid = match.group(1), int(match.group(2))
        parent = _NAME_PID.match(block.get("Parent", ""))
        responsible = _NAME_PID.match(block.get("Responsible", ""))
        path = block.get("Path") or None
        return SpindumpProcess(
            device_path=device_path,
            locator=block["locator"],
            pid=pid,
            ppid=int(parent.group(2)) if parent else None,
            uid=integer(block.get("UID")),
            name=name or None,
            path=path,
            command=path,
            parent_name=(parent.group(1) or None) if parent else None,
            responsible=(responsible.group(1) or None) if responsible else None,
            identifier=block.get("Identifier"),
            binary_uuid=block.get("UUID"),
        )
