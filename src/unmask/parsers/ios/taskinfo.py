"""``taskinfo.txt`` of a sysdiagnose: every task (process) with how long it has been running.

Layout (as EC-DIGIT-CSIRC/sysdiagnose's ``taskinfo`` parser reads it): ``num tasks: N`` on the
first line, then one block per task opened by ``process: "<name>" [<pid>]`` and made of
tab-indented ``key: value`` lines, among them ``run time: <seconds> s``, and a ``threads:`` list
of ``thread ID:`` entries; blocks are separated by blank lines.

The start time is the sysdiagnose's time less the run time (SAF computes it the same way), so it
is as exact as the collection time in the archive's name; such records are flagged ``relative``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.formats.text import Line
from unmask.model import Record
from unmask.parsers.base import ParseContext, Source, TextParser, integer
from unmask.parsers.ios.processes import RunningProcess

_TASK = re.compile(r'process:\s*"(.*)"\s*\[(\d+)\]')
_RUN_TIME = re.compile(r"\s*run time:\s*(\d+)")
_UID = re.compile(r"\s*uid:\s*(\d+)\s*\Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskinfoProcess(RunningProcess):
    """A task in the sysdiagnose's ``taskinfo.txt``."""

    kind: ClassVar[str] = "ios/taskinfo/process"
    run_seconds: int | None = None


class TaskinfoParser(TextParser):
    """Tasks running when the sysdiagnose was taken, with their run time, from taskinfo.txt."""

    name = "taskinfo"
    platform = "ios"
    sources = (Source.section("sysdiagnose:taskinfo.txt"),)
    records = (TaskinfoProcess,)
    max_line = 64 << 10
    max_bytes: ClassVar[int | None] = 1 << 30

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[Record]:
        """One record per ``process:`` block."""
        task: dict[str, Any] | None = None
        seen_header = False
        for line in lines:
            text = line.text
            if not seen_header and text.startswith("num tasks:"):
                seen_header = True
                continue
            match = _TASK.match(text)
            if match:
                seen_header = True
                if task is not None:
                    yield self._record(ctx, task)
                task = {"device_path": device_path, "locator": f"line={line.number}", "name": match.group(1),
                        "pid": int(match.group(2)), "threads": 0, "run_seconds": None, "uid": None}
                continue
            if task is None:
                continue
            if "thread ID:" in text:
                task["threads"] += 1
                continue
            run = _RUN_TIME.match(text)
            if run and task["run_seconds"] is None:
                task["run_seconds"] = int(run.group(1))
                continue
            uid = _UID.match(text)
            if uid and task["uid"] is None:
                task["uid"] = integer(uid.group(1))
        if task is not None:
            yield self._record(ctx, task)
        elif not seen_header:
            raise ArtefactError("not a taskinfo listing (no 'num tasks:' line, no process block)")

    @staticmethod
    def _record(ctx: ParseContext, task: dict[str, Any]) -> TaskinfoProcess:
        run = task.pop("run_seconds")
        started = timeutil.shifted(ctx.year_hint, -run) if run is not None and ctx.year_hint else None
        return TaskinfoProcess(**task, run_seconds=run, started=started, time_inferred="relative" if started else "")
