"""``dumpsys batterystats`` history: package installs and removals, apps in the foreground, jobs
and alarms, each at its time.

The ``Battery History`` block (``dumpsys batterystats`` or ``--history``; AOSP
``BatteryStats.HistoryPrinter.printNextItem``) prints one line per history item: the time since
the start of the history (``TimeUtils.formatDuration``: ``0``, ``+47s645ms``, ``+2d23h22m24s588ms``),
the item size in parentheses, then either a command (``RESET:TIME: 2024-05-01-18-02-17`` or
``TIME: …``, the wall clock in device local time at that point; ``START``, ``SHUTDOWN``,
``*OVERFLOW*``) or the battery level and state changes, ending with at most one event
``[+|-]<name>=<int>:"<tag>"`` where the name comes from ``HISTORY_EVENT_NAMES`` (``pkginst``: the
int is the version code; ``pkgunin``, ``top``, ``fg``, ``job``, ``alarm``, ``sync``…: a uid such
as ``u0a245``). The block ends at its first empty line. MVT's DumpsysBatteryHistory reads jobs and
wake alarms only; the install and removal events are what helplines need ("what was installed,
then removed, before the phone was handed over").

A time is the last ``TIME:`` wall clock plus the offset since it; before any ``TIME:`` line an
event has no time. Events with no package in their tag (wake locks, kernel wake reasons) are left
out.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Obs, Timestamp, WallClockRecord
from unmask.parsers.base import ParseContext, Source, TextParser

_LINE = re.compile(r"\s*([+-]?[0-9dhms]+)\s+\(\d+\)\s+(.*)\Z")
_DURATION = re.compile(r"(\d+)(ms|d|h|m|s)")
_UNITS_MS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
_MAX_MS = 100 * 365 * 86_400_000
_TIME = re.compile(r"(?:RESET:)?TIME:\s*(\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)")
EVENTS = ("pkginst", "pkgunin", "top", "fg", "job", "alarm", "sync", "pkginactive", "pkgactive", "tmpwhitelist")
_EVENT = re.compile(r'(?:^|\s)([+-]?)(' + "|".join(EVENTS) + r')=([^\s:"]*):"([^"]{0,1024})"')
_PACKAGE = re.compile(r"[A-Za-z][\w]*(?:\.[\w]+)+")


@dataclass(frozen=True, slots=True, kw_only=True)
class BatteryHistoryEvent(WallClockRecord):
    """One battery-history event about a package: ``pkginst`` (installed or updated; ``value`` is
    its version code), ``pkgunin`` (removed), ``+top``/``-top`` (came to / left the foreground),
    ``+job``/``-job``, ``alarm``…, with the uid or version as printed and the raw tag."""

    kind: ClassVar[str] = "android/dumpsys/battery_history"
    summary: ClassVar[str] = "{event} {package} ({value})"
    time: Timestamp | None = None
    event: str
    package: Annotated[str, Obs.APP_ID]
    value: str | None = None
    tag: str | None = None
    offset_ms: int | None = None


def duration_ms(text: str) -> int | None:
    """``+1h02m03s004ms`` → milliseconds; ``0`` → 0; ``None`` when it is not a duration."""
    body = text.lstrip("+-")
    if body == "0":
        return 0
    parts = _DURATION.findall(body)
    if not parts or "".join(n + u for n, u in parts) != body:
        return None
    total = sum(int(n[:15]) * _UNITS_MS[u] for n, u in parts)
    if total > _MAX_MS:
        return None  # no battery history spans centuries: a damaged or crafted line
    return -total if text.startswith("-") else total


def package_in(tag: str) -> str | None:
    """The package an event's tag names: ``com.x``, ``com.x/.Job``, ``*walarm*:com.x/.Receiver``."""
    head = tag.rsplit("*:", 1)[-1].split("/", 1)[0].strip()
    return head if _PACKAGE.fullmatch(head) else None


class DumpsysBatteryHistoryParser(TextParser):
    """The ``Battery History`` events of ``dumpsys batterystats`` that name a package: installs,
    removals, foreground changes, jobs, alarms, with wall-clock times from the ``TIME:`` lines."""

    name = "dumpsys_battery_history"
    platform = "android"
    sources = (Source.section("dumpsys:batterystats"),)
    records = (BatteryHistoryEvent,)

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[BatteryHistoryEvent]:
        inside = False
        anchor: tuple[Timestamp, int, str] | None = None  # wall clock, its offset, what was inferred
        for line in lines:
            text = line.text
            if not inside:
                inside = text.startswith("Battery History")
                continue
            if not text.strip():
                inside, anchor = False, None  # the block ends; another dump may follow
                continue
            match = _LINE.match(text)
            if match is None:
                continue
            offset = duration_ms(match.group(1))
            if offset is None:
                continue
            rest = match.group(2)
            clock = _TIME.match(rest)
            if clock:
                wall = ctx.wall_time(clock.group(1), ["%Y-%m-%d-%H-%M-%S"])
                anchor = (wall.value, offset, wall.inferred) if wall is not None else None
                continue
            for sign, name, value, tag in _EVENT.findall(rest):
                package = package_in(tag)
                if package is None:
                    continue
                when = None
                if anchor is not None:
                    with contextlib.suppress(OverflowError):  # past year 9999
                        when = anchor[0] + timedelta(milliseconds=offset - anchor[1])
                yield BatteryHistoryEvent(
                    device_path=device_path, locator=locator(line), time=when, event=sign + name,
                    package=package[:512], value=value[:64] or None, tag=tag[:512], offset_ms=offset,
                    time_inferred=anchor[2] if anchor is not None else "",
                )
