"""``dumpsys batterystats`` daily stats: the package installs, updates and removals of each day.

AOSP ``BatteryStats.dumpDailyPackageChanges`` prints, under each ``Daily from A to B:`` period
(device local times ``yyyy-MM-dd-HH-mm-ss``), a ``Package changes:`` list of ``Update <package>
vers=<versionCode>`` (an install or an update) and ``Uninstall <package>`` lines. MVT's
DumpsysBatteryDaily reads only the ``Update`` lines (and takes ``vers=0`` for a removal).
"""

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
_UNINSTALL = re.compile(r"\s+Uninstall (\S+)\s*\Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class BatteryDailyUpdate(WallClockRecord):
    """A package installed or updated (``action`` ``update``, with its version code) or removed
    (``uninstall``) in one daily period."""

    kind: ClassVar[str] = "android/dumpsys/battery_daily"
    summary: ClassVar[str] = "{action} {package} version {version_code} between {day_from} and {day_to}"
    package: Annotated[str, Obs.APP_ID]
    version_code: int | None = None
    action: str = "update"
    day_from: Timestamp | None = None
    day_to: Timestamp | None = None


class DumpsysBatteryDailyParser(TextParser):
    """The ``Daily stats`` package changes of ``dumpsys batterystats`` (updates and removals)."""

    name = "dumpsys_battery_daily"
    platform = "android"
    sources = (Source.section("dumpsys:batterystats"),)
    records = (BatteryDailyUpdate,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[BatteryDailyUpdate]:
        period: tuple[Timestamp | None, Timestamp | None, str] | None = None
        seen: set[tuple[str, str, int | None, Timestamp | None]] = set()
        for line in lines:
            day = _DAY.match(line.text)
            if day:
                a = ctx.wall_time(day.group(1), ["%Y-%m-%d-%H-%M-%S"])
                b = ctx.wall_time(day.group(2), ["%Y-%m-%d-%H-%M-%S"])
                either = a or b
                period = (a.value if a else None, b.value if b else None, either.inferred if either else "")
                continue
            if period is None:
                continue
            update = _UPDATE.match(line.text)
            removal = None if update else _UNINSTALL.match(line.text)
            if update is None and removal is None:
                continue
            if update is not None:
                package, action, version = update.group(1), "update", int(update.group(2))
            else:
                assert removal is not None
                package, action, version = removal.group(1), "uninstall", None
            key = (package, action, version, period[0])
            if key in seen:
                continue
            if len(seen) < 100_000:
                seen.add(key)
            yield BatteryDailyUpdate(device_path=device_path, locator=locator(line), package=package[:512],
                                     version_code=version, action=action, day_from=period[0], day_to=period[1],
                                     time_inferred=period[2])
