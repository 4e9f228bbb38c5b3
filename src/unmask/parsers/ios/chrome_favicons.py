"""Chrome for iOS favicons (``Favicons``): pages whose icon Chrome stored, with the icon URL.

Chromium's favicon database maps each page URL to an icon (``icon_mapping`` → ``favicons``) and
keeps the icon bitmaps with the time they were updated (``favicon_bitmaps.last_updated``,
microseconds since 1601). Icons are pruned lazily, so pages removed from History can remain here.
Schema: Chromium's favicon_database.cc, meta version 8 (tests/schemas/chrome/Favicons); path as
MVT's ChromeFavicon module (research/mvt.md §3.3), in every app container (a backup names the
container by the bundle id).
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


@dataclass(frozen=True, slots=True, kw_only=True)
class ChromeFavicon(Record):
    """A page and the icon Chrome stored for it."""

    kind: ClassVar[str] = "ios/chrome_favicons/favicon"
    summary: ClassVar[str] = "Chrome favicon of {url}: {icon_url}"

    updated: datetime | None = None
    url: Annotated[str | None, Obs.URL] = None
    icon_url: Annotated[str | None, Obs.URL] = None
    icon_type: int | None = None
    app: str | None = None


class ChromeFaviconsParser(SqliteParser):
    """Pages and icon URLs in Chrome's favicon database (Favicons)."""

    name = "chrome_favicons"
    platform = "ios"
    sources = (
        Source(
            "/private/var/mobile/Containers/Data/Application/*/Library/Application Support/Google/Chrome/Default/Favicons"
        ),
    )
    records = (ChromeFavicon,)
    required: ClassVar[dict[str, set[str]]] = {"icon_mapping": {"page_url", "icon_id"}, "favicons": {"id", "url"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """One record per icon mapping, with the latest bitmap update time of its icon."""
        app = app_of(ctx.acq, db.device_path)
        updated = (
            "(SELECT max(last_updated) FROM favicon_bitmaps WHERE favicon_bitmaps.icon_id = favicons.id)"
            if db.has("favicon_bitmaps", "icon_id", "last_updated")
            else "NULL"
        )
        sql = (
            "SELECT icon_mapping.id AS mapping_id, icon_mapping.page_url AS page, favicons.url AS icon, "
            f"{db.col('favicons', 'icon_type')}, {updated} AS updated FROM icon_mapping "
            "LEFT JOIN favicons ON favicons.id = icon_mapping.icon_id ORDER BY icon_mapping.id"
        )
        for row in db.query(sql):
            yield ChromeFavicon(
                device_path=db.device_path,
                locator=f"icon_mapping.id={row['mapping_id']}",
                updated=timeutil.webkit(row["updated"]) if row["updated"] else None,
                url=text(row["page"]),
                icon_url=text(row["icon"]),
                icon_type=integer(row["icon_type"]),
                app=app,
            )
