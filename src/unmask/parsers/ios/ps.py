"""The process list of a sysdiagnose: ``ps.txt`` and ``ps_thread.txt``.

``ps.txt`` is BSD ``ps`` output taken when the sysdiagnose was: a header line, then one row per
process. Two headers are known (EC-DIGIT-CSIRC/sysdiagnose ``ps`` parser tests):

- before iOS 16: ``USER UID PID PPID %CPU %MEM PRI NI VSZ RSS WCHAN TT STAT STARTED TIME COMMAND``;
- iOS 16 and later: ``USER UID PRSNA PID PPID F %CPU %MEM PRI NI VSZ RSS WCHAN TT STAT STARTED TIME
  COMMAND`` (AutismIsForDorks/ios-sysdiagnose-reference artifacts/ps.md shows it on iOS 18/26).

Columns are found by the header's names, so either works; COMMAND is last and keeps its spaces.
``ps_thread.txt`` (``ps -M``) follows each process row with one row per further thread, rows
without the terminal (``??``) and command columns (EC-DIGIT's ``psthread`` parser tells them apart
so): they are counted as the process's threads.

STARTED is ``ps``'s start time: ``7:22PM`` (less than a day before), ``Tue09PM`` (less than a
week) or ``14Jan19``; the first two carry no date, which is taken from the sysdiagnose's time
(:func:`unmask.timeutil.ps_started`, flag ``date``), in the device's zone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.formats.text import Line
from unmask.model import Record
from unmask.parsers.base import ParseContext, Source, TextParser, integer
from unmask.parsers.ios.processes import RunningProcess, executable


@dataclass(frozen=True, slots=True, kw_only=True)
class PsProcess(RunningProcess):
    """A process in the sysdiagnose's ``ps`` output."""

    kind: ClassVar[str] = "ios/ps/process"
    list_name: str = "ps.txt"


class PsParser(TextParser):
    """Processes running when the sysdiagnose was taken, from ps.txt and ps_thread.txt."""

    name = "ps"
    platform = "ios"
    sources = (Source.section("sysdiagnose:ps.txt"), Source.section("sysdiagnose:ps_thread.txt"))
    records = (PsProcess,)
    max_line = 64 << 10
    max_bytes: ClassVar[int | None] = 512 << 20

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[Record]:
        """One record per process row; thread rows count toward the process before them."""
        header: list[str] | None = None
        pending: dict[str, Any] | None = None
        list_name = device_path.split(":", 1)[-1]
        for line in lines:
            if not line.text.strip():
                continue
            if header is None:
                header = line.text.split()
                if "PID" not in header or header[-1] != "COMMAND":
                    raise ArtefactError(f"no ps header line (found {line.text[:80]!r})")
                continue
            tokens = line.text.split(None, len(header) - 1)
            if len(tokens) < len(header):
                if pending is not None:
                    pending["threads"] += 1
                continue
            if pending is not None:
                yield PsProcess(**pending)
            row = dict(zip(header, tokens, strict=True))
            command = row.get("COMMAND", "")
            path, name = executable(command)
            started = timeutil.ps_started(row.get("STARTED", ""), collected=ctx.year_hint, zone=ctx.zone)
            pending = {
                "device_path": device_path,
                "locator": f"line={line.number}",
                "time_inferred": started.inferred if started else "",
                "started": started.value if started else None,
                "pid": integer(row.get("PID")),
                "ppid": integer(row.get("PPID")),
                "user": row.get("USER"),
                "uid": integer(row.get("UID")),
                "name": name,
                "path": path,
                "command": command,
                "threads": 1,
                "list_name": list_name,
            }
        if pending is not None:
            yield PsProcess(**pending)
        if header is None:
            raise ArtefactError("empty process list")
