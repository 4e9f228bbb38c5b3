"""logcat (AndroidQF logcat.txt and logcat_old.txt, the previous boot's; the bugreport's SYSTEM,
EVENT and RADIO LOG): the lines that name links or IP addresses, streamed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Timestamp
from unmask.observables import find_urls
from unmask.parsers.android._common import LogLineBase, addresses_in
from unmask.parsers.base import ParseContext, Source, TextParser

# threadtime: "MM-DD HH:MM:SS.mmm  PID  TID L TAG: message" (with -v uid, the uid before the pid;
# with -v year, a year first).
_LINE = re.compile(
    r"(?:(\d{4})-)?(\d\d-\d\d \d\d:\d\d:\d\d\.\d{3,9})\s+(?:\S+\s+)?(\d+)\s+(\d+)\s+([VDIWEFS])\s+(.*?)\s*: (.*)\Z"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LogcatLine(LogLineBase):
    """One logcat line naming a link or an address: time (device local), pid, level, tag, message."""

    kind: ClassVar[str] = "android/logcat/line"
    summary: ClassVar[str] = "{tag}: {message}"
    time: Timestamp | None = None
    pid: int | None = None
    level: str | None = None


class LogcatParser(TextParser):
    """logcat buffers (threadtime form); only lines with links or addresses become records, so a
    500 MB log costs its reading time, not its size in output."""

    name = "logcat"
    platform = "android"
    sources = (Source.section("logcat"), Source.section("logcat:*"))
    records = (LogcatLine,)
    max_line = 64 << 10

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[LogcatLine]:
        for line in lines:
            text = line.text
            if "." not in text:
                continue
            match = _LINE.match(text)
            message = match.group(7) if match else text
            links = find_urls(message)
            addresses = addresses_in(message)
            if not links and not addresses:
                continue
            when, inferred = None, ""
            if match:
                year = match.group(1)
                clock = match.group(2)
                stamp = (f"{year}-" if year else "") + clock[: clock.index(".") + 7]
                wall = ctx.wall_time(stamp, ["%Y-%m-%d %H:%M:%S.%f"] if year else ["%m-%d %H:%M:%S.%f"])
                if wall is not None:
                    when, inferred = wall.value, wall.inferred
            yield LogcatLine(
                device_path=device_path,
                locator=locator(line),
                time=when,
                time_inferred=inferred,
                source=device_path,
                pid=int(match.group(3)) if match else None,
                level=match.group(5) if match else None,
                tag=match.group(6)[:256] if match else None,
                message=message[:4096],
                links=links[:50],
                addresses=addresses[:50],
            )
