"""``dumpsys dbinfo``: the recent SQLite operations of each app (with the database paths)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Obs, Timestamp, WallClockRecord
from unmask.parsers.base import ParseContext, Source, TextParser

_HEADER = re.compile(r"\*\* Database info for pid (\d+) \[([^\]]+)\] \*\*")
# Some builds put the caller's pid before the operation, with no space after it (a 2023 Samsung
# phone in MVT's AndroidQF fixture: ``0: [2023-07-27 12:21:44.458] [Pid:(0)]executeForCursorWindow took 1ms``).
_OP = re.compile(r"\s+\d+: \[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.\d+)?\] (?:\[Pid:\(\d+\)\]\s*)?(\w+) took \d+ms - \w+(?:, sql=\"(.*?)\")?(?:, path=(\S+))?")


@dataclass(frozen=True, slots=True, kw_only=True)
class DbOperation(WallClockRecord):
    """One recent SQLite operation (``N: [time] executeForCursorWindow took 1ms - succeeded, sql="…", path=…``)."""

    kind: ClassVar[str] = "android/dumpsys/dbinfo"
    summary: ClassVar[str] = "{process} {action} {path}"
    time: Timestamp | None = None
    pid: int | None = None
    process: Annotated[str | None, Obs.APP_ID] = None
    action: str = ""
    sql: str | None = None
    path: Annotated[str | None, Obs.FILE_PATH] = None


class DumpsysDbinfoParser(TextParser):
    """``Most recently executed operations`` of ``dumpsys dbinfo``."""

    name = "dumpsys_dbinfo"
    platform = "android"
    sources = (Source.section("dumpsys:dbinfo"),)
    records = (DbOperation,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[DbOperation]:
        pid, process = None, None
        for line in lines:
            header = _HEADER.search(line.text)
            if header:
                pid, process = int(header.group(1)), header.group(2).split(":", 1)[0]
                continue
            op = _OP.match(line.text)
            if op:
                wall = ctx.wall_time(op.group(1), ["%Y-%m-%d %H:%M:%S"])
                yield DbOperation(device_path=device_path, locator=locator(line), time=wall.value if wall else None,
                                  time_inferred=wall.inferred if wall else "", pid=pid, process=process,
                                  action=op.group(2), sql=(op.group(3) or "")[:4096] or None, path=op.group(4))
