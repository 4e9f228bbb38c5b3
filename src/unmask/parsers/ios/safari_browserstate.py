"""Safari BrowserState: open tabs and each tab's back/forward history (``BrowserState.db``).

``tabs`` has one row per open tab (URL, title, when it was last viewed); ``tab_sessions.session_data``
holds the tab's WebKit session state: a 4-byte big-endian version header followed by a property
list whose ``SessionHistory.SessionHistoryEntries`` lists every page of the tab's back/forward list.
Those pages are often the only trace of a one-click exploit link that redirected elsewhere, so
every entry URL is an observable of the tab record.
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
from unmask.parsers.base import ParseContext, Source, SqliteParser, flag, text
from unmask.parsers.ios.safari_history import SAFARI_FOLDERS

# Plist signatures: binary, and XML with or without a declaration.
_PLIST_MAGIC = (b"bplist", b"<?xml", b"<plist", b"<!DOCTYPE")
_HEADER_SIZE = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class SafariTab(Record):
    """One open Safari tab with the URLs of its back/forward session history.

    A ``tab_sessions`` row whose tab row is gone is yielded too, with ``tab_exists=False``: its
    back/forward list is what is left of a closed tab.
    """

    kind: ClassVar[str] = "ios/safari_browserstate/tab"
    summary: ClassVar[str] = "Safari tab {url} ({title}); session history: {session_urls}"

    last_viewed: datetime | None = None
    uuid: str | None = None
    title: str | None = None
    url: Annotated[str | None, Obs.URL] = None
    user_visible_url: Annotated[str | None, Obs.URL] = None
    private_browsing: bool | None = None
    opened_from_link: bool | None = None
    window_uuid: str | None = None
    session_urls: Annotated[tuple[str, ...], Obs.URL] = ()
    session_titles: tuple[str, ...] = ()
    session_current_index: int | None = None
    tab_exists: bool = True


@dataclass(frozen=True, slots=True)
class Session:
    """The decoded back/forward list of one tab."""

    urls: tuple[str, ...]
    titles: tuple[str, ...]
    current_index: int | None


def decode_session(data: bytes) -> Session:
    """Decode ``tab_sessions.session_data``; raise :class:`ArtefactError` when it is not a session.

    The blob is a 4-byte version header and a plist; a bare plist (no header) is accepted too.
    Entry URLs and original URLs are returned in list order, without duplicates.
    """
    if data.startswith(_PLIST_MAGIC):
        body = data
    elif data[_HEADER_SIZE:].lstrip().startswith(_PLIST_MAGIC):
        body = data[_HEADER_SIZE:]
    else:
        raise ArtefactError(
            f"session data is not a property list, possibly compressed (starts with {data[:8].hex()})"
        )
    value = plist.load(body)
    if not isinstance(value, dict):
        raise ArtefactError(f"session plist top level is {type(value).__name__}, expected a dictionary")
    history = value.get("SessionHistory")
    if not isinstance(history, dict):
        raise ArtefactError("session plist has no SessionHistory dictionary")
    entries = history.get("SessionHistoryEntries")
    urls: list[str] = []
    titles: list[str] = []
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict):
            continue
        for key in ("SessionHistoryEntryURL", "SessionHistoryEntryOriginalURL"):
            url = _string(entry.get(key))
            if url and url not in urls:
                urls.append(url)
        title = _string(entry.get("SessionHistoryEntryTitle"))
        if title:
            titles.append(title)
    current = history.get("SessionHistoryCurrentIndex")
    return Session(tuple(urls), tuple(titles), current if type(current) is int else None)


def _string(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


class SafariBrowserStateParser(SqliteParser):
    """Open Safari tabs and the URLs of each tab's back/forward session history (BrowserState.db)."""

    name = "safari_browserstate"
    platform = "ios"
    sources = tuple(Source(folder + "BrowserState.db") for folder in SAFARI_FOLDERS)
    records = (SafariTab,)
    required: ClassVar[dict[str, set[str]]] = {"tabs": {"url"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """One query: tabs ⟕ tab_sessions; session data decoded per tab, garbage → a warning."""
        t = "tabs"
        # Since BrowserState schema version 3 the session blob is in tab_sessions; before that it
        # was a column of tabs itself (the migration copies tabs_old.session_data across).
        join = ""
        if db.has("tab_sessions", "tab_uuid", "session_data") and db.has(t, "uuid"):
            session = "tab_sessions.session_data AS session_data"
            join = "LEFT JOIN tab_sessions ON tab_sessions.tab_uuid = tabs.uuid"
        else:
            session = db.col(t, "session_data")
        sql = (
            f"SELECT tabs.rowid AS row_id, {db.col(t, 'uuid')}, {db.col(t, 'title')}, {db.col(t, 'url')}, "
            f"{db.col(t, 'user_visible_url')}, {db.col(t, 'last_viewed_time')}, "
            f"{db.col(t, 'private_browsing')}, {db.col(t, 'opened_from_link')}, "
            f"{db.col(t, 'browser_window_uuid')}, {session} FROM tabs {join} ORDER BY tabs.rowid"
        )
        for row in db.query(sql):
            uuid = text(row["uuid"])
            locator = f"tabs.uuid={uuid}" if uuid else f"tabs.rowid={row['row_id']}"
            decoded = self._session(ctx, db, locator, row["session_data"])
            yield SafariTab(
                device_path=db.device_path,
                locator=locator,
                last_viewed=timeutil.cocoa(row["last_viewed_time"]),
                uuid=uuid,
                title=text(row["title"]),
                url=text(row["url"]),
                user_visible_url=text(row["user_visible_url"]),
                private_browsing=flag(row["private_browsing"]),
                opened_from_link=flag(row["opened_from_link"]),
                window_uuid=text(row["browser_window_uuid"]),
                session_urls=decoded.urls if decoded else (),
                session_titles=decoded.titles if decoded else (),
                session_current_index=decoded.current_index if decoded else None,
            )
        if join:
            yield from self._orphan_sessions(ctx, db)

    def _orphan_sessions(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        sql = (
            "SELECT tab_sessions.rowid AS row_id, tab_sessions.tab_uuid AS uuid, tab_sessions.session_data "
            "AS session_data FROM tab_sessions WHERE NOT EXISTS "
            "(SELECT 1 FROM tabs WHERE tabs.uuid = tab_sessions.tab_uuid) ORDER BY tab_sessions.rowid"
        )
        for row in db.query(sql):
            uuid = text(row["uuid"])
            locator = f"tab_sessions.tab_uuid={uuid}" if uuid else f"tab_sessions.rowid={row['row_id']}"
            decoded = self._session(ctx, db, locator, row["session_data"])
            yield SafariTab(
                device_path=db.device_path,
                locator=locator,
                uuid=uuid,
                session_urls=decoded.urls if decoded else (),
                session_titles=decoded.titles if decoded else (),
                session_current_index=decoded.current_index if decoded else None,
                tab_exists=False,
            )

    @staticmethod
    def _session(ctx: ParseContext, db: Database, locator: str, blob: object) -> Session | None:
        if blob is None or blob == b"" or blob == "":
            return None
        if not isinstance(blob, bytes):
            ctx.warn(f"{db.device_path} {locator}: session data is {type(blob).__name__}, not a blob")
            return None
        try:
            return decode_session(blob)
        except ArtefactError as exc:
            ctx.warn(f"{db.device_path} {locator}: session history not read ({exc})")
            return None
