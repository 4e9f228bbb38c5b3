"""Calendar events from Calendar.sqlitedb, with their organizer and participants."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.formats.sqlite import Database
from unmask.model import Obs, Record
from unmask.observables import find_urls
from unmask.parsers.base import ParseContext, Source, SqliteParser, flag, integer, text


@dataclass
class _Participant:
    email: str | None
    phone: str | None


@dataclass
class _People:
    by_rowid: dict[int, _Participant] = field(default_factory=dict)
    by_owner: dict[int, list[_Participant]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarEvent(Record):
    """One calendar item (event or invitation) with its organizer and participants."""

    kind: ClassVar[str] = "ios/calendar/event"
    summary: ClassVar[str] = 'Calendar event "{title}" (notes: {notes}) organised by {organizer_email}'

    start: datetime | None = None
    end: datetime | None = None
    created: datetime | None = None
    modified: datetime | None = None
    rowid: int | None = None
    title: str | None = None
    notes: str | None = None
    calendar: str | None = None
    all_day: bool | None = None
    hidden: bool | None = None
    invitation_status: int | None = None
    organizer_email: Annotated[str | None, Obs.EMAIL] = None
    organizer_phone: Annotated[str | None, Obs.PHONE] = None
    participant_emails: Annotated[tuple[str, ...], Obs.EMAIL] = ()
    participant_phones: Annotated[tuple[str, ...], Obs.PHONE] = ()
    url: Annotated[str | None, Obs.URL] = None
    conference_url: Annotated[str | None, Obs.URL] = None
    links: Annotated[tuple[str, ...], Obs.URL] = ()
    unique_identifier: str | None = None
    external_id: str | None = None


def _people(db: Database) -> _People:
    people = _People()
    if not db.has("Participant", "ROWID"):
        return people
    cols = [
        db.col("Participant", "ROWID", "rowid"),
        db.col("Participant", "owner_id", "owner_id"),
        db.col("Participant", "email", "email"),
        db.col("Participant", "phone_number", "phone"),
    ]
    source = "Participant"
    # Older stores keep the address in Identity; use it when the participant row has none.
    if db.has("Identity", "address") and "identity_id" in db.columns("Participant"):
        cols.append('"Identity"."address" AS "identity_address"')
        source += " LEFT JOIN Identity ON Identity.ROWID = Participant.identity_id"
    else:
        cols.append('NULL AS "identity_address"')
    for row in db.query(f"SELECT {', '.join(cols)} FROM {source}"):
        person = _Participant(
            # Kept as stored ("mailto:" URIs included); observables.py normalises for matching.
            email=text(row["email"]) or text(row["identity_address"]),
            phone=(text(row["phone"]) or "").strip() or None,
        )
        rowid, owner = integer(row["rowid"]), integer(row["owner_id"])
        if rowid is not None:
            people.by_rowid[rowid] = person
        if owner is not None:
            people.by_owner.setdefault(owner, []).append(person)
    return people


def _unique(values: list[str | None]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        if value and value not in out:
            out.append(value)
    return tuple(out)


class CalendarParser(SqliteParser):
    """Calendar events (titles, notes, times) with organizer and participant emails and URLs."""

    name = "calendar"
    platform = "ios"
    sources = (Source("/private/var/mobile/Library/Calendar/Calendar.sqlitedb"),)
    records = (CalendarEvent,)
    required: ClassVar[dict[str, set[str]]] = {"CalendarItem": {"ROWID"}}

    def rows(self, ctx: ParseContext, db: Database) -> Iterator[CalendarEvent]:
        """One record per CalendarItem row, participants attached by owner id."""
        people = _people(db)
        cols = [
            db.col("CalendarItem", "ROWID", "rowid"),
            db.col("CalendarItem", "summary", "title"),
            db.col("CalendarItem", "description", "notes"),
            db.col("CalendarItem", "start_date", "start_date"),
            db.col("CalendarItem", "end_date", "end_date"),
            db.col("CalendarItem", "creation_date", "creation_date"),
            db.col("CalendarItem", "last_modified", "last_modified"),
            db.col("CalendarItem", "all_day", "all_day"),
            db.col("CalendarItem", "hidden", "hidden"),
            db.col("CalendarItem", "invitation_status", "invitation_status"),
            db.col("CalendarItem", "organizer_id", "organizer_id"),
            db.col("CalendarItem", "url", "url"),
            db.col("CalendarItem", "conference_url", "conference_url"),
            db.col("CalendarItem", "unique_identifier", "unique_identifier"),
            db.col("CalendarItem", "external_id", "external_id"),
        ]
        source = "CalendarItem"
        if db.has("Calendar", "ROWID", "title") and "calendar_id" in db.columns("CalendarItem"):
            cols.append('"Calendar"."title" AS "calendar"')
            source += " LEFT JOIN Calendar ON Calendar.ROWID = CalendarItem.calendar_id"
        else:
            cols.append('NULL AS "calendar"')
        for row in db.query(f"SELECT {', '.join(cols)} FROM {source} ORDER BY CalendarItem.ROWID"):
            rowid = integer(row["rowid"])
            organizer_id = integer(row["organizer_id"])
            organizer = people.by_rowid.get(organizer_id) if organizer_id is not None else None
            attendees = people.by_owner.get(rowid, []) if rowid is not None else []
            notes = text(row["notes"])
            yield CalendarEvent(
                device_path=db.device_path,
                locator=f"CalendarItem.ROWID={rowid}",
                start=timeutil.cocoa(row["start_date"]),
                end=timeutil.cocoa(row["end_date"]),
                created=timeutil.cocoa(row["creation_date"]),
                modified=timeutil.cocoa(row["last_modified"]),
                rowid=rowid,
                title=text(row["title"]),
                notes=notes,
                calendar=text(row["calendar"]),
                all_day=flag(row["all_day"]),
                hidden=flag(row["hidden"]),
                invitation_status=integer(row["invitation_status"]),
                organizer_email=organizer.email if organizer else None,
                organizer_phone=organizer.phone if organizer else None,
                participant_emails=_unique([p.email for p in attendees]),
                participant_phones=_unique([p.phone for p in attendees]),
                url=text(row["url"]),
                conference_url=text(row["conference_url"]),
                links=find_urls(notes),
                unique_identifier=text(row["unique_identifier"]),
                external_id=text(row["external_id"]),
            )
