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
from unmask.parsers.ios.datausage import DataUsageParser, LiveUsage, UsageProcess
from unmask.timeutil import to_cocoa

DOMAIN, REL = "WirelessDomain", "Library/Databases/DataUsage.sqlite"
DEVICE_PATH = "/private/var/wireless/Library/Databases/DataUsage.sqlite"
SCHEMAS = [
    "ios/DataUsage.sqlite/ios7.sql",
    "ios/DataUsage.sqlite/ios14.sql",
    "ios/DataUsage.sqlite/ios15.sql",
]
FIRST = datetime(2021, 7, 1, 8, 30, tzinfo=UTC)
LAST = datetime(2021, 7, 18, 22, 5, 1, tzinfo=UTC)


def _rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "ZPROCESS": [
            {
                "Z_PK": 1,
                "Z_ENT": 8,
                "Z_OPT": 1,
                "ZPROCNAME": "mDNSResponder",
                "ZBUNDLENAME": None,
                "ZFIRSTTIMESTAMP": to_cocoa(FIRST),
                "ZTIMESTAMP": to_cocoa(LAST),
            },
            {
                "Z_PK": 2,
                "Z_ENT": 8,
                "Z_OPT": 1,
                "ZPROCNAME": "com.apple.WebKit.Networking/com.apple.mobilesafari",
                "ZBUNDLENAME": "com.apple.mobilesafari",
                "ZFIRSTTIMESTAMP": to_cocoa(FIRST),
                "ZTIMESTAMP": None,
            },
            {
                "Z_PK": 5,
                "Z_ENT": 8,
                "Z_OPT": 1,
                "ZPROCNAME": "bh",
                "ZBUNDLENAME": None,
                "ZFIRSTTIMESTAMP": 0,
                "ZTIMESTAMP": to_cocoa(LAST),
            },
        ],
        "ZLIVEUSAGE": [
            {
                "Z_PK": 10,
                "ZHASPROCESS": 2,
                "ZTIMESTAMP": to_cocoa(LAST),
                "ZWIFIIN": 1024.0,
                "ZWIFIOUT": 512.0,
                "ZWWANIN": 0.0,
                "ZWWANOUT": 3.5,
                "ZKIND": 0,
            },
            {"Z_PK": 11, "ZHASPROCESS": 3, "ZTIMESTAMP": to_cocoa(LAST), "ZWIFIIN": 9.0, "ZWIFIOUT": 1.0},
            {"Z_PK": 12, "ZHASPROCESS": None, "ZTIMESTAMP": None},
        ],
    }


def _build(backup: BackupBuilder, schema: str, rows: dict[str, list[dict[str, Any]]] | None = None) -> Path:
    backup.add_sqlite(DOMAIN, REL, schema, rows=rows if rows is not None else _rows())
    return backup.finish()


@pytest.mark.parametrize("schema", SCHEMAS)
def test_processes_and_live_usage_on_every_schema(backup: BackupBuilder, schema: str) -> None:
    records, cov = run(DataUsageParser, _build(backup, schema))
    assert cov.status is Status.PARSED
    assert cov.artefacts[0].device_path == DEVICE_PATH
    processes = {r.pk: r for r in records if isinstance(r, UsageProcess)}
    live = {r.pk: r for r in records if isinstance(r, LiveUsage)}
    assert sorted(processes) == [1, 2, 5] and sorted(live) == [10, 11, 12]
    assert all(type(r).kind == "ios/datausage/process" for r in processes.values())

    mdns = processes[1]
    assert (mdns.process, mdns.bundle_id, mdns.first_seen, mdns.last_seen) == (
        "mDNSResponder",
        None,
        FIRST,
        LAST,
    )
    assert mdns.device_path == DEVICE_PATH and mdns.locator == "ZPROCESS.Z_PK=1"
    assert processes[5].first_seen is None  # 0 is "never", not 2001-01-01
    safari_obs = {(o.type, o.value) for o in observables_of(processes[2])}
    assert (Obs.APP_ID, "com.apple.mobilesafari") in safari_obs
    assert (Obs.PROCESS, "com.apple.WebKit.Networking/com.apple.mobilesafari") in safari_obs

    used = live[10]
    assert (used.process_pk, used.process_exists, used.process, used.bundle_id) == (
        2,
        True,
        "com.apple.WebKit.Networking/com.apple.mobilesafari",
        "com.apple.mobilesafari",
    )
    assert (used.wifi_in, used.wifi_out, used.wwan_in, used.wwan_out, used.usage_kind) == (
        1024.0,
        512.0,
        0.0,
        3.5,
        0,
    )
    assert used.time == LAST and used.time.tzinfo is UTC
    assert used.wired_in is None  # DataUsage has no wired counters
    assert list(observables_of(used)) == []  # the process record carries the observables
    assert (live[11].process_pk, live[11].process_exists, live[11].process) == (3, False, None)
    assert (live[12].process_pk, live[12].process_exists, live[12].time) == (None, None, None)


