"""Chrome History (Chrome for iOS): visited URLs with visit times, transitions and referring visits.

``urls`` has one row per URL, ``visits`` one row per visit; ``visits.from_visit`` is the visit that
led to this one (the redirect or link source), and ``visits.transition`` packs Chrome's page
transition: a core type in the low byte and qualifier bits such as client or server redirect.
The schema is Chrome's own and follows ``meta.version``, identical on iOS, Android and desktop.
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

# Chrome's ui::PageTransition core types (the low byte of visits.transition).
_CORE_TYPES = (
    "link",
    "typed",
    "auto_bookmark",
    "auto_subframe",
    "manual_subframe",
    "generated",
    "auto_toplevel",
    "form_submit",
    "reload",
    "keyword",
    "keyword_generated",
)
_CLIENT_REDIRECT = 0x40000000
_SERVER_REDIRECT = 0x80000000


@dataclass(frozen=True, slots=True, kw_only=True)
class ChromeVisit(Record):
    """One Chrome history visit (or a URL whose visits are gone), with the visit that led to it."""

    kind: ClassVar[str] = "ios/chrome_history/visit"
    summary: ClassVar[str] = "Chrome visit {url} ({title}) {transition_core} {redirect} from: {from_url}"

    visit_time: datetime | None = None
    url: Annotated[str | None, Obs.URL] = None
    title: str | None = None
    url_id: int | None = None
    visit_id: int | None = None
    visit_count: int | None = None
    transition: int | None = None
    transition_core: str | None = None
    redirect: str | None = None
    from_visit: int | None = None
    from_url: str | None = None
    visit_duration_us: int | None = None


def transition_parts(value: int | None) -> tuple[int | None, str | None, str | None]:
    """``(unsigned transition, core type name, "server"/"client" redirect or None)``.

    SQLite returns the 32-bit transition as a signed number when its top bit (server redirect) is
    set, so it is folded back to unsigned first.
    """
    if value is None:
        return None, None, None
    unsigned = value & 0xFFFFFFFF
    core = unsigned & 0xFF
    name = _CORE_TYPES[core] if core < len(_CORE_TYPES) else f"core_{core}"
    redirect = "server" if unsigned & _SERVER_REDIRECT else "client" if unsigned & _CLIENT_REDIRECT else None
    return unsigned, name, redirect


class ChromeHistoryParser(SqliteParser):
    """Chrome for iOS browsing history: URLs, visit times, transitions and referring visits."""

    name = "chrome_history"
    platform = "ios"
    sources = (
        Source(
            "/private/var/mobile/Containers/Data/Application/*/Library/Application Support/"
            "Google/Chrome/Default/History"
        ),
    )
    records = (ChromeVisit,)
    required: ClassVar[dict[str, set[str]]] = {"urls": {"id", "url"}, "visits": {"id", "url"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """One query: urls ⟕ visits, with each referring visit's URL joined in."""
        has_from = "from_visit" in db.columns("visits")
        from_join = (
            "LEFT JOIN visits AS src_v ON src_v.id = visits.from_visit "
            "LEFT JOIN urls AS src_u ON src_u.id = src_v.url"
            if has_from
            else ""
        )
        sql = (
            f"SELECT urls.id AS url_id, urls.url AS url, {db.col('urls', 'title')}, "
            f"{db.col('urls', 'visit_count')}, visits.id AS visit_id, {db.col('visits', 'visit_time')}, "
            f"{db.col('visits', 'transition')}, {db.col('visits', 'from_visit')}, "
            f"{db.col('visits', 'visit_duration')}, {'src_u.url' if has_from else 'NULL'} AS from_url "
            f"FROM urls LEFT JOIN visits ON visits.url = urls.id {from_join} ORDER BY visits.id, urls.id"
        )
        for row in db.query(sql):
            visit_id = integer(row["visit_id"])
            url_id = integer(row["url_id"])
            transition, core, redirect = transition_parts(integer(row["transition"]))
            from_visit = integer(row["from_visit"])
            yield ChromeVisit(
                device_path=db.device_path,
                locator=f"visits.id={visit_id}" if visit_id is not None else f"urls.id={url_id}",
                visit_time=timeutil.webkit(row["visit_time"]),
                url=text(row["url"]),
                title=text(row["title"]),
                url_id=url_id,
                visit_id=visit_id,
                visit_count=integer(row["visit_count"]),
                transition=transition,
                transition_core=core,
                redirect=redirect,
                # Chrome writes 0 for "no referring visit".
                from_visit=from_visit or None,
                from_url=text(row["from_url"]),
                visit_duration_us=integer(row["visit_duration"]),
            )
