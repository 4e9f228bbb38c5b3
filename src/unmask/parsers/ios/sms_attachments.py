"""SMS and iMessage attachments from sms.db, each tied to the message (and sender) that delivered it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.formats.sqlite import Database
from unmask.model import Content, Obs, Record
from unmask.parsers.base import ParseContext, Source, SqliteParser, direction, integer, text
from unmask.parsers.ios.sms import SMS_DB

# Messages stores attachment paths relative to the mobile user's home folder.
_HOME = "/private/var/mobile"


def device_file_path(filename: str | None) -> str | None:
    """An attachment ``filename`` as a device path: ``~/Library/…`` → ``/private/var/mobile/Library/…``."""
    if not filename:
        return None
    if filename == "~":
        return _HOME
    if filename.startswith("~/"):
        return _HOME + filename[1:]
    return filename


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsAttachment(Record):
    """One attachment of an SMS/iMessage message, with the message that delivered it."""

    kind: ClassVar[str] = "ios/sms/attachment"
    content: ClassVar[Content | None] = Content(
        "path", name="transfer_name", mime="mime_type", sender="handle"
    )
    summary: ClassVar[str] = (
        "{direction} attachment {transfer_name} ({mime_type}, {total_bytes} bytes) {handle}: {path}"
    )

    created: datetime | None = None
    message_date: datetime | None = None
    rowid: int | None = None
    guid: str | None = None
    path: Annotated[str | None, Obs.FILE_PATH] = None
    filename: str | None = None
    transfer_name: Annotated[str | None, Obs.FILE_NAME] = None
    mime_type: str | None = None
    uti: str | None = None
    total_bytes: int | None = None
    is_outgoing: bool | None = None
    is_sticker: bool | None = None
    has_user_info: bool = False
    direction: str = "unknown"
    service: str | None = None
    handle: Annotated[str | None, Obs.PHONE_OR_EMAIL] = None
    message_rowid: int | None = None
    message_guid: str | None = None


class SmsAttachmentsParser(SqliteParser):
    """Attachments of SMS/iMessage messages in sms.db: device paths, names, types, sizes and senders."""

    name = "sms_attachments"
    platform = "ios"
    sources = (Source(SMS_DB),)
    records = (SmsAttachment,)
    required: ClassVar[dict[str, set[str]]] = {"attachment": {"ROWID", "filename"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[SmsAttachment]:
        """Yield one record per attachment and message it belongs to (unlinked attachments too)."""
        joined: set[str] = {"attachment"}
        source = "attachment"
        if db.has("message_attachment_join", "message_id", "attachment_id") and db.has("message", "ROWID"):
            source += (
                " LEFT JOIN message_attachment_join"
                " ON message_attachment_join.attachment_id = attachment.ROWID"
                " LEFT JOIN message ON message.ROWID = message_attachment_join.message_id"
            )
            joined.add("message")
            if db.has("handle", "ROWID") and "handle_id" in db.columns("message"):
                source += " LEFT JOIN handle ON handle.ROWID = message.handle_id"
                joined.add("handle")

        def col(table: str, column: str, alias: str) -> str:
            return db.col(table, column, alias) if table in joined else f'NULL AS "{alias}"'

        cols = [
            col("attachment", "ROWID", "rowid"),
            col("attachment", "guid", "guid"),
            col("attachment", "created_date", "created_date"),
            col("attachment", "filename", "filename"),
            col("attachment", "transfer_name", "transfer_name"),
            col("attachment", "mime_type", "mime_type"),
            col("attachment", "uti", "uti"),
            col("attachment", "total_bytes", "total_bytes"),
            col("attachment", "is_outgoing", "is_outgoing"),
            col("attachment", "is_sticker", "is_sticker"),
            # user_info can be large; only whether it is present matters here.
            "attachment.user_info IS NOT NULL AS has_user_info"
            if "user_info" in db.columns("attachment")
            else '0 AS "has_user_info"',
            col("message", "ROWID", "message_rowid"),
            col("message", "guid", "message_guid"),
            col("message", "date", "message_date"),
            col("message", "is_from_me", "is_from_me"),
            col("message", "service", "service"),
            col("handle", "id", "handle"),
            col("handle", "service", "handle_service"),
        ]
        sql = f"SELECT {', '.join(cols)} FROM {source} ORDER BY attachment.ROWID"
        for row in db.query(sql):
            rowid = integer(row["rowid"])
            filename = text(row["filename"])
            outgoing = integer(row["is_outgoing"])
            sticker = integer(row["is_sticker"])
            way = direction(row["is_from_me"])
            if way == "unknown" and outgoing in (0, 1):
                # Not linked to a message: the attachment's own flag still says which way it went.
                way = "sent" if outgoing == 1 else "received"
            message_rowid = integer(row["message_rowid"])
            locator = f"attachment.ROWID={rowid}"
            if message_rowid is not None:
                locator += f" message.ROWID={message_rowid}"
            yield SmsAttachment(
                device_path=db.device_path,
                locator=locator,
                created=timeutil.cocoa_auto(row["created_date"]),
                message_date=timeutil.cocoa_auto(row["message_date"]),
                rowid=rowid,
                guid=text(row["guid"]),
                path=device_file_path(filename),
                filename=filename,
                transfer_name=text(row["transfer_name"]),
                mime_type=text(row["mime_type"]),
                uti=text(row["uti"]),
                total_bytes=integer(row["total_bytes"]),
                is_outgoing=None if outgoing not in (0, 1) else outgoing == 1,
                is_sticker=None if sticker not in (0, 1) else sticker == 1,
                has_user_info=integer(row["has_user_info"]) == 1,
                direction=way,
                service=text(row["service"]) or text(row["handle_service"]),
                handle=text(row["handle"]),
                message_rowid=message_rowid,
                message_guid=text(row["message_guid"]),
            )
