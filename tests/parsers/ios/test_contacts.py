"""Address book contacts with their phone numbers, emails and links (real iOS 7/15/16 DDL)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.fuzz import VALUES, assert_tolerated, garbage_db, run_file
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask import timeutil
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.contacts import Contact, ContactsParser

REL = "Library/AddressBook/AddressBook.sqlitedb"
WHEN = datetime(2022, 8, 1, tzinfo=UTC)
ROWS: dict[str, list[dict[str, Any]]] = {
    "ABPerson": [{"ROWID": 1, "First": "Ana", "Last": "Ruiz", "Organization": "NGO", "CreationDate": int(timeutil.to_cocoa(WHEN))}],
    "ABMultiValue": [
        {"UID": 1, "record_id": 1, "property": 3, "label": 1, "value": "+41 79 000 00 00", "guid": "g1"},
        {"UID": 2, "record_id": 1, "property": 4, "label": 2, "value": "nonbaguette@yahoo.com", "guid": "g2"},
        {"UID": 3, "record_id": 1, "property": 22, "label": 3, "value": "https://ngo.example/", "guid": "g3"},
    ],
}


@pytest.mark.parametrize("schema", ["ios/AddressBook.sqlitedb/ios7.sql", "ios/AddressBook.sqlitedb/ios15.sql",
                                    "ios/AddressBook.sqlitedb/ios16.sql"])
def test_contacts_with_their_values(backup: BackupBuilder, schema: str) -> None:
    backup.add_sqlite("HomeDomain", REL, schema, ROWS)
    records, cov = run(ContactsParser, backup.finish())
    assert cov.status is Status.PARSED
    values = [(r.value_kind, r.value, r.link) for r in records if isinstance(r, Contact)]
    assert values == [("phone", "+41 79 000 00 00", None), ("email", "nonbaguette@yahoo.com", None),
                      ("url", None, "https://ngo.example/")]
    email = records[1]
    assert isinstance(email, Contact) and (email.first, email.last, email.created) == ("Ana", "Ruiz", WHEN)
    assert (Obs.EMAIL, "nonbaguette@yahoo.com") in {(o.type, o.value) for o in observables_of(email)}


def test_a_value_of_a_deleted_person_keeps_its_value(backup: BackupBuilder) -> None:
    rows = {"ABMultiValue": [{"UID": 9, "record_id": 77, "property": 3, "value": "+1 555", "guid": "g"}]}
    backup.add_sqlite("HomeDomain", REL, "ios/AddressBook.sqlitedb/ios16.sql", rows)
    records, _ = run(ContactsParser, backup.finish())
    assert [(r.value, r.first) for r in records if isinstance(r, Contact)] == [("+1 555", None)]


@settings(max_examples=15, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({"record_id": VALUES, "property": VALUES, "value": VALUES,
                                            "guid": st.uuids().map(str)}), max_size=4))
def test_garbage_rows_never_crash(rows: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = garbage_db(Path(tmp), "ios/AddressBook.sqlitedb/ios7.sql", {"ABMultiValue": rows}, ("ABMultiValue", "value"))
        records, cov = run_file(ContactsParser, "HomeDomain", REL, data)
    assert_tolerated(records, cov)
