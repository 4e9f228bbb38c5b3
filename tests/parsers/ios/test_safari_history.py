from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.fuzz import VALUES, assert_tolerated, garbage_db, run_file
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from tests.builders.schema import db_bytes
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.safari_history import SafariHistoryParser, SafariVisit
from unmask.timeutil import to_cocoa

SCHEMAS = ["ios/History.db/ios9.sql", "ios/History.db/ios10.sql", "ios/History.db/ios11.sql"]
WHEN = datetime(2021, 6, 1, 10, 0, 0, 250000, tzinfo=UTC)


def item(id_: int, url: str, schema: str, visits: int = 1) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": id_,
        "url": url,
        "visit_count": visits,
        "daily_visit_counts": b"",
        "should_recompute_derived_visit_counts": 0,
    }
    if not schema.endswith("ios9.sql"):
        row["visit_count_score"] = 0
    return row


def rows(schema: str) -> dict[str, list[dict[str, Any]]]:
    return {
        "history_items": [
            item(1, "http://news.example.com/article", schema),
            item(2, "https://evil.example.net/p/abc", schema),
            item(3, "https://never-visited.example.org/", schema, visits=0),
        ],
        "history_visits": [
            {
                "id": 1,
                "history_item": 1,
                "visit_time": to_cocoa(WHEN),
                "title": "News",
                "load_successful": 1,
                "redirect_destination": 2,
                "origin": 0,
            },
            {
                "id": 2,
                "history_item": 2,
                "visit_time": to_cocoa(WHEN + timedelta(seconds=0.5)),
                "title": None,
                "load_successful": 0,
                "redirect_source": 1,
                "origin": 1,
            },
        ],
    }


