"""WhatsApp's contacts (``ContactsV2.sqlite``): names, phone numbers, WhatsApp ids and LID numbers.

WhatsApp for iOS keeps its view of the address book in the shared app group
(``ZWAADDRESSBOOKCONTACT``): full name, phone number, the ``…@s.whatsapp.net`` id and, in newer
versions, the ``…@lid`` linked-device identity (``ZLID``) that messages from hidden numbers carry
instead of a phone number. Resolving a LID to a number ties an attacker's message to a contact.
Schemas: real WhatsApp stores from iOS 15.3.1 and 16.1.1 (tests/schemas/ios/ContactsV2.sqlite);
the columns of newer versions (``ZLID``, ``ZUSERNAME``, ``ZBUSINESSNAME``…) are read when present, as
MVT's WhatsappContacts module does (research/mvt.md §3.3).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.formats.sqlite import Database
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Source, SqliteParser, text


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsAppContact(Record):
    """One WhatsApp contact: name, number, WhatsApp id, LID."""

    kind: ClassVar[str] = "ios/whatsapp_contacts/contact"
    summary: ClassVar[str] = "WhatsApp contact {full_name}: {phone} ({whatsapp_id}, LID {lid})"

    about_time: datetime | None = None
    full_name: str | None = None
    given_name: str | None = None
    phone: Annotated[str | None, Obs.PHONE] = None
    whatsapp_id: str | None = None
    lid: str | None = None
    username: str | None = None
    business_name: str | None = None
    about: str | None = None
    links: Annotated[tuple[str, ...], Obs.URL] = ()


class WhatsAppContactsParser(SqliteParser):
    """WhatsApp's contacts (ContactsV2.sqlite): names, numbers, WhatsApp ids and LIDs."""

    name = "whatsapp_contacts"
    platform = "ios"
    sources = (Source("/private/var/mobile/Containers/Shared/AppGroup/*/ContactsV2.sqlite"),)
    records = (WhatsAppContact,)
    required: ClassVar[dict[str, set[str]]] = {"ZWAADDRESSBOOKCONTACT": {"Z_PK"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """One record per contact row (column-adaptive across WhatsApp versions)."""
        from unmask.observables import find_urls

        t = "ZWAADDRESSBOOKCONTACT"
        cols = ["ZFULLNAME", "ZGIVENNAME", "ZPHONENUMBER", "ZWHATSAPPID", "ZLID", "ZUSERNAME", "ZBUSINESSNAME",
                "ZABOUTTEXT", "ZABOUTTIMESTAMP"]
        sql = f"SELECT Z_PK, {', '.join(db.col(t, c) for c in cols)} FROM {t} ORDER BY Z_PK"
        for row in db.query(sql):
            about = text(row["ZABOUTTEXT"])
            yield WhatsAppContact(
                device_path=db.device_path,
                locator=f"{t}.Z_PK={row['Z_PK']}",
                about_time=timeutil.cocoa(row["ZABOUTTIMESTAMP"]),
                full_name=text(row["ZFULLNAME"]),
                given_name=text(row["ZGIVENNAME"]),
                phone=text(row["ZPHONENUMBER"]),
                whatsapp_id=text(row["ZWHATSAPPID"]),
                lid=text(row["ZLID"]),
                username=text(row["ZUSERNAME"]),
                business_name=text(row["ZBUSINESSNAME"]),
                about=about,
                links=find_urls(about),
            )
