"""Firefox for iOS history and favicons (``browser.db``; ``places.db`` in newer versions).

The legacy Firefox for iOS store (``profile.profile/browser.db`` in the Firefox app group) keeps
``history`` (URLs, titles) with its ``visits`` (dates in microseconds since the Unix epoch, local or
synced) and ``favicons`` linked to history rows through ``favicon_sites``; newer versions moved
history to application-services' ``places.db`` (``moz_places`` / ``moz_historyvisits``, the same
schema as Firefox for Android). Schemas: Firefox for iOS BrowserSchema v39 and the
application-services shared schema, both source-derived (tests/schemas/firefox-ios). Paths: the app
group (a backup's AppDomainGroup-group.org.mozilla.ios.Firefox), plus the
``/private/var/mobile/profile.profile/browser.db`` path MVT's FirefoxHistory/FirefoxFavicon modules
look at on a dump (research/mvt.md §3.3).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.errors import SchemaUnsupported
from unmask.formats.sqlite import Database
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Source, SqliteParser, flag, integer, text

_GROUP = "/private/var/mobile/Containers/Shared/AppGroup/*/profile.profile/"


@dataclass(frozen=True, slots=True, kw_only=True)
class FirefoxVisit(Record):
    """One Firefox visit of a URL."""

    kind: ClassVar[str] = "ios/firefox_history/visit"
    summary: ClassVar[str] = "Firefox visit {url} ({title})"

    visit_time: datetime | None = None
    url: Annotated[str | None, Obs.URL] = None
    title: str | None = None
    visit_type: int | None = None
    is_local: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FirefoxFavicon(Record):
    """One Firefox favicon and the page it belongs to."""

    kind: ClassVar[str] = "ios/firefox_history/favicon"
    summary: ClassVar[str] = "Firefox favicon {url} of {page_url}"

    stored: datetime | None = None
    url: Annotated[str | None, Obs.URL] = None
    page_url: Annotated[str | None, Obs.URL] = None
    width: int | None = None
    height: int | None = None


class FirefoxHistoryParser(SqliteParser):
    """Firefox for iOS visits and favicons (browser.db, places.db)."""

    name = "firefox_history"
    platform = "ios"
    sources = (
        Source(_GROUP + "browser.db"),
        Source(_GROUP + "places.db"),
        Source("/private/var/mobile/profile.profile/browser.db"),
    )
    records = (FirefoxVisit, FirefoxFavicon)

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """browser.db visits and favicons, or places.db visits."""
        if db.has("visits", "siteID", "date") and db.has("history", "id", "url"):
            yield from self._browser(db)
        elif db.has("moz_historyvisits", "place_id", "visit_date") and db.has("moz_places", "id", "url"):
            yield from self._places(db)
        else:
            raise SchemaUnsupported("neither browser.db (history, visits) nor places.db (moz_places, moz_historyvisits)")

    def _browser(self, db: Database) -> Iterator[Record]:
        sql = (
            f"SELECT visits.id AS vid, visits.date AS date, {db.col('visits', 'type')}, "
            f"{db.col('visits', 'is_local')}, history.url AS url, {db.col('history', 'title')} "
            "FROM visits LEFT JOIN history ON history.id = visits.siteID ORDER BY visits.id"
        )
        for row in db.query(sql):
            yield FirefoxVisit(
                device_path=db.device_path,
                locator=f"visits.id={row['vid']}",
                visit_time=timeutil.unix_us(row["date"]),
                url=text(row["url"]),
                title=text(row["title"]),
                visit_type=integer(row["type"]),
                is_local=flag(row["is_local"]),
            )
        if db.has("favicons", "id", "url"):
            join = db.has("favicon_sites", "siteID", "faviconID")
            page = "history.url" if join else "NULL"
            joins = (
                "LEFT JOIN favicon_sites ON favicon_sites.faviconID = favicons.id "
                "LEFT JOIN history ON history.id = favicon_sites.siteID"
                if join
                else ""
            )
            sql = (
                f"SELECT favicons.id AS fid, favicons.url AS url, {page} AS page, {db.col('favicons', 'width')}, "
                f"{db.col('favicons', 'height')}, {db.col('favicons', 'date')} FROM favicons {joins} ORDER BY favicons.id"
            )
            for row in db.query(sql):
                yield FirefoxFavicon(
                    device_path=db.device_path,
                    locator=f"favicons.id={row['fid']}",
                    stored=timeutil.unix_auto(row["date"]),
                    url=text(row["url"]),
                    page_url=text(row["page"]),
                    width=integer(row["width"]),
                    height=integer(row["height"]),
                )

    def _places(self, db: Database) -> Iterator[Record]:
        sql = (
            "SELECT moz_historyvisits.id AS vid, moz_historyvisits.visit_date AS date, "
            f"{db.col('moz_historyvisits', 'visit_type', 'type')}, {db.col('moz_historyvisits', 'is_local')}, "
            f"moz_places.url AS url, {db.col('moz_places', 'title')} FROM moz_historyvisits "
            "LEFT JOIN moz_places ON moz_places.id = moz_historyvisits.place_id ORDER BY moz_historyvisits.id"
        )
        for row in db.query(sql):
            yield FirefoxVisit(
                device_path=db.device_path,
                locator=f"moz_historyvisits.id={row['vid']}",
                visit_time=timeutil.unix_auto(row["date"]),
                url=text(row["url"]),
                title=text(row["title"]),
                visit_type=integer(row["type"]),
                is_local=flag(row["is_local"]),
            )
