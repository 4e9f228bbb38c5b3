"""``ps`` output: AndroidQF processes.txt (``ps -A``) and the bugreport's PROCESSES AND THREADS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from unmask.formats.text import Line, locator
from unmask.parsers.android._common import ProcessBase, app_of_process
from unmask.parsers.base import ParseContext, Source, TextParser, integer


@dataclass(frozen=True, slots=True, kw_only=True)
class PsProcess(ProcessBase):
    """One line of ``ps`` (toybox: ``USER PID PPID VSZ RSS WCHAN ADDR S NAME``; dumpstate adds
    ``-T -Z -O pri,nice,rtprio,sched,pcy,time``, so LABEL and TID columns may be there too)."""

    kind: ClassVar[str] = "android/ps/process"
    summary: ClassVar[str] = "process {name} (pid {pid}, user {user})"
    label: str | None = None


class PsParser(TextParser):
    """Process lists as ``ps`` prints them (AndroidQF processes.txt; MVT only looks for ps.txt)."""

    name = "ps"
    platform = "android"
    sources = (Source.section("ps"),)
    records = (PsProcess,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[PsProcess]:
        columns: list[str] | None = None
        seen: set[int] = set()
        for line in lines:
            parts = line.text.split()
            if not parts or line.text.startswith("------"):
                continue
            if "PID" in parts and ("NAME" in parts or "CMD" in parts):
                columns = parts
                continue
            if columns is None or len(parts) < len(columns):
                continue
            # NAME (or CMD) is last and may hold spaces: the leading columns are fixed.
            head = dict(zip(columns[:-1], parts[: len(columns) - 1], strict=False))
            name = " ".join(parts[len(columns) - 1 :])
            pid = integer(head.get("PID"))
            if "TID" in head and pid is not None:
                if pid in seen:
                    continue  # a thread line of a process already listed (ps -T)
                seen.add(pid)
            yield PsProcess(
                device_path=device_path,
                locator=locator(line),
                pid=pid,
                ppid=integer(head.get("PPID")),
                user=head.get("USER"),
                label=head.get("LABEL"),
                name=name[:512],
                app=app_of_process(name),
            )
