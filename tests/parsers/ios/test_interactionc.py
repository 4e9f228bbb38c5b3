"""CoreDuet interactions: app, times, direction, sender, recipients, attachment links (MVT fixture DDL)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.fuzz import VALUES, assert_tolerated, garbage_db, run_file
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask import timeutil
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.interactionc import Interaction, InteractionCParser

SCHEMA = "ios/interactionC.db/mvt-fixture.sql"
REL = "Library/CoreDuet/People/interactionC.db"
WHEN = datetime(2024, 2, 1, 12, 0, tzinfo=UTC)
ROWS: dict[str, list[dict[str, Any]]] = {
    "ZCONTACTS": [{"Z_PK": 1, "ZDISPLAYNAME": "Unknown", "ZIDENTIFIER": "nonbaguette@yahoo.com"},
                  {"Z_PK": 2, "ZDISPLAYNAME": "Me", "ZIDENTIFIER": "+41790000000"}],
    "ZINTERACTIONS": [{"Z_PK": 10, "ZSENDER": 1, "ZSTARTDATE": timeutil.to_cocoa(WHEN), "ZENDDATE": timeutil.to_cocoa(WHEN),
                       "ZBUNDLEID": "com.apple.MobileSMS", "ZDIRECTION": 0, "ZCONTENTURL": None},
                      {"Z_PK": 11, "ZSENDER": None, "ZBUNDLEID": "net.whatsapp.WhatsApp", "ZDIRECTION": 1}],
    "Z_2INTERACTIONRECIPIENT": [{"Z_2RECIPIENTS": 2, "Z_3INTERACTIONRECIPIENT": 10}],
    "ZATTACHMENT": [{"Z_PK": 5, "ZCONTENTURL": "https://md-news-direct.com/p.jpg", "ZUTI": "public.jpeg"}],
    "Z_1INTERACTIONS": [{"Z_1ATTACHMENTS": 5, "Z_3INTERACTIONS": 10}],
}


def test_interactions_with_sender_recipients_and_links(backup: BackupBuilder) -> None:
    backup.add_sqlite("HomeDomain", REL, SCHEMA, ROWS)
    records, cov = run(InteractionCParser, backup.finish())
    assert cov.status is Status.PARSED
    first, second = records
    assert isinstance(first, Interaction) and isinstance(second, Interaction)
    assert (first.bundle_id, first.direction, first.sender, first.sender_name, first.start) == (
        "com.apple.MobileSMS", "incoming", "nonbaguette@yahoo.com", "Unknown", WHEN)
    assert first.recipients == ("+41790000000",) and first.content_urls == ("https://md-news-direct.com/p.jpg",)
    obs = {(o.type, o.value) for o in observables_of(first)}
    assert {(Obs.EMAIL, "nonbaguette@yahoo.com"), (Obs.DOMAIN, "md-news-direct.com")} <= obs
    assert (second.direction, second.sender, second.recipients) == ("outgoing", None, ())


def test_a_store_without_the_join_tables(backup: BackupBuilder) -> None:
    backup.add_sqlite("HomeDomain", REL, None, {"ZINTERACTIONS": [{"Z_PK": 1, "ZBUNDLEID": "x"}]},
                      extra_sql="CREATE TABLE ZINTERACTIONS (Z_PK INTEGER PRIMARY KEY, ZBUNDLEID TEXT);")
    records, cov = run(InteractionCParser, backup.finish())
    assert cov.status is Status.PARSED and [r.bundle_id for r in records if isinstance(r, Interaction)] == ["x"]


@settings(max_examples=15, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({"ZSENDER": VALUES, "ZSTARTDATE": VALUES, "ZBUNDLEID": VALUES,
                                            "ZDIRECTION": VALUES}), max_size=4))
def test_garbage_rows_never_crash(rows: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = garbage_db(Path(tmp), SCHEMA, {"ZINTERACTIONS": rows, "ZCONTACTS": ROWS["ZCONTACTS"]},
                          ("ZINTERACTIONS", "ZBUNDLEID"))
        records, cov = run_file(InteractionCParser, "HomeDomain", REL, data)
    assert_tolerated(records, cov)
