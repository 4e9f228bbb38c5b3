from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import fuzz as junk
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.calendar import CalendarEvent, CalendarParser
from unmask.timeutil import to_cocoa

DOMAIN, REL = "HomeDomain", "Library/Calendar/Calendar.sqlitedb"
SCHEMAS = ("ios6", "ios7", "ios9", "ios10", "ios11", "ios16")
T0 = datetime(2022, 1, 10, 9, 0, tzinfo=UTC)
T1 = datetime(2022, 1, 10, 10, 0, tzinfo=UTC)
T2 = datetime(2022, 11, 3, 17, 45, tzinfo=UTC)


def calendar_rows(version: str) -> dict[str, list[dict[str, object]]]:
    item: dict[str, object] = {
        "ROWID": 1,
        "summary": "Meeting",
        "description": "Notes https://invite.example.com/x",
        "start_date": to_cocoa(T0),
        "end_date": to_cocoa(T1),
        "organizer_id": 11,
        "url": "https://ev.example.org/1",
        "creation_date": to_cocoa(T2),
        "calendar_id": 1,
        "hidden": 1,
    }
    if version == "ios16":
        item["conference_url"] = "https://meet.example.net/abc"
    participants: list[dict[str, object]] = [
        {"ROWID": 11, "owner_id": 1, "email": "Organizer@Attacker.example"},
        {"ROWID": 12, "owner_id": 1, "email": "victim@example.com"},
        {"ROWID": 13, "owner_id": 1, "email": "mailto:second@example.com"},
        {"ROWID": 14, "owner_id": 2, "email": "other@example.com"},
    ]
    if version == "ios16":
        participants[1]["phone_number"] = "+41790000001"
    tables: dict[str, list[dict[str, object]]] = {
        "CalendarItem": [item, {"ROWID": 2, "summary": "Lunch", "start_date": None}],
        "Participant": participants,
    }
    if version != "ios16":
        tables["Calendar"] = [{"ROWID": 1, "title": "Home"}]
    return tables


def test_events_and_participants_across_schema_versions(make_backup) -> None:  # type: ignore[no-untyped-def]
    for version in SCHEMAS:
        builder = make_backup()
        builder.add_sqlite(DOMAIN, REL, f"ios/Calendar.sqlitedb/{version}.sql", rows=calendar_rows(version))
        records, cov = run(CalendarParser, builder.finish())
        assert cov.status is Status.PARSED, (version, cov.reason)
        by_id = {r.rowid: r for r in records if isinstance(r, CalendarEvent)}
        event, lunch = by_id[1], by_id[2]
        assert (event.title, event.notes) == ("Meeting", "Notes https://invite.example.com/x"), version
        assert (event.start, event.end, event.created, event.hidden) == (T0, T1, T2, True), version
        assert event.organizer_email == "Organizer@Attacker.example"
        assert event.participant_emails == (
            "Organizer@Attacker.example",
            "victim@example.com",
            "mailto:second@example.com",  # as stored; matching normalises it
        ), version
        assert event.url == "https://ev.example.org/1" and event.links == ("https://invite.example.com/x",)
        assert event.calendar == (None if version == "ios16" else "Home")
        assert event.locator == "CalendarItem.ROWID=1"
        obs = {(o.type, o.value) for o in observables_of(event)}
        assert (Obs.EMAIL, "organizer@attacker.example") in obs and (Obs.EMAIL, "second@example.com") in obs
        assert (Obs.DOMAIN, "ev.example.org") in obs and (Obs.DOMAIN, "invite.example.com") in obs
        if version == "ios16":
            assert event.conference_url == "https://meet.example.net/abc"
            assert event.participant_phones == ("+41790000001",)
            assert (Obs.PHONE, "+41790000001") in obs
        assert (lunch.title, lunch.start, lunch.organizer_email, lunch.participant_emails) == (
            "Lunch",
            None,
            None,
            ("other@example.com",),
        )


def test_identity_address_used_when_participant_email_is_empty(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        DOMAIN,
        REL,
        "ios/Calendar.sqlitedb/ios7.sql",
        rows={
            "Identity": [{"display_name": "X", "address": "mailto:idaddr@example.com"}],
            "CalendarItem": [{"ROWID": 5, "summary": "s", "organizer_id": 1}],
            "Participant": [{"ROWID": 1, "owner_id": 5, "identity_id": 1, "email": None}],
        },
    )
    records, _ = run(CalendarParser, backup.finish())
    (event,) = records
    assert isinstance(event, CalendarEvent) and event.organizer_email == "mailto:idaddr@example.com"
    assert (Obs.EMAIL, "idaddr@example.com") in {(o.type, o.value) for o in observables_of(event)}


def test_without_calendar_item_is_unsupported(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        DOMAIN, REL, None, extra_sql="CREATE TABLE Participant (ROWID INTEGER PRIMARY KEY, email TEXT);"
    )
    records, cov = run(CalendarParser, backup.finish())
    assert records == [] and cov.status is Status.UNSUPPORTED and "CalendarItem" in (cov.reason or "")


def test_truncated_database() -> None:
    data = junk.db_bytes(
        "ios/Calendar.sqlitedb/ios7.sql",
        {"CalendarItem": [{"ROWID": i, "summary": "x" * 300} for i in range(1, 60)]},
    )
    _, cov = junk.run_file(CalendarParser, DOMAIN, REL, data[: len(data) // 3])
    junk.assert_truncated_handled(cov)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_hostile_rows_never_break_the_parser(data: st.DataObject) -> None:
    schema = f"ios/Calendar.sqlitedb/{data.draw(st.sampled_from(['ios7', 'ios16']))}.sql"
    tables = {t: data.draw(junk.rows(schema, t)) for t in ("CalendarItem", "Participant")}
    records, cov = junk.run_file(CalendarParser, DOMAIN, REL, junk.db_bytes(schema, tables))
    junk.assert_handled(cov)
    assert cov.status is Status.PARSED
    for record in records:
        list(observables_of(record))
        record.describe()
