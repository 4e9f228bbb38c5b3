"""SMS and iMessage messages from sms.db, with the handles they involve and the links they carry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.formats.sqlite import Database
from unmask.model import Obs, Record
from unmask.observables import find_urls
from unmask.parsers.base import ParseContext, Source, SqliteParser, direction, integer, text

SMS_DB = "/private/var/mobile/Library/SMS/sms.db"

# iOS 14+ may leave message.text NULL and keep the body only in attributedBody, an NSArchiver
# "typedstream". The first NSString in it is the plain text; its length is a typedstream integer.
_TYPEDSTREAM_MAGIC = b"streamtyped"
_MAX_BODY = 1 << 20


def attributed_text(blob: object) -> str | None:
    """The plain text of an ``attributedBody`` typedstream, or ``None`` when it is not one we can read.

    Only the first NSString is read, with bounds checks on every length, so a corrupt or hostile
    blob yields ``None`` instead of garbage or an error.
    """
    if not isinstance(blob, bytes) or _TYPEDSTREAM_MAGIC not in blob[:16]:
        return None
    at = blob.find(b"NSString")
    if at < 0:
        return None
    # After the class name come a few bytes of class/version bookkeeping, then '+' (C string type).
    plus = blob.find(b"+", at + 8, at + 16)
    if plus < 0 or plus + 1 >= len(blob):
        return None
    i = plus + 1
    length = blob[i]
    i += 1
    if length == 0x81:  # 16-bit little-endian length follows
        length = int.from_bytes(blob[i : i + 2], "little")
        i += 2
    elif length == 0x82:  # 32-bit little-endian length follows
        length = int.from_bytes(blob[i : i + 4], "little")
        i += 4
    elif length >= 0x80:
        return None
    if length <= 0 or length > _MAX_BODY or i + length > len(blob):
        return None
    return blob[i : i + length].decode("utf-8", "backslashreplace")


def chat_identifiers(db: Database) -> dict[int, str]:
    """``message ROWID → chat identifier`` from chat_message_join ⟕ chat (empty if either is missing).

    Loaded once rather than joined per row: old schemas have no index on the join table.
    """
    if not db.has("chat_message_join", "chat_id", "message_id"):
        return {}
    if not db.has("chat", "ROWID", "chat_identifier"):
        return {}
    out: dict[int, str] = {}
    sql = (
        "SELECT chat_message_join.message_id AS message_id, chat.chat_identifier AS identifier "
        "FROM chat_message_join JOIN chat ON chat.ROWID = chat_message_join.chat_id"
    )
    for row in db.query(sql):
        key = integer(row["message_id"])
        value = text(row["identifier"])
        if key is not None and value and key not in out:
            out[key] = value
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsMessage(Record):
    """One SMS or iMessage message."""

    kind: ClassVar[str] = "ios/sms/message"
    summary: ClassVar[str] = "{direction} {service} message {handle}: {text}"

    sent: datetime | None = None
    read: datetime | None = None
    delivered: datetime | None = None
    rowid: int | None = None
    guid: str | None = None
    direction: str = "unknown"
    service: str | None = None
    handle: Annotated[str | None, Obs.PHONE_OR_EMAIL] = None
    account: str | None = None
    destination_caller_id: str | None = None
    chat_identifier: str | None = None
    subject: str | None = None
    text: str | None = None
    text_from_attributed_body: bool = False
    links: Annotated[tuple[str, ...], Obs.URL] = ()
    has_attachments: bool = False


class SmsParser(SqliteParser):
    """SMS and iMessage messages from sms.db, with sender/recipient handles and links in their text."""

    name = "sms"
    platform = "ios"
    sources = (Source(SMS_DB),)
    records = (SmsMessage,)
    required: ClassVar[dict[str, set[str]]] = {"message": {"ROWID"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[SmsMessage]:
        """Yield one record per message row, oldest schema (iOS 6) to newest."""
        joined = db.has("handle", "ROWID") and "handle_id" in db.columns("message")
        cols = [
            db.col("message", "ROWID", "rowid"),
            db.col("message", "guid"),
            db.col("message", "text"),
            db.col("message", "subject"),
            db.col("message", "attributedBody", "attributed_body"),
            db.col("message", "service"),
            db.col("message", "account"),
            db.col("message", "destination_caller_id"),
            db.col("message", "date"),
            db.col("message", "date_read"),
            db.col("message", "date_delivered"),
            db.col("message", "is_from_me"),
            db.col("message", "cache_has_attachments"),
        ]
        if joined:
            cols += [db.col("handle", "id", "handle"), db.col("handle", "service", "handle_service")]
            source = "message LEFT JOIN handle ON handle.ROWID = message.handle_id"
        else:
            cols += ['NULL AS "handle"', 'NULL AS "handle_service"']
            source = "message"
        chats = chat_identifiers(db)
        for row in db.query(f"SELECT {', '.join(cols)} FROM {source} ORDER BY message.ROWID"):
            rowid = integer(row["rowid"])
            body = text(row["text"])
            from_blob = False
            if not body:
                body = attributed_text(row["attributed_body"])
                from_blob = body is not None
            subject = text(row["subject"])
            body_links = find_urls(body)
            links = body_links + tuple(u for u in find_urls(subject) if u not in body_links)
            yield SmsMessage(
                device_path=db.device_path,
                locator=f"message.ROWID={rowid}",
                sent=timeutil.cocoa_auto(row["date"]),
                read=timeutil.cocoa_auto(row["date_read"]),
                delivered=timeutil.cocoa_auto(row["date_delivered"]),
                rowid=rowid,
                guid=text(row["guid"]),
                direction=direction(row["is_from_me"]),
                service=text(row["service"]) or text(row["handle_service"]),
                handle=text(row["handle"]),
                account=text(row["account"]),
                destination_caller_id=text(row["destination_caller_id"]),
                chat_identifier=chats.get(rowid) if rowid is not None else None,
                subject=subject,
                text=body,
                text_from_attributed_body=from_blob,
                links=links,
                has_attachments=integer(row["cache_has_attachments"]) == 1,
            )
