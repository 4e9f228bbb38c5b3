"""CFNetwork URL caches (``Cache.db``): every URL an app's networking stack fetched and cached.

``NSURLCache`` keeps one ``Cache.db`` per app (``Library/Caches/<bundle id>/Cache.db`` in the app's
container) and per system daemon (``/private/var/mobile/Library/Caches/com.apple.*``,
``/private/var/root/Library/Caches/…``). ``cfurl_cache_response.request_key`` is the URL of the
request, ``time_stamp`` the time the response was stored (SQLite ``CURRENT_TIMESTAMP``: UTC text),
so a cache lists the servers an app or daemon talked to, including exploit and command servers
contacted by a process that keeps no history. Library/Caches is left out of backups: these
databases are read on full-filesystem dumps. MVT's CacheFiles module reads every file named
``Cache.db`` (research/mvt.md §3.2); the schema is the same on iOS 15, 16 and 17
(tests/schemas/ios/Cache.db, ``user_version`` 203).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.formats.sqlite import Database
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Source, SqliteParser, integer, text
from unmask.parsers.ios.containers import app_of


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedResponse(Record):
    """One cached response: the URL requested, when it was stored, by which app's cache."""

    kind: ClassVar[str] = "ios/cache_files/response"
    summary: ClassVar[str] = "cached response for {url} ({app})"

    stored: datetime | None = None
    url: Annotated[str | None, Obs.URL] = None
    entry_id: int | None = None
    storage_policy: int | None = None
    partition: str | None = None
    app: str | None = None


def stored_time(value: object) -> datetime | None:
    """``time_stamp``: SQLite's ``CURRENT_TIMESTAMP`` text (UTC), or a number on odd stores."""
    if isinstance(value, str):
        found = timeutil.parse_iso(value, zone=UTC)
        return found.value if found else None
    return timeutil.cocoa(value) if isinstance(value, int | float) else None


class CacheFilesParser(SqliteParser):
    """URLs in every CFNetwork cache (Cache.db) of every app and daemon."""

    name = "cache_files"
    platform = "ios"
    sources = (Source("/private/var/**/Cache.db"),)
    records = (CachedResponse,)
    required: ClassVar[dict[str, set[str]]] = {"cfurl_cache_response": {"request_key"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """One record per cached response."""
        app = app_of(ctx.acq, db.device_path)
        t = "cfurl_cache_response"
        sql = (
            f"SELECT rowid AS row_id, {db.col(t, 'entry_ID')}, {db.col(t, 'request_key')}, "
            f"{db.col(t, 'time_stamp')}, {db.col(t, 'storage_policy')}, {db.col(t, 'partition')} FROM {t} ORDER BY rowid"
        )
        for row in db.query(sql):
            entry = integer(row["entry_ID"])
            yield CachedResponse(
                device_path=db.device_path,
                locator=f"cfurl_cache_response.entry_ID={entry if entry is not None else row['row_id']}",
                stored=stored_time(row["time_stamp"]),
                url=text(row["request_key"]),
                entry_id=entry,
                storage_policy=integer(row["storage_policy"]),
                partition=text(row["partition"]),
                app=app,
            )
