"""WhatsApp messages, media items and link previews from ChatStorage.sqlite (Core Data store)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.formats.sqlite import Database
from unmask.model import Content, Obs, Record
from unmask.observables import find_urls
from unmask.parsers.base import ParseContext, Source, SqliteParser, direction, integer, text

_USER_SERVER = "@s.whatsapp.net"


def jid_phone(jid: str | None) -> str | None:
    """The E.164 phone number of a personal WhatsApp JID (``4915…@s.whatsapp.net`` → ``+4915…``).

    Group (``@g.us``), broadcast and LID (``@lid``) JIDs carry no phone number and give ``None``.
    """
    if not jid or not jid.endswith(_USER_SERVER):
        return None
    user = jid[: -len(_USER_SERVER)].split(":", 1)[0]  # multi-device JIDs add ":<device>"
    return f"+{user}" if user.isdigit() and 5 <= len(user) <= 16 else None


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsAppMessage(Record):
    """One WhatsApp message (ZWAMESSAGE row) with the links in its text."""

    kind: ClassVar[str] = "ios/whatsapp/message"
    summary: ClassVar[str] = "{direction} WhatsApp message {from_jid} → {to_jid}: {text}"

    sent: datetime | None = None
    sent_date: datetime | None = None
    pk: int | None = None
    direction: str = "unknown"
    from_jid: str | None = None
    to_jid: str | None = None
    peer_phone: Annotated[str | None, Obs.PHONE] = None
    push_name: str | None = None
    chat_session: int | None = None
    message_type: int | None = None
    text: str | None = None
    links: Annotated[tuple[str, ...], Obs.URL] = ()
    media_item: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsAppMedia(Record):
    """One WhatsApp media item (ZWAMEDIAITEM row): where it was downloaded from and where it is stored."""

    kind: ClassVar[str] = "ios/whatsapp/media"
    content: ClassVar[Content | None] = Content("local_path", name="title", sender="from_jid")
    summary: ClassVar[str] = "WhatsApp media {title} from {media_url} at {local_path}"

    message_date: datetime | None = None
    media_url_date: datetime | None = None
    pk: int | None = None
    message_pk: int | None = None
    direction: str = "unknown"
    from_jid: str | None = None
    media_url: Annotated[str | None, Obs.URL] = None
    local_path: Annotated[str | None, Obs.FILE_PATH] = None
    relative_path: str | None = None
    thumbnail_path: str | None = None
    title: str | None = None
    author_name: str | None = None
    file_size: int | None = None
    links: Annotated[tuple[str, ...], Obs.URL] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsAppDataItem(Record):
    """One WhatsApp message data item (ZWAMESSAGEDATAITEM row), e.g. a link preview."""

    kind: ClassVar[str] = "ios/whatsapp/data_item"
    summary: ClassVar[str] = "WhatsApp data item {title}: {matched_text}"

    date: datetime | None = None
    pk: int | None = None
    message_pk: int | None = None
    sender_jid: str | None = None
    chat_jid: str | None = None
    matched_text: str | None = None
    content1: str | None = None
    content2: str | None = None
    title: str | None = None
    item_summary: str | None = None
    links: Annotated[tuple[str, ...], Obs.URL] = ()


class WhatsAppParser(SqliteParser):
    """WhatsApp messages, links, media download URLs and link previews from ChatStorage.sqlite."""

    name = "whatsapp"
    platform = "ios"
    sources = (Source("/private/var/mobile/Containers/Shared/AppGroup/*/ChatStorage.sqlite"),)
    records = (WhatsAppMessage, WhatsAppMedia, WhatsAppDataItem)
    required: ClassVar[dict[str, set[str]]] = {"ZWAMESSAGE": {"Z_PK"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """Yield messages, then media items, then data items (each table only if present)."""
        yield from self._messages(db)
        if db.has("ZWAMEDIAITEM", "Z_PK"):
            yield from self._media(ctx, db)
        if db.has("ZWAMESSAGEDATAITEM", "Z_PK"):
            yield from self._data_items(db)

    def _messages(self, db: Database) -> Iterator[WhatsAppMessage]:
        cols = [
            db.col("ZWAMESSAGE", "Z_PK", "pk"),
            db.col("ZWAMESSAGE", "ZMESSAGEDATE", "date"),
            db.col("ZWAMESSAGE", "ZSENTDATE", "sent_date"),
            db.col("ZWAMESSAGE", "ZISFROMME", "is_from_me"),
            db.col("ZWAMESSAGE", "ZFROMJID", "from_jid"),
            db.col("ZWAMESSAGE", "ZTOJID", "to_jid"),
            db.col("ZWAMESSAGE", "ZPUSHNAME", "push_name"),
            db.col("ZWAMESSAGE", "ZCHATSESSION", "chat_session"),
            db.col("ZWAMESSAGE", "ZMESSAGETYPE", "message_type"),
            db.col("ZWAMESSAGE", "ZTEXT", "text"),
            db.col("ZWAMESSAGE", "ZMEDIAITEM", "media_item"),
        ]
        for row in db.query(f"SELECT {', '.join(cols)} FROM ZWAMESSAGE ORDER BY ZWAMESSAGE.Z_PK"):
            pk = integer(row["pk"])
            way = direction(row["is_from_me"])
            from_jid, to_jid = text(row["from_jid"]), text(row["to_jid"])
            body = text(row["text"])
            yield WhatsAppMessage(
                device_path=db.device_path,
                locator=f"ZWAMESSAGE.Z_PK={pk}",
                sent=timeutil.cocoa(row["date"]),
                sent_date=timeutil.cocoa(row["sent_date"]),
                pk=pk,
                direction=way,
                from_jid=from_jid,
                to_jid=to_jid,
                # The other party: the sender of a received message, the recipient of a sent one.
                peer_phone=jid_phone(to_jid if way == "sent" else from_jid),
                push_name=text(row["push_name"]),
                chat_session=integer(row["chat_session"]),
                message_type=integer(row["message_type"]),
                text=body,
                links=find_urls(body),
                media_item=integer(row["media_item"]),
            )

    def _media(self, ctx: ParseContext, db: Database) -> Iterator[WhatsAppMedia]:
        joined = "ZMESSAGE" in db.columns("ZWAMEDIAITEM")

        def msg(column: str, alias: str) -> str:
            return db.col("ZWAMESSAGE", column, alias) if joined else f'NULL AS "{alias}"'

        cols = [
            db.col("ZWAMEDIAITEM", "Z_PK", "pk"),
            db.col("ZWAMEDIAITEM", "ZMESSAGE", "message_pk"),
            db.col("ZWAMEDIAITEM", "ZMEDIAURL", "media_url"),
            db.col("ZWAMEDIAITEM", "ZMEDIAURLDATE", "media_url_date"),
            db.col("ZWAMEDIAITEM", "ZMEDIALOCALPATH", "local_path"),
            db.col("ZWAMEDIAITEM", "ZTHUMBNAILLOCALPATH", "thumbnail_path"),
            db.col("ZWAMEDIAITEM", "ZTITLE", "title"),
            db.col("ZWAMEDIAITEM", "ZAUTHORNAME", "author_name"),
            db.col("ZWAMEDIAITEM", "ZFILESIZE", "file_size"),
            msg("ZMESSAGEDATE", "message_date"),
            msg("ZISFROMME", "is_from_me"),
            msg("ZFROMJID", "from_jid"),
        ]
        source = "ZWAMEDIAITEM"
        if joined:
            source += " LEFT JOIN ZWAMESSAGE ON ZWAMESSAGE.Z_PK = ZWAMEDIAITEM.ZMESSAGE"
        container = posixpath.dirname(db.device_path)
        for row in db.query(f"SELECT {', '.join(cols)} FROM {source} ORDER BY ZWAMEDIAITEM.Z_PK"):
            pk = integer(row["pk"])
            relative = text(row["local_path"])
            title = text(row["title"])
            yield WhatsAppMedia(
                device_path=db.device_path,
                locator=f"ZWAMEDIAITEM.Z_PK={pk}",
                message_date=timeutil.cocoa(row["message_date"]),
                media_url_date=timeutil.cocoa(row["media_url_date"]),
                pk=pk,
                message_pk=integer(row["message_pk"]),
                direction=direction(row["is_from_me"]),
                from_jid=text(row["from_jid"]),
                media_url=text(row["media_url"]),
                local_path=_in_container(ctx, container, relative),
                relative_path=relative,
                thumbnail_path=text(row["thumbnail_path"]),
                title=title,
                author_name=text(row["author_name"]),
                file_size=integer(row["file_size"]),
                links=find_urls(title),
            )

    def _data_items(self, db: Database) -> Iterator[WhatsAppDataItem]:
        cols = [
            db.col("ZWAMESSAGEDATAITEM", "Z_PK", "pk"),
            db.col("ZWAMESSAGEDATAITEM", "ZMESSAGE", "message_pk"),
            db.col("ZWAMESSAGEDATAITEM", "ZDATE", "date"),
            db.col("ZWAMESSAGEDATAITEM", "ZSENDERJID", "sender_jid"),
            db.col("ZWAMESSAGEDATAITEM", "ZCHATJID", "chat_jid"),
            db.col("ZWAMESSAGEDATAITEM", "ZMATCHEDTEXT", "matched_text"),
            db.col("ZWAMESSAGEDATAITEM", "ZCONTENT1", "content1"),
            db.col("ZWAMESSAGEDATAITEM", "ZCONTENT2", "content2"),
            db.col("ZWAMESSAGEDATAITEM", "ZTITLE", "title"),
            db.col("ZWAMESSAGEDATAITEM", "ZSUMMARY", "item_summary"),
        ]
        sql = f"SELECT {', '.join(cols)} FROM ZWAMESSAGEDATAITEM ORDER BY ZWAMESSAGEDATAITEM.Z_PK"
        for row in db.query(sql):
            pk = integer(row["pk"])
            matched = text(row["matched_text"])
            content1, content2 = text(row["content1"]), text(row["content2"])
            yield WhatsAppDataItem(
                device_path=db.device_path,
                locator=f"ZWAMESSAGEDATAITEM.Z_PK={pk}",
                date=timeutil.cocoa(row["date"]),
                pk=pk,
                message_pk=integer(row["message_pk"]),
                sender_jid=text(row["sender_jid"]),
                chat_jid=text(row["chat_jid"]),
                matched_text=matched,
                content1=content1,
                content2=content2,
                title=text(row["title"]),
                item_summary=text(row["item_summary"]),
                links=find_urls(matched, content1, content2),
            )


def _in_container(ctx: ParseContext, container: str, relative: str | None) -> str | None:
    """The device path of a media file named by ZMEDIALOCALPATH.

    The column is relative to the app group's ``Message/`` folder ("Media/<jid>/…/x.jpg" is stored
    at "<group>/Message/Media/<jid>/…"); older databases name it relative to the group itself. The
    form the evidence holds wins; otherwise the ``Message/`` form, the usual one.
    """
    if not relative:
        return None
    if relative.startswith("/"):
        return relative
    if relative.startswith("./"):
        relative = relative[2:]
    candidates = [f"{container}/{relative}"]
    if not relative.startswith("Message/"):
        candidates.insert(0, f"{container}/Message/{relative}")
    return next((c for c in candidates if ctx.acq.entry(c) is not None), candidates[0])
