from __future__ import annotations

import plistlib
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
from unmask.errors import ArtefactError
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.safari_browserstate import SafariBrowserStateParser, SafariTab, decode_session
from unmask.timeutil import to_cocoa

SCHEMA = "ios/BrowserState.db/ios15.sql"
WHEN = datetime(2022, 1, 5, 9, 15, 30, tzinfo=UTC)
DEVICE_PATH = "/private/var/mobile/Library/Safari/BrowserState.db"


def session(
    *entries: tuple[str, str, str | None], header: bytes = b"\x00\x00\x00\x02", fmt: Any = None
) -> bytes:
    """Session state as WebKit writes it: a 4-byte version, then a plist with the back/forward list."""
    value = {
        "IsAppInitiated": False,
        "RenderTreeSize": 415,
        "SessionHistory": {
            "SessionHistoryVersion": 1,
            "SessionHistoryCurrentIndex": len(entries) - 1,
            "SessionHistoryEntries": [
                {
                    "SessionHistoryEntryURL": url,
                    "SessionHistoryEntryTitle": title,
                    **({"SessionHistoryEntryOriginalURL": original} if original else {}),
                    "SessionHistoryEntryData": b"\x00" * 8,
                    "SessionHistoryEntryShouldOpenExternalURLsPolicyKey": 1,
                }
                for url, title, original in entries
            ],
        },
    }
    return header + plistlib.dumps(value, fmt=fmt or plistlib.FMT_BINARY)


def tab(id_: int, uuid: str, url: str, title: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "uuid": uuid,
        "title": title,
        "url": url,
        "user_visible_url": url,
        "order_index": id_,
        "browser_window_uuid": "W1",
        "browser_window_id": 1,
        **extra,
    }


def rows(sessions: dict[str, bytes | None]) -> dict[str, list[dict[str, Any]]]:
    return {
        "browser_windows": [{"id": 1, "uuid": "W1"}],
        "tabs": [
            tab(
                1,
                "T1",
                "https://www.example.com/",
                "Example",
                last_viewed_time=to_cocoa(WHEN),
                opened_from_link=1,
            ),
            tab(2, "T2", "https://private.example.org/", "Private", private_browsing=1),
            tab(3, "T3", "https://third.example/", "Third"),
        ],
        "tab_sessions": [{"tab_uuid": uuid, "session_data": data} for uuid, data in sessions.items()],
    }


def _parse(
    backup: BackupBuilder,
    sessions: dict[str, bytes | None],
    domain: str = "HomeDomain",
    relative: str = "Library/Safari/BrowserState.db",
) -> tuple[list[Any], Any]:
    backup.add_sqlite(domain, relative, SCHEMA, rows=rows(sessions))
    return run(SafariBrowserStateParser, backup.finish())


def test_tabs_and_session_history(backup: BackupBuilder) -> None:
    t1 = session(
        ("https://news.example.com/", "News", None),
        ("https://www.example.com/", "Example", "http://bit.example/x"),
    )
    t2 = session(("https://private.example.org/", "Private", None), header=b"", fmt=plistlib.FMT_XML)
    records, cov = _parse(backup, {"T1": t1, "T2": t2})
    assert cov.status is Status.PARSED and cov.warnings == []
    tabs = {r.uuid: r for r in records if isinstance(r, SafariTab)}
    assert sorted(tabs) == ["T1", "T2", "T3"]

    first = tabs["T1"]
    assert (first.url, first.title, first.last_viewed, first.opened_from_link, first.private_browsing) == (
        "https://www.example.com/",
        "Example",
        WHEN,
        True,
        False,
    )
    assert first.device_path == DEVICE_PATH and first.locator == "tabs.uuid=T1"
    assert first.session_urls == (
        "https://news.example.com/",
        "https://www.example.com/",
        "http://bit.example/x",
    )
    assert (first.session_titles, first.session_current_index) == (("News", "Example"), 1)
    obs = {(o.type, o.value) for o in observables_of(first)}
    assert {
        (Obs.URL, "http://bit.example/x"),
        (Obs.DOMAIN, "bit.example"),
        (Obs.DOMAIN, "news.example.com"),
    } <= obs

    assert tabs["T2"].session_urls == ("https://private.example.org/",)  # bare XML plist, no header
    assert tabs["T2"].private_browsing is True and tabs["T2"].last_viewed is None
    assert tabs["T3"].session_urls == () and tabs["T3"].session_current_index is None  # no session row


@pytest.mark.parametrize(
    "garbage", [b"\x00\x00\x00\x02not a plist at all", b"\x01\x02", b"\x00\x00\x00\x02bplist00xx"]
)
def test_garbage_session_warns_and_tab_still_yields(backup: BackupBuilder, garbage: bytes) -> None:
    records, cov = _parse(backup, {"T1": garbage})
    assert cov.status is Status.PARSED
    tabs = {r.uuid: r for r in records if isinstance(r, SafariTab)}
    assert tabs["T1"].url == "https://www.example.com/" and tabs["T1"].session_urls == ()
    assert len(cov.warnings) == 1 and "tabs.uuid=T1" in cov.warnings[0]


