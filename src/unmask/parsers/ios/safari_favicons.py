"""Safari's favicon database (``Favicons.db``): pages whose icon Safari fetched, and icons it rejected.

SafariShared's favicon provider records, per visited page URL, the URL of its icon
(``page_url`` → ``icon_info`` by UUID, with the time the icon was stored) and the icons it
refused (``rejected_resources``, schema version 4). Favicons outlive history: a page cleared from
History.db can still be named here. Schema from the decompiled SafariShared
``WBSFaviconProviderDatabaseController`` (tests/schemas/ios/Favicons.db); paths and the two
queries as MVT's SafariFavicon module reads them (research/mvt.md §3.2); times are Mac absolute
seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.formats.sqlite import Database
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Source, SqliteParser, integer, text
from unmask.parsers.ios.containers import app_of

_STORE = "Library/Image Cache/Favicons/Favicons.db"


@dataclass(frozen=True, slots=True, kw_only=True)
class SafariFavicon(Record):
    """A page and the icon Safari stored (or rejected) for it."""

    kind: ClassVar[str] = "ios/safari_favicons/favicon"
    summary: ClassVar[str] = "Safari favicon of {url}: {icon_url} ({status})"

    stored: datetime | None = None
    url: Annotated[str | None, Obs.URL] = None
    icon_url: Annotated[str | None, Obs.URL] = None
    status: str = "valid"
    width: int | None = None
    height: int | None = None
    app: str | None = None


class SafariFaviconsParser(SqliteParser):
    """Pages and icon URLs in Safari's favicon cache (Favicons.db), valid and rejected."""

    name = "safari_favicons"
    platform = "ios"
    sources = (
        Source("/private/var/mobile/" + _STORE),
        Source("/private/var/mobile/Containers/Data/Application/*/" + _STORE),
    )
    records = (SafariFavicon,)
    required: ClassVar[dict[str, set[str]]] = {"page_url": {"url", "uuid"}, "icon_info": {"uuid", "url"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """Valid icons (page_url joined to icon_info), then rejected resources."""
        app = app_of(ctx.acq, db.device_path)
        sql = (
            "SELECT page_url.rowid AS row_id, page_url.url AS page, icon_info.url AS icon, "
            f"{db.col('icon_info', 'timestamp')}, {db.col('icon_info', 'width')}, {db.col('icon_info', 'height')} "
            "FROM page_url JOIN icon_info ON page_url.uuid = icon_info.uuid ORDER BY page_url.rowid"
        )
        for row in db.query(sql):
            yield SafariFavicon(
                device_path=db.device_path,
                locator=f"page_url.rowid={row['row_id']}",
                stored=timeutil.cocoa(row["timestamp"]),
                url=text(row["page"]),
                icon_url=text(row["icon"]),
                width=integer(row["width"]),
                height=integer(row["height"]),
                app=app,
            )
        if db.has("rejected_resources", "page_url", "icon_url"):
            t = "rejected_resources"
            for row in db.query(
                f"SELECT rowid AS row_id, page_url, icon_url, {db.col(t, 'timestamp')} FROM {t} ORDER BY rowid"
            ):
                yield SafariFavicon(
                    device_path=db.device_path,
                    locator=f"rejected_resources.rowid={row['row_id']}",
                    stored=timeutil.cocoa(row["timestamp"]),
                    url=text(row["page_url"]),
                    icon_url=text(row["icon_url"]),
                    status="rejected",
                    app=app,
                )