LOCATIONS = [
    ("HomeDomain", "Library/Safari/History.db", "/private/var/mobile/Library/Safari/History.db"),
    (
        "HomeDomain",
        "Library/Safari/Profiles/ABCD-1234/History.db",
        "/private/var/mobile/Library/Safari/Profiles/ABCD-1234/History.db",
    ),
    (
        "AppDomain-com.apple.mobilesafari",
        "Library/Safari/History.db",
        "/private/var/mobile/Containers/Data/Application/com.apple.mobilesafari/Library/Safari/History.db",
    ),
    (
        "AppDomain-com.apple.mobilesafari",
        "Library/Safari/Profiles/P1/History.db",
        "/private/var/mobile/Containers/Data/Application/com.apple.mobilesafari/Library/Safari/Profiles/P1/History.db",
    ),
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_visits_with_redirects_on_every_schema(backup: BackupBuilder, schema: str) -> None:
    backup.add_sqlite("HomeDomain", "Library/Safari/History.db", schema, rows=rows(schema))
    records, cov = run(SafariHistoryParser, backup.finish())
    assert cov.status is Status.PARSED
    assert all(isinstance(r, SafariVisit) for r in records)
    visits = [r for r in records if isinstance(r, SafariVisit)]
    assert [(v.visit_id, v.item_id) for v in visits] == [(None, 3), (1, 1), (2, 2)]
    orphan, first, second = visits
    assert (orphan.url, orphan.visit_time, orphan.locator, orphan.visit_count) == (
        "https://never-visited.example.org/",
        None,
        "history_items.id=3",
        0,
    )

    assert first.visit_time == WHEN and first.visit_time.tzinfo is UTC
    assert (first.url, first.title, first.load_successful, first.origin) == (
        "http://news.example.com/article",
        "News",
        True,
        0,
    )
    assert (first.redirect_destination, first.redirect_destination_url) == (
        2,
        "https://evil.example.net/p/abc",
    )
    assert (first.redirect_source, first.redirect_source_url) == (None, None)
    assert first.locator == "history_visits.id=1"
    assert first.device_path == "/private/var/mobile/Library/Safari/History.db"

    assert second.visit_time == WHEN + timedelta(seconds=0.5)
    assert (second.redirect_source, second.redirect_source_url) == (1, "http://news.example.com/article")
    assert (second.load_successful, second.origin, second.title) == (False, 1, None)
    obs = {(o.type, o.value) for o in observables_of(second)}
    # Only the visit's own URL: the redirect source is a record of its own.
    assert obs == {(Obs.URL, "https://evil.example.net/p/abc"), (Obs.DOMAIN, "evil.example.net")}
    assert "redirect from: http://news.example.com/article" in second.describe()


@pytest.mark.parametrize(("domain", "relative", "device_path"), LOCATIONS)
def test_every_safari_location(backup: BackupBuilder, domain: str, relative: str, device_path: str) -> None:
    schema = SCHEMAS[-1]
    backup.add_sqlite(domain, relative, schema, rows=rows(schema))
    records, cov = run(SafariHistoryParser, backup.finish())
    assert [a.device_path for a in cov.artefacts] == [device_path]
    assert len(records) == 3 and {r.device_path for r in records} == {device_path}


def test_schema_without_visits_table_is_unsupported(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        "HomeDomain",
        "Library/Safari/History.db",
        None,
        extra_sql="CREATE TABLE history_items (id INTEGER PRIMARY KEY, url TEXT);",
    )
    records, cov = run(SafariHistoryParser, backup.finish())
    assert records == [] and cov.status is Status.UNSUPPORTED and "history_visits" in (cov.reason or "")


def test_minimal_schema_still_parses(backup: BackupBuilder) -> None:
    # Only the required columns: every optional one is NULL, nothing breaks.
    backup.add_sqlite(
        "HomeDomain",
        "Library/Safari/History.db",
        None,
        rows={
            "history_items": [{"id": 1, "url": "https://a.example/"}],
            "history_visits": [{"id": 9, "history_item": 1}],
        },
        extra_sql="CREATE TABLE history_items (id INTEGER PRIMARY KEY, url TEXT);"
        "CREATE TABLE history_visits (id INTEGER PRIMARY KEY, history_item INTEGER);",
    )
    records, cov = run(SafariHistoryParser, backup.finish())
    assert cov.status is Status.PARSED
    (visit,) = records
    assert isinstance(visit, SafariVisit)
    assert (visit.url, visit.visit_id, visit.visit_time, visit.redirect_source_url) == (
        "https://a.example/",
        9,
        None,
        None,
    )


ITEM_COLS = ["url", "visit_count", "domain_expansion"]
VISIT_COLS = [
    "history_item",
    "visit_time",
    "title",
    "load_successful",
    "redirect_source",
    "redirect_destination",
    "origin",
]


@settings(max_examples=30, deadline=None)
@given(
    items=st.lists(st.fixed_dictionaries({c: VALUES for c in ITEM_COLS}), max_size=5),
    visits=st.lists(st.fixed_dictionaries({c: VALUES for c in VISIT_COLS}), max_size=5),
    schema=st.sampled_from(SCHEMAS),
    bad=st.sampled_from([("history_items", "url"), ("history_visits", "title")]),
)
def test_garbage_rows_never_crash(
    items: list[dict[str, Any]], visits: list[dict[str, Any]], schema: str, bad: tuple[str, str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = garbage_db(Path(tmp), schema, {"history_items": items, "history_visits": visits}, bad)
        records, cov = run_file(SafariHistoryParser, "HomeDomain", "Library/Safari/History.db", data)
    assert_tolerated(records, cov)
    assert cov.status is Status.PARSED and len(records) >= len(items)


@settings(max_examples=30, deadline=None)
@given(cut=st.floats(min_value=0.0, max_value=0.99), schema=st.sampled_from(SCHEMAS))
def test_truncated_database_never_crashes(cut: float, schema: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = db_bytes(Path(tmp) / "scratch", schema, rows(schema))
        records, cov = run_file(
            SafariHistoryParser, "HomeDomain", "Library/Safari/History.db", data[: int(len(data) * cut)]
        )
    assert_tolerated(records, cov)
