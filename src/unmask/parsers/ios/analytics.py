"""SFAnalytics databases (``/private/var/Keychains/Analytics/*.db``): events logged by security daemons.

Security.framework's analytics (CKKS, SOS, trust, signin metrics, networking…) keep ring buffers
of events in SQLite: ``hard_failures``, ``soft_failures``, ``notes`` and ``rockwell`` hold
``(timestamp, data)`` where ``data`` is a plist of the event's attributes, and older builds also
had ``all_events`` (the current schema drops it). Events name processes, bundle ids, hosts and
the OS build they were logged under, so the files carry traces of what ran and whom it talked to
as well as the device's update history. Schema: the SFAnalytics schema string (decompiled
Security.framework; tests/schemas/ios/Analytics); MVT's Analytics module reads the same tables
and checks every string value as a process name and as a URL (research/mvt.md §3.2), and its
AnalyticsIOSVersions module takes the first time each ``build`` appears.

Each event yields an :class:`AnalyticsEvent` whose string values are declared as process names
and whose links and host names as hosts; each database ends with one :class:`AnalyticsBuild` per
OS build seen, at its first time. Timestamps are Mac absolute seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.formats import plist
from unmask.formats.sqlite import Database
from unmask.model import Obs, Record
from unmask.observables import find_urls
from unmask.parsers.base import ParseContext, Source, SqliteParser, text

_TABLES = ("hard_failures", "soft_failures", "all_events", "notes", "rockwell")
_MAX_STRINGS = 256
_MAX_LENGTH = 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalyticsEvent(Record):
    """One logged analytics event with every string it carries."""

    kind: ClassVar[str] = "ios/analytics/event"
    summary: ClassVar[str] = "analytics {table} {event_type} in {store} (build {build})"

    time: datetime | None = None
    store: str
    table: str
    event_type: str | None = None
    build: str | None = None
    values: Annotated[tuple[str, ...], Obs.PROCESS] = ()
    hosts: Annotated[tuple[str, ...], Obs.HOST] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalyticsBuild(Record):
    """An OS build the analytics of one store were logged under, at the first time it appears."""

    kind: ClassVar[str] = "ios/analytics/build"
    summary: ClassVar[str] = "iOS build {build} first seen in {store}"

    first_seen: datetime | None = None
    store: str
    build: str


def strings_of(value: Any, out: list[str], depth: int = 0) -> None:
    """Every string value (not key) in a decoded plist, depth first, capped."""
    if len(out) >= _MAX_STRINGS or depth > 32:
        return
    if isinstance(value, str):
        if value and value not in out:
            out.append(value[:_MAX_LENGTH])
    elif isinstance(value, dict):
        for item in value.values():
            strings_of(item, out, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            strings_of(item, out, depth + 1)


class AnalyticsParser(SqliteParser):
    """Security analytics events (Keychains/Analytics/*.db): processes, hosts and OS builds they name."""

    name = "analytics"
    platform = "ios"
    sources = (Source("/private/var/Keychains/Analytics/*.db"),)
    records = (AnalyticsEvent, AnalyticsBuild)

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """Events of every ring-buffer table the store has, then the builds seen."""
        tables = [t for t in _TABLES if db.has(t, "timestamp", "data")]
        if not tables:
            raise ArtefactError("no SFAnalytics event table (hard_failures, soft_failures, all_events, notes)")
        store = db.device_path.rsplit("/", 1)[-1]
        builds: dict[str, datetime | None] = {}
        undecodable = 0
        for table in tables:
            for row in db.query(f"SELECT rowid AS row_id, timestamp, data FROM {table} ORDER BY rowid"):
                when = timeutil.cocoa(row["timestamp"])
                data: Any = {}
                blob = row["data"]
                if isinstance(blob, bytes) and blob:
                    try:
                        data = plist.load(blob)
                    except ArtefactError:
                        undecodable += 1
                        data = {}
                values: list[str] = []
                strings_of(data, values)
                fields = data if isinstance(data, dict) else {}
                build = text(fields.get("build")) if isinstance(fields.get("build"), str) else None
                if build:
                    seen = builds.get(build)
                    if build not in builds or (when is not None and (seen is None or when < seen)):
                        builds[build] = when
                event_type = fields.get("EventType") or fields.get("eventType") or fields.get("event_type")
                yield AnalyticsEvent(
                    device_path=db.device_path,
                    locator=f"{table}.rowid={row['row_id']}",
                    time=when,
                    store=store,
                    table=table,
                    event_type=event_type if isinstance(event_type, str) else None,
                    build=build,
                    values=tuple(values),
                    hosts=find_urls(*values),
                )
        for build, first in sorted(builds.items(), key=lambda kv: (kv[1] is None, kv[1] or 0, kv[0])):
            yield AnalyticsBuild(
                device_path=db.device_path, locator=f"build={build}", first_seen=first, store=store, build=build
            )
        if undecodable:
            ctx.warn(f"{db.device_path}: {undecodable} events whose data is not a plist")
