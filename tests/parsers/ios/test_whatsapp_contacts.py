"""WhatsApp contacts: names, numbers, WhatsApp ids, and LIDs where the store has them (real iOS 15/16 DDL)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.fuzz import VALUES, assert_tolerated, garbage_db, run_file
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.whatsapp_contacts import WhatsAppContact, WhatsAppContactsParser

GROUP = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared"
ROWS: dict[str, list[dict[str, Any]]] = {
    "ZWAADDRESSBOOKCONTACT": [
        {"Z_PK": 1, "ZFULLNAME": "Ana Ruiz", "ZPHONENUMBER": "+41790000000", "ZWHATSAPPID": "41790000000@s.whatsapp.net",
         "ZABOUTTEXT": "see https://ngo.example/"},
    ]
}


@pytest.mark.parametrize("schema", ["ios/ContactsV2.sqlite/ios15.sql", "ios/ContactsV2.sqlite/ios16.sql"])
def test_contacts_of_the_shared_group(backup: BackupBuilder, schema: str) -> None:
    backup.add_sqlite(GROUP, "ContactsV2.sqlite", schema, ROWS)
    records, cov = run(WhatsAppContactsParser, backup.finish())
    assert cov.status is Status.PARSED
    (contact,) = records
    assert isinstance(contact, WhatsAppContact)
    assert (contact.full_name, contact.phone, contact.whatsapp_id, contact.lid) == (
        "Ana Ruiz", "+41790000000", "41790000000@s.whatsapp.net", None)
    assert contact.links == ("https://ngo.example/",)
    assert (Obs.PHONE, "+41790000000") in {(o.type, o.value) for o in observables_of(contact)}


def test_a_newer_store_with_lids(backup: BackupBuilder) -> None:
    rows = {"ZWAADDRESSBOOKCONTACT": [{"Z_PK": 2, "ZFULLNAME": "Hidden", "ZLID": "123456789@lid", "ZUSERNAME": "hid"}]}
    backup.add_sqlite(GROUP, "ContactsV2.sqlite", "ios/ContactsV2.sqlite/ios16.sql", rows,
                      extra_sql="ALTER TABLE ZWAADDRESSBOOKCONTACT ADD COLUMN ZLID VARCHAR; "
                                "ALTER TABLE ZWAADDRESSBOOKCONTACT ADD COLUMN ZUSERNAME VARCHAR;")
    records, _ = run(WhatsAppContactsParser, backup.finish())
    assert [(r.lid, r.username) for r in records if isinstance(r, WhatsAppContact)] == [("123456789@lid", "hid")]


@settings(max_examples=15, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({"ZFULLNAME": VALUES, "ZPHONENUMBER": VALUES, "ZABOUTTEXT": VALUES}), max_size=4))
def test_garbage_rows_never_crash(rows: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = garbage_db(Path(tmp), "ios/ContactsV2.sqlite/ios15.sql", {"ZWAADDRESSBOOKCONTACT": rows},
                          ("ZWAADDRESSBOOKCONTACT", "ZFULLNAME"))
        records, cov = run_file(WhatsAppContactsParser, GROUP, "ContactsV2.sqlite", data)
    assert_tolerated(records, cov)
