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
from tests.builders.schema import db_bytes
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.chrome_history import ChromeHistoryParser, ChromeVisit, transition_parts

SCHEMAS = [
    "chrome/History/meta20.sql",
    "chrome/History/meta32-chrome57.sql",
    "chrome/History/meta33-chrome58.sql",
    "chrome/History/meta36-chrome59.sql",
    "chrome/History/meta70.sql",
]
DOMAIN = "AppDomain-com.google.chrome.ios"
REL = "Library/Application Support/Google/Chrome/Default/History"
DEVICE_PATH = (
    "/private/var/mobile/Containers/Data/Application/com.google.chrome.ios/"
    "Library/Application Support/Google/Chrome/Default/History"
)
WHEN = datetime(2023, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
# Microseconds since 1601-01-01, as Chrome writes visit_time.
WEBKIT_WHEN = int((WHEN.timestamp() + 11644473600) * 1_000_000)
SERVER_REDIRECT_END = 0x80000000 | 0x20000000  # link, server redirect, chain end


def rows(*, signed_transition: bool = True) -> dict[str, list[dict[str, Any]]]:
    transition = SERVER_REDIRECT_END - (1 << 32) if signed_transition else SERVER_REDIRECT_END
    return {
        "urls": [
            {"id": 1, "url": "http://click.example.com/t?id=1", "title": "", "last_visit_time": WEBKIT_WHEN},
            {
                "id": 2,
                "url": "https://landing.example.net/",
                "title": "Landing",
                "last_visit_time": WEBKIT_WHEN,
            },
            {
                "id": 3,
                "url": "https://bookmark-only.example/",
                "title": "Never visited",
                "last_visit_time": 0,
            },
        ],
        "visits": [
            {"id": 10, "url": 1, "visit_time": WEBKIT_WHEN, "from_visit": 0, "transition": 0x10000001},
            {
                "id": 11,
                "url": 2,
                "visit_time": WEBKIT_WHEN + 500_000,
                "from_visit": 10,
                "transition": transition,
            },
        ],
    }


@pytest.mark.parametrize("schema", SCHEMAS)
def test_visits_with_transitions_on_every_schema(backup: BackupBuilder, schema: str) -> None:
    backup.add_sqlite(DOMAIN, REL, schema, rows=rows())
    records, cov = run(ChromeHistoryParser, backup.finish())
    assert cov.status is Status.PARSED and [a.device_path for a in cov.artefacts] == [DEVICE_PATH]
    visits = [r for r in records if isinstance(r, ChromeVisit)]
    assert [(v.visit_id, v.url_id) for v in visits] == [(None, 3), (10, 1), (11, 2)]
    never, typed, redirected = visits
    assert (never.url, never.visit_time, never.locator) == (
        "https://bookmark-only.example/",
        None,
        "urls.id=3",
    )

    assert (typed.visit_time, typed.transition_core, typed.redirect, typed.from_visit) == (
        WHEN,
        "typed",
        None,
        None,
    )
    assert typed.visit_time is not None and typed.visit_time.tzinfo is UTC
    assert (redirected.url, redirected.title, redirected.locator) == (
        "https://landing.example.net/",
        "Landing",
        "visits.id=11",
    )
    assert redirected.visit_time == datetime(2023, 3, 4, 5, 6, 7, 623456, tzinfo=UTC)
    assert (redirected.transition, redirected.transition_core, redirected.redirect) == (
        SERVER_REDIRECT_END,
        "link",
        "server",
    )
    assert (redirected.from_visit, redirected.from_url) == (10, "http://click.example.com/t?id=1")
    assert {(o.type, o.value) for o in observables_of(redirected)} == {
        (Obs.URL, "https://landing.example.net/"),
        (Obs.DOMAIN, "landing.example.net"),
    }
    assert "from: http://click.example.com/t?id=1" in redirected.describe()


def test_transition_parts() -> None:
    assert transition_parts(None) == (None, None, None)
    assert transition_parts(SERVER_REDIRECT_END) == (SERVER_REDIRECT_END, "link", "server")
    assert transition_parts(SERVER_REDIRECT_END - (1 << 32)) == (SERVER_REDIRECT_END, "link", "server")
    assert transition_parts(0x40000008) == (0x40000008, "reload", "client")
    assert transition_parts(0xFE) == (0xFE, "core_254", None)


def test_unsigned_transition_reads_the_same(backup: BackupBuilder) -> None:
    backup.add_sqlite(DOMAIN, REL, SCHEMAS[-1], rows=rows(signed_transition=False))
    records, _ = run(ChromeHistoryParser, backup.finish())
    assert [r.redirect for r in records if isinstance(r, ChromeVisit)] == [None, None, "server"]


def test_missing_visits_table_is_unsupported(backup: BackupBuilder) -> None:
    backup.add_sqlite(DOMAIN, REL, None, extra_sql="CREATE TABLE urls (id INTEGER PRIMARY KEY, url TEXT);")
    records, cov = run(ChromeHistoryParser, backup.finish())
    assert records == [] and cov.status is Status.UNSUPPORTED and "visits" in (cov.reason or "")


URL_COLS = ["url", "title", "visit_count", "last_visit_time"]
VISIT_COLS = ["url", "visit_time", "from_visit", "transition"]


@settings(max_examples=30, deadline=None)
@given(
    urls=st.lists(st.fixed_dictionaries({c: VALUES for c in URL_COLS}), max_size=5),
    visits=st.lists(st.fixed_dictionaries({c: VALUES for c in VISIT_COLS}), max_size=5),
    schema=st.sampled_from(SCHEMAS),
    bad=st.sampled_from([("urls", "url"), ("urls", "title"), ("visits", "transition")]),
)
def test_garbage_rows_never_crash(
    urls: list[dict[str, Any]], visits: list[dict[str, Any]], schema: str, bad: tuple[str, str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = garbage_db(Path(tmp), schema, {"urls": urls, "visits": visits}, bad)
        records, cov = run_file(ChromeHistoryParser, DOMAIN, REL, data)
    assert_tolerated(records, cov)
    assert cov.status is Status.PARSED and len(records) >= len(urls)


@settings(max_examples=30, deadline=None)
@given(cut=st.floats(min_value=0.0, max_value=0.99), schema=st.sampled_from(SCHEMAS))
def test_truncated_database_never_crashes(cut: float, schema: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = db_bytes(Path(tmp) / "scratch", schema, rows())
        records, cov = run_file(ChromeHistoryParser, DOMAIN, REL, data[: int(len(data) * cut)])
    assert_tolerated(records, cov)
