"""``dumpsys appops``: per package, the app operations it used and their modes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Obs, Timestamp, WallClockRecord
from unmask.parsers.base import ParseContext, Source, TextParser

_UID = re.compile(r"  Uid (\S+):\Z")
_PACKAGE = re.compile(r"    Package (\S+):\Z")
_OP = re.compile(r"      (\w+) \((\w+)(?: / \w+)?\):")
_ACCESS = re.compile(r"\s+(Access|Reject): \[[^\]]*\] (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")


@dataclass(frozen=True, slots=True, kw_only=True)
class AppOp(WallClockRecord):
    """One app operation of one package (AOSP ``AppOpsService`` dump: ``Uid u0a123:`` →
    ``Package com.x:`` → ``OP_NAME (allow):`` → ``Access: [fg-s] 2024-01-02 10:00:00.000 (…)``)."""

    kind: ClassVar[str] = "android/dumpsys/appop"
    summary: ClassVar[str] = "{package} {op} ({mode}) last {last_access}"
    package: Annotated[str, Obs.APP_ID]
    uid: str | None = None
    op: str
    mode: str
    last_access: Timestamp | None = None
    rejected: bool = False


class DumpsysAppopsParser(TextParser):
    """App operations per package from ``dumpsys appops``."""

    name = "dumpsys_appops"
    platform = "android"
    sources = (Source.section("dumpsys:appops"),)
    records = (AppOp,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[AppOp]:
        uid = package = None
        pending: tuple[Line, str, str] | None = None
        access: tuple[Timestamp | None, str, bool] = (None, "", False)

        def flush() -> Iterator[AppOp]:
            if pending is not None and package:
                line, op, mode = pending
                yield AppOp(device_path=device_path, locator=locator(line), package=package, uid=uid, op=op,
                            mode=mode, last_access=access[0], time_inferred=access[1], rejected=access[2])

        for line in lines:
            text = line.text
            match = _UID.match(text)
            if match:
                yield from flush()
                pending, uid, package = None, match.group(1), None
                continue
            match = _PACKAGE.match(text)
            if match:
                yield from flush()
                pending, package = None, match.group(1)
                continue
            match = _OP.match(text)
            if match and package:
                yield from flush()
                pending, access = (line, match.group(1), match.group(2)), (None, "", False)
                continue
            match = _ACCESS.match(text)
            if match and pending is not None and access[0] is None:
                wall = ctx.wall_time(match.group(2), ["%Y-%m-%d %H:%M:%S"])
                if wall is not None:
                    access = (wall.value, wall.inferred, match.group(1) == "Reject")
        yield from flush()