def test_decode_session_rejects_plists_without_history() -> None:
    with pytest.raises(ArtefactError):
        decode_session(b"\x00\x00\x00\x02" + plistlib.dumps({"Other": 1}, fmt=plistlib.FMT_BINARY))
    with pytest.raises(ArtefactError):
        decode_session(b"\x00\x00\x00\x02" + plistlib.dumps([1, 2], fmt=plistlib.FMT_BINARY))


@pytest.mark.parametrize(
    ("domain", "relative", "device_path"),
    [
        (
            "HomeDomain",
            "Library/Safari/Profiles/P9/BrowserState.db",
            "/private/var/mobile/Library/Safari/Profiles/P9/BrowserState.db",
        ),
        (
            "AppDomain-com.apple.mobilesafari",
            "Library/Safari/BrowserState.db",
            "/private/var/mobile/Containers/Data/Application/com.apple.mobilesafari/Library/Safari/BrowserState.db",
        ),
    ],
)
def test_profile_and_container_locations(
    backup: BackupBuilder, domain: str, relative: str, device_path: str
) -> None:
    records, cov = _parse(backup, {}, domain, relative)
    assert [a.device_path for a in cov.artefacts] == [device_path] and len(records) == 3


def test_without_sessions_table_tabs_still_parse(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        "HomeDomain",
        "Library/Safari/BrowserState.db",
        None,
        rows={"tabs": [{"url": "https://only.example/"}]},
        extra_sql="CREATE TABLE tabs (url TEXT);",
    )
    records, cov = run(SafariBrowserStateParser, backup.finish())
    assert cov.status is Status.PARSED
    assert [(r.url, r.uuid, r.locator) for r in records if isinstance(r, SafariTab)] == [
        ("https://only.example/", None, "tabs.rowid=1")
    ]


def test_session_of_a_closed_tab_still_yields(backup: BackupBuilder) -> None:
    gone = session(("https://closed.example/landing", "Closed", None))
    records, cov = _parse(backup, {"T1": None, "GONE": gone})
    assert cov.status is Status.PARSED
    orphans = [r for r in records if isinstance(r, SafariTab) and not r.tab_exists]
    assert [(r.uuid, r.url, r.locator, r.session_urls) for r in orphans] == [
        ("GONE", None, "tab_sessions.tab_uuid=GONE", ("https://closed.example/landing",))
    ]
    assert sum(r.tab_exists for r in records if isinstance(r, SafariTab)) == 3


def test_old_layout_with_session_data_in_tabs(backup: BackupBuilder) -> None:
    # BrowserState schema version 2 kept the session blob in tabs (Safari's v3 migration moves
    # tabs_old.session_data into tab_sessions).
    blob = session(("https://old.example/", "Old", None))
    backup.add_sqlite(
        "HomeDomain",
        "Library/Safari/BrowserState.db",
        None,
        rows={"tabs": [{"uuid": "T9", "url": "https://old.example/", "session_data": blob}]},
        extra_sql="CREATE TABLE tabs (id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL UNIQUE, "
        "url TEXT, session_data BLOB, uncompressed_session_data_size INTEGER NOT NULL DEFAULT 0);",
    )
    records, cov = run(SafariBrowserStateParser, backup.finish())
    assert cov.status is Status.PARSED
    assert [(r.uuid, r.session_urls) for r in records if isinstance(r, SafariTab)] == [
        ("T9", ("https://old.example/",))
    ]


def test_missing_tabs_table_is_unsupported(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        "HomeDomain", "Library/Safari/BrowserState.db", None, extra_sql="CREATE TABLE other (x);"
    )
    records, cov = run(SafariBrowserStateParser, backup.finish())
    assert records == [] and cov.status is Status.UNSUPPORTED


TAB_COLS = [
    "uuid",
    "title",
    "url",
    "user_visible_url",
    "last_viewed_time",
    "private_browsing",
    "opened_from_link",
]


@settings(max_examples=30, deadline=None)
@given(
    tabs=st.lists(st.fixed_dictionaries({c: VALUES for c in TAB_COLS}), max_size=4),
    sessions=st.lists(
        st.fixed_dictionaries(
            {
                "tab_uuid": VALUES,
                "session_data": st.one_of(VALUES, st.binary().map(lambda b: b"\0\0\0\2bplist00" + b)),
            }
        ),
        max_size=4,
    ),
    bad=st.sampled_from([("tabs", "url"), ("tabs", "uuid"), ("tab_sessions", "session_data")]),
)
def test_garbage_rows_never_crash(
    tabs: list[dict[str, Any]], sessions: list[dict[str, Any]], bad: tuple[str, str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = garbage_db(Path(tmp), SCHEMA, {"tabs": tabs, "tab_sessions": sessions}, bad)
        records, cov = run_file(
            SafariBrowserStateParser, "HomeDomain", "Library/Safari/BrowserState.db", data
        )
    assert_tolerated(records, cov)
    assert cov.status is Status.PARSED and len(records) >= len(tabs)


@settings(max_examples=30, deadline=None)
@given(cut=st.floats(min_value=0.0, max_value=0.99))
def test_truncated_database_never_crashes(cut: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = db_bytes(
            Path(tmp) / "scratch", SCHEMA, rows({"T1": session(("https://a.example/", "A", None))})
        )
        records, cov = run_file(
            SafariBrowserStateParser,
            "HomeDomain",
            "Library/Safari/BrowserState.db",
            data[: int(len(data) * cut)],
        )
    assert_tolerated(records, cov)
