"""Safari History: every visited URL with its visit time, title and redirect links (``History.db``).

``history_items`` holds one row per URL, ``history_visits`` one row per visit. A visit's
``redirect_source``/``redirect_destination`` are ids of other visits in the same table: the redirect
chains that network-injection attacks leave behind (an ``http://`` page silently redirected to an
exploit server). The URLs at both ends of a redirect are resolved in the same query so a record
reads on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.formats.sqlite import Database
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Source, SqliteParser, flag, integer, text

# Safari keeps History.db in its home folder, in per-profile folders (iOS 17+) and, on some
# versions, inside its data container.
_FOLDERS = (
    "/private/var/mobile/Library/Safari/",
    "/private/var/mobile/Library/Safari/Profiles/*/",
    "/private/var/mobile/Containers/Data/Application/*/Library/Safari/",
    "/private/var/mobile/Containers/Data/Application/*/Library/Safari/Profiles/*/",
)
SAFARI_FOLDERS = _FOLDERS
"""Device folders where Safari keeps its databases (shared with the BrowserState parser)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SafariVisit(Record):
    """One Safari history visit (or a history item whose visits are gone), with its redirect links.

    ``redirect_source``/``redirect_destination`` are visit ids in the same database; their URLs are
    resolved for reading but not declared as observables, since those visits are records of their
    own and carry the URLs as observables there.
    """

    kind: ClassVar[str] = "ios/safari_history/visit"
    summary: ClassVar[str] = (
        "Safari visit {url} ({title}) redirect from: {redirect_source_url} to: {redirect_destination_url}"
    )

    visit_time: datetime | None = None
    url: Annotated[str | None, Obs.URL] = None
    title: str | None = None
    item_id: int | None = None
    visit_id: int | None = None
    visit_count: int | None = None
    load_successful: bool | None = None
    origin: int | None = None
    redirect_source: int | None = None
    redirect_source_url: str | None = None
    redirect_destination: int | None = None
    redirect_destination_url: str | None = None


class SafariHistoryParser(SqliteParser):
    """Safari browsing history: visited URLs, visit times, titles and redirect chains (History.db)."""

    name = "safari_history"
    platform = "ios"
    sources = tuple(Source(folder + "History.db") for folder in _FOLDERS)
    records = (SafariVisit,)
    required: ClassVar[dict[str, set[str]]] = {
        "history_items": {"id", "url"},
        "history_visits": {"id", "history_item"},
    }

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """One query: items ⟕ visits, each visit's redirect ends joined to their items' URLs."""
        v = "history_visits"
        sql = (
            "SELECT history_items.id AS item_id, history_items.url AS url, "
            f"{db.col('history_items', 'visit_count')}, "
            f"{v}.id AS visit_id, {db.col(v, 'visit_time')}, {db.col(v, 'title')}, "
            f"{db.col(v, 'load_successful')}, {db.col(v, 'origin')}, "
            f"{db.col(v, 'redirect_source')}, {db.col(v, 'redirect_destination')}, "
            f"{_joined_url(db, 'redirect_source', 'src')}, {_joined_url(db, 'redirect_destination', 'dst')} "
            f"FROM history_items LEFT JOIN {v} ON {v}.history_item = history_items.id "
            f"{_join(db, 'redirect_source', 'src')} {_join(db, 'redirect_destination', 'dst')} "
            f"ORDER BY {v}.id, history_items.id"
        )
        for row in db.query(sql):
            visit_id = integer(row["visit_id"])
            item_id = integer(row["item_id"])
            locator = (
                f"history_visits.id={visit_id}" if visit_id is not None else f"history_items.id={item_id}"
            )
            yield SafariVisit(
                device_path=db.device_path,
                locator=locator,
                visit_time=timeutil.cocoa(row["visit_time"]),
                url=text(row["url"]),
                title=text(row["title"]),
                item_id=item_id,
                visit_id=visit_id,
                visit_count=integer(row["visit_count"]),
                load_successful=flag(row["load_successful"]),
                origin=integer(row["origin"]),
                redirect_source=integer(row["redirect_source"]),
                redirect_source_url=text(row["src_url"]),
                redirect_destination=integer(row["redirect_destination"]),
                redirect_destination_url=text(row["dst_url"]),
            )


def _join(db: Database, column: str, alias: str) -> str:
    # The redirect end is another visit; its URL is on that visit's item. Both joins are primary
    # key lookups, so resolving them costs no query per row.
    if column not in db.columns("history_visits"):
        return ""
    return (
        f"LEFT JOIN history_visits AS {alias}_v ON {alias}_v.id = history_visits.{column} "
        f"LEFT JOIN history_items AS {alias}_i ON {alias}_i.id = {alias}_v.history_item"
    )


def _joined_url(db: Database, column: str, alias: str) -> str:
    if column not in db.columns("history_visits"):
        return f"NULL AS {alias}_url"
    return f"{alias}_i.url AS {alias}_url"
