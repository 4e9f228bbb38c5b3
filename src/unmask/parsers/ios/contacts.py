"""The address book (``AddressBook.sqlitedb``): contacts with their phone numbers and email addresses.

``ABPerson`` holds one row per contact (names, organisation, creation and modification times in
Mac absolute seconds); ``ABMultiValue`` holds their values, ``property`` 3 for phone numbers and 4
for email addresses, with ``record_id`` pointing at the person. Operators reach targets through
contacts, and a contact saved for an attacker's number or address is worth matching. Schemas: real
iOS 7, 15.3.1, 16.1.1 and 16.3 files (tests/schemas/ios/AddressBook.sqlitedb); MVT's Contacts
module reads the same join (research/mvt.md §3.3).
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

_PROPERTIES = {3: "phone", 4: "email", 22: "url", 46: "social"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact(Record):
    """One phone number, email address or link of a contact."""

    kind: ClassVar[str] = "ios/contacts/value"
    summary: ClassVar[str] = "contact {first} {last} ({organization}): {value_kind} {value}"

    created: datetime | None = None
    modified: datetime | None = None
    person_id: int | None = None
    first: str | None = None
    middle: str | None = None
    last: str | None = None
    organization: str | None = None
    value_kind: str | None = None
    value: Annotated[str | None, Obs.PHONE_OR_EMAIL] = None
    link: Annotated[str | None, Obs.URL] = None


class ContactsParser(SqliteParser):
    """Contacts in the address book with their phone numbers, email addresses and links."""

    name = "contacts"
    platform = "ios"
    sources = (Source("/private/var/mobile/Library/AddressBook/AddressBook.sqlitedb"),)
    records = (Contact,)
    required: ClassVar[dict[str, set[str]]] = {
        "ABPerson": {"ROWID"},
        "ABMultiValue": {"record_id", "property", "value"},
    }

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """One record per multi-value of a person (phones, emails, links)."""
        p = "ABPerson"
        sql = (
            f"SELECT ABMultiValue.UID AS uid, ABMultiValue.property AS property, ABMultiValue.value AS value, "
            f"{p}.ROWID AS person, {db.col(p, 'First')}, {db.col(p, 'Middle')}, {db.col(p, 'Last')}, "
            f"{db.col(p, 'Organization')}, {db.col(p, 'CreationDate')}, {db.col(p, 'ModificationDate')} "
            f"FROM ABMultiValue LEFT JOIN {p} ON {p}.ROWID = ABMultiValue.record_id "
            "ORDER BY ABMultiValue.record_id, ABMultiValue.UID"
        )
        for row in db.query(sql):
            prop = integer(row["property"])
            what = _PROPERTIES.get(prop or -1, f"property {prop}")
            value = text(row["value"])
            yield Contact(
                device_path=db.device_path,
                locator=f"ABMultiValue.UID={row['uid']}",
                created=timeutil.cocoa(row["CreationDate"]),
                modified=timeutil.cocoa(row["ModificationDate"]),
                person_id=integer(row["person"]),
                first=text(row["First"]),
                middle=text(row["Middle"]),
                last=text(row["Last"]),
                organization=text(row["Organization"]),
                value_kind=what,
                value=value if what in ("phone", "email") else None,
                link=value if what in ("url", "social") else None,
            )
