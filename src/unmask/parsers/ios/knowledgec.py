"""KnowledgeC (``knowledgeC.db``): which app was in use when, and which web pages apps showed.

CoreDuet's knowledge store keeps event streams in ``ZOBJECT`` rows named by ``ZSTREAMNAME``:
``/app/usage`` and ``/app/inFocus`` (an app in the foreground: its bundle id in ``ZVALUESTRING``,
``ZSTARTDATE``/``ZENDDATE``), ``/app/webUsage`` (Screen Time's web usage: the app, and the domain and
page URL in ``ZSTRUCTUREDMETADATA``'s ``Z_DKDIGITALHEALTHMETADATAKEY__WEBDOMAIN`` / ``…__WEBPAGEURL``),
``/safari/history``, ``/app/activity`` (the URL of an activity). MVT has no module for it; it
was used in published forensic work (Sarah Edwards, "Knowledge is Power" (2018) and her APOLLO
modules; Amnesty's Pegasus methodology used comparable app-usage timelines) to place an exploit's
delivery next to what the user was doing. The store is not in backups; read on dumps.
Schema: CoreDuet's store is the same family on macOS and iOS; the fixtures use the real macOS
10.14 file (tests/schemas/macos/knowledgeC.db; no iOS DDL was found), and every column but the
stream name and times is optional. Times are Mac absolute seconds.
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

STREAMS = ("/app/usage", "/app/inFocus", "/app/webUsage", "/app/activity", "/safari/history", "/app/install")
_META = "ZSTRUCTUREDMETADATA"
_DOMAIN = "Z_DKDIGITALHEALTHMETADATAKEY__WEBDOMAIN"
_PAGE = "Z_DKDIGITALHEALTHMETADATAKEY__WEBPAGEURL"
_ACTIVITY_URL = "Z_DKAPPLICATIONACTIVITYMETADATAKEY__ITEMRELATEDCONTENTURL"


@dataclass(frozen=True, slots=True, kw_only=True)
class KnowledgeEvent(Record):
    """One app-usage or web-usage event of the knowledge store."""

    kind: ClassVar[str] = "ios/knowledgec/event"
    summary: ClassVar[str] = "{stream}: {bundle_id} {url}"

    start: datetime | None = None
    end: datetime | None = None
    created: datetime | None = None
    stream: str
    bundle_id: Annotated[str | None, Obs.APP_ID] = None
    value: str | None = None
    domain: Annotated[str | None, Obs.HOST] = None
    url: Annotated[str | None, Obs.URL] = None
    source_bundle_id: str | None = None
    seconds_from_gmt: int | None = None


class KnowledgeCParser(SqliteParser):
    """App usage, focus and web usage streams of the knowledge store (knowledgeC.db)."""

    name = "knowledgec"
    platform = "ios"
    sources = (Source("/private/var/mobile/Library/CoreDuet/Knowledge/knowledgeC.db"),)
    records = (KnowledgeEvent,)
    required: ClassVar[dict[str, set[str]]] = {"ZOBJECT": {"Z_PK", "ZSTREAMNAME"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """One record per event of the usage streams."""
        o = "ZOBJECT"
        meta_join = f"LEFT JOIN {_META} m ON m.Z_PK = ZOBJECT.ZSTRUCTUREDMETADATA" if (
            db.has(_META, "Z_PK") and "ZSTRUCTUREDMETADATA" in db.columns(o)
        ) else ""
        source_join = "LEFT JOIN ZSOURCE s ON s.Z_PK = ZOBJECT.ZSOURCE" if (
            db.has("ZSOURCE", "Z_PK", "ZBUNDLEID") and "ZSOURCE" in db.columns(o)
        ) else ""

        def meta(column: str, alias: str) -> str:
            return f'm."{column}" AS "{alias}"' if meta_join and column in db.columns(_META) else f'NULL AS "{alias}"'

        cols = ", ".join(db.col(o, c) for c in ("ZVALUESTRING", "ZSTARTDATE", "ZENDDATE", "ZCREATIONDATE", "ZSECONDSFROMGMT"))
        source = 's.ZBUNDLEID AS source_bundle' if source_join else "NULL AS source_bundle"
        marks = ",".join("?" * len(STREAMS))
        sql = (
            f"SELECT ZOBJECT.Z_PK AS pk, ZOBJECT.ZSTREAMNAME AS stream, {cols}, {meta(_DOMAIN, 'domain')}, "
            f"{meta(_PAGE, 'page')}, {meta(_ACTIVITY_URL, 'activity_url')}, {source} FROM {o} {meta_join} {source_join} "
            f"WHERE ZOBJECT.ZSTREAMNAME IN ({marks}) ORDER BY ZOBJECT.Z_PK"
        )
        for row in db.query(sql, STREAMS):
            stream = str(row["stream"])
            value = text(row["ZVALUESTRING"])
            url = text(row["page"]) or text(row["activity_url"]) or (value if stream == "/safari/history" else None)
            bundle = value if stream.startswith("/app/") and stream != "/app/activity" else text(row["source_bundle"])
            yield KnowledgeEvent(
                device_path=db.device_path,
                locator=f"ZOBJECT.Z_PK={row['pk']}",
                start=timeutil.cocoa(row["ZSTARTDATE"]),
                end=timeutil.cocoa(row["ZENDDATE"]),
                created=timeutil.cocoa(row["ZCREATIONDATE"]),
                stream=stream,
                bundle_id=bundle,
                value=value,
                domain=text(row["domain"]),
                url=url,
                source_bundle_id=text(row["source_bundle"]),
                seconds_from_gmt=integer(row["ZSECONDSFROMGMT"]),
            )
