"""CoreDuet interactions (``interactionC.db``): who the user exchanged messages and calls with, in which app.

The People/interactions store records one ``ZINTERACTIONS`` row per interaction the system learnt
of (a message sent or received, a call, a share): the app (``ZBUNDLEID``), start and end times,
the direction, the sender (``ZSENDER`` → ``ZCONTACTS``: display name and identifier, a phone
number or email address), the recipients (join table) and attachments with their content URLs.
It survives deleting the messages themselves. Tables and columns as MVT's InteractionC module
reads them (research/mvt.md §3.3) from its hand-written fixture (tests/schemas/ios/interactionC.db;
no real DDL was found; Core Data join-table names vary by model version, so the joins are
optional); times are Mac absolute seconds.
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

_DIRECTIONS = {0: "incoming", 1: "outgoing"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Interaction(Record):
    """One interaction: app, time, direction, sender, recipients, attachment links."""

    kind: ClassVar[str] = "ios/interactionc/interaction"
    summary: ClassVar[str] = "{direction} interaction in {bundle_id} from {sender_name} ({sender}) to {recipients}"

    start: datetime | None = None
    end: datetime | None = None
    created: datetime | None = None
    bundle_id: Annotated[str | None, Obs.APP_ID] = None
    target_bundle_id: str | None = None
    direction: str | None = None
    mechanism: int | None = None
    sender_name: str | None = None
    sender: Annotated[str | None, Obs.PHONE_OR_EMAIL] = None
    recipients: Annotated[tuple[str, ...], Obs.PHONE_OR_EMAIL] = ()
    account: str | None = None
    group_name: str | None = None
    content_urls: Annotated[tuple[str, ...], Obs.URL] = ()


class InteractionCParser(SqliteParser):
    """Interactions CoreDuet learnt of (interactionC.db): apps, contacts, times, directions."""

    name = "interactionc"
    platform = "ios"
    sources = (Source("/private/var/mobile/Library/CoreDuet/People/interactionC.db"),)
    records = (Interaction,)
    required: ClassVar[dict[str, set[str]]] = {"ZINTERACTIONS": {"Z_PK"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """One record per interaction; recipients and attachment URLs from the join tables when present."""
        recipients: dict[int, list[str]] = {}
        if db.has("Z_2INTERACTIONRECIPIENT", "Z_2RECIPIENTS", "Z_3INTERACTIONRECIPIENT") and db.has(
            "ZCONTACTS", "Z_PK", "ZIDENTIFIER"
        ):
            for row in db.query(
                "SELECT j.Z_3INTERACTIONRECIPIENT AS i, c.ZIDENTIFIER AS ident FROM Z_2INTERACTIONRECIPIENT j "
                "JOIN ZCONTACTS c ON c.Z_PK = j.Z_2RECIPIENTS"
            ):
                key, ident = integer(row["i"]), text(row["ident"])
                if key is not None and ident and len(recipients.get(key, ())) < 64:
                    recipients.setdefault(key, []).append(ident)
        attachments: dict[int, list[str]] = {}
        if db.has("Z_1INTERACTIONS", "Z_1ATTACHMENTS", "Z_3INTERACTIONS") and db.has("ZATTACHMENT", "ZCONTENTURL"):
            for row in db.query(
                "SELECT j.Z_3INTERACTIONS AS i, a.ZCONTENTURL AS url FROM Z_1INTERACTIONS j "
                "JOIN ZATTACHMENT a ON a.Z_PK = j.Z_1ATTACHMENTS"
            ):
                key, url = integer(row["i"]), text(row["url"])
                if key is not None and url and len(attachments.get(key, ())) < 64:
                    attachments.setdefault(key, []).append(url)
        t = "ZINTERACTIONS"
        sender = (
            "LEFT JOIN ZCONTACTS s ON s.Z_PK = ZINTERACTIONS.ZSENDER"
            if db.has("ZCONTACTS", "Z_PK") and "ZSENDER" in db.columns(t)
            else ""
        )
        def contact(column: str, alias: str) -> str:
            return f's."{column}" AS "{alias}"' if sender and column in db.columns("ZCONTACTS") else f'NULL AS "{alias}"'

        sender_cols = f"{contact('ZDISPLAYNAME', 'sender_name')}, {contact('ZIDENTIFIER', 'sender_id')}"
        cols = ["ZSTARTDATE", "ZENDDATE", "ZCREATIONDATE", "ZBUNDLEID", "ZTARGETBUNDLEID", "ZDIRECTION", "ZMECHANISM",
                "ZACCOUNT", "ZGROUPNAME", "ZCONTENTURL"]
        sql = (
            f"SELECT ZINTERACTIONS.Z_PK AS pk, {', '.join(db.col(t, c) for c in cols)}, {sender_cols} "
            f"FROM {t} {sender} ORDER BY ZINTERACTIONS.Z_PK"
        )
        for row in db.query(sql):
            pk = integer(row["pk"])  # NULL in a damaged row
            urls = [u for u in (text(row["ZCONTENTURL"]),) if u] + (attachments.get(pk, []) if pk is not None else [])
            direction = integer(row["ZDIRECTION"])
            yield Interaction(
                device_path=db.device_path,
                locator=f"ZINTERACTIONS.Z_PK={pk}",
                start=timeutil.cocoa(row["ZSTARTDATE"]),
                end=timeutil.cocoa(row["ZENDDATE"]),
                created=timeutil.cocoa(row["ZCREATIONDATE"]),
                bundle_id=text(row["ZBUNDLEID"]),
                target_bundle_id=text(row["ZTARGETBUNDLEID"]),
                direction=None if direction is None else _DIRECTIONS.get(direction, str(direction)),
                mechanism=integer(row["ZMECHANISM"]),
                sender_name=text(row["sender_name"]),
                sender=text(row["sender_id"]),
                recipients=tuple(recipients.get(pk, ())) if pk is not None else (),
                account=text(row["ZACCOUNT"]),
                group_name=text(row["ZGROUPNAME"]),
                content_urls=tuple(dict.fromkeys(urls)),
            )