def test_missing_process_table_is_unsupported(backup: BackupBuilder) -> None:
    backup.add_sqlite(DOMAIN, REL, None, extra_sql="CREATE TABLE ZLIVEUSAGE (Z_PK INTEGER PRIMARY KEY);")
    records, cov = run(DataUsageParser, backup.finish())
    assert records == [] and cov.status is Status.UNSUPPORTED and "ZPROCESS" in (cov.reason or "")


def test_without_live_usage_table_processes_still_parse(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        DOMAIN,
        REL,
        None,
        rows={"ZPROCESS": [{"Z_PK": 4, "ZPROCNAME": "x"}]},
        extra_sql="CREATE TABLE ZPROCESS (Z_PK INTEGER PRIMARY KEY, ZPROCNAME VARCHAR);",
    )
    records, cov = run(DataUsageParser, backup.finish())
    assert cov.status is Status.PARSED
    assert [(type(r), r.process) for r in records if isinstance(r, UsageProcess)] == [(UsageProcess, "x")]
    assert any("ZLIVEUSAGE" in w for w in cov.warnings)


def test_absent_database(backup: BackupBuilder) -> None:
    records, cov = run(DataUsageParser, backup.finish())
    assert records == [] and cov.status is Status.ABSENT


# --- robustness -----------------------------------------------------------------------------------

PROCESS_COLS = ["Z_ENT", "Z_OPT", "ZFIRSTTIMESTAMP", "ZTIMESTAMP", "ZBUNDLENAME", "ZPROCNAME"]
LIVE_COLS = ["ZKIND", "ZHASPROCESS", "ZTIMESTAMP", "ZWIFIIN", "ZWIFIOUT", "ZWWANIN", "ZWWANOUT"]


@settings(max_examples=30, deadline=None)
@given(
    processes=st.lists(st.fixed_dictionaries({c: VALUES for c in PROCESS_COLS}), max_size=5),
    live=st.lists(st.fixed_dictionaries({c: VALUES for c in LIVE_COLS}), max_size=5),
    schema=st.sampled_from(SCHEMAS),
    bad=st.sampled_from(
        [("ZPROCESS", "ZPROCNAME"), ("ZPROCESS", "ZBUNDLENAME"), ("ZLIVEUSAGE", "ZTIMESTAMP")]
    ),
)
def test_garbage_rows_never_crash(
    processes: list[dict[str, Any]], live: list[dict[str, Any]], schema: str, bad: tuple[str, str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        backup = BackupBuilder(Path(tmp) / "backup")
        backup.add_file(
            DOMAIN, REL, garbage_db(Path(tmp), schema, {"ZPROCESS": processes, "ZLIVEUSAGE": live}, bad)
        )
        records, cov = run(DataUsageParser, backup.finish())
    assert_tolerated(records, cov)
    assert cov.status is Status.PARSED
    assert sum(isinstance(r, UsageProcess) for r in records) == len(processes)
    assert sum(isinstance(r, LiveUsage) for r in records) == len(live)


@settings(max_examples=30, deadline=None)
@given(cut=st.floats(min_value=0.0, max_value=0.99), schema=st.sampled_from(SCHEMAS))
def test_truncated_database_never_crashes(cut: float, schema: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = db_bytes(Path(tmp) / "scratch", schema, _rows())
        records, cov = run_file(DataUsageParser, DOMAIN, REL, data[: int(len(data) * cut)])
    assert_tolerated(records, cov)
    if cov.status is not Status.PARSED:
        assert cov.reason
