"""``dumpsys batterystats`` daily stats: the package updates (and removals) of each day."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Obs, Timestamp, WallClockRecord
from unmask.parsers.base import ParseContext, Source, TextParser

_DAY = re.compile(r"\s+Daily from (\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d) to (\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d):")
_UPDATE = re.compile(r"\s+Update (\S+) vers=(-?\d+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class BatteryDailyUpdate(WallClockRecord):
    """A package installed or updated in one daily period (``vers=0``: removed)."""

    kind: ClassVar[str] = "android/dumpsys/battery_daily"
    summary: ClassVar[str] = "{package} version {version_code} between {day_from} and {day_to}"
    package: Annotated[str, Obs.APP_ID]
    version_code: int
    day_from: Timestamp | None = None
    day_to: Timestamp | None = None


class DumpsysBatteryDailyParser(TextParser):
    """The ``Daily stats`` package changes of ``dumpsys batterystats``."""

    name = "dumpsys_battery_daily"
    platform = "android"
    sources = (Source.section("dumpsys:batterystats"),)
    records = (BatteryDailyUpdate,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[BatteryDailyUpdate]:
        period: tuple[Timestamp | None, Timestamp | None, str] | None = None
        seen: set[tuple[str, int, Timestamp | None]] = set()
        for line in lines:
            day = _DAY.match(line.text)
            if day:
                a = ctx.wall_time(day.group(1), ["%Y-%m-%d-%H-%M-%S"])
                b = ctx.wall_time(day.group(2), ["%Y-%m-%d-%H-%M-%S"])
                either = a or b
                period = (a.value if a else None, b.value if b else None, either.inferred if either else "")
                continue
            update = _UPDATE.match(line.text)
            if update and period is not None:
                key = (update.group(1), int(update.group(2)), period[0])
                if key in seen:
                    continue
                seen.add(key)
                yield BatteryDailyUpdate(device_path=device_path, locator=locator(line), package=update.group(1)[:512],
                                         version_code=int(update.group(2)), day_from=period[0], day_to=period[1],
                                         time_inferred=period[2])
