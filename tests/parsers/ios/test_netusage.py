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
from unmask.parsers.ios.datausage import DataUsageParser
from unmask.parsers.ios.netusage import NetusageLiveUsage, NetusageParser, NetusageProcess
from unmask.timeutil import to_cocoa

SCHEMA = "ios/netusage.sqlite/ios14.sql"
WHEN = datetime(2021, 2, 3, 4, 5, 6, tzinfo=UTC)
# networkd's folder is NetworkDomain in the acquisition's domain map; the relative path decides
# which of the two device locations the store is at.
LOCATIONS = [
    ("db/netusage.sqlite", "/private/var/networkd/db/netusage.sqlite"),
    ("netusage.sqlite", "/private/var/networkd/netusage.sqlite"),
]


def _rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "ZPROCESS": [
            {
                "Z_PK": 1,
                "ZPROCNAME": "roleaccountd",
                "ZBUNDLENAME": None,
                "ZFIRSTTIMESTAMP": to_cocoa(WHEN),
                "ZTIMESTAMP": to_cocoa(WHEN),
            },
            {
                "Z_PK": 3,
                "ZPROCNAME": "Safari",
                "ZBUNDLENAME": "com.apple.mobilesafari",
                "ZFIRSTTIMESTAMP": None,
            },
        ],
        "ZLIVEUSAGE": [
            {
                "Z_PK": 7,
                "ZHASPROCESS": 1,
                "Z15_HASPROCESS": 15,
                "ZTIMESTAMP": to_cocoa(WHEN),
                "ZWIFIIN": 1.5,
                "ZWIFIOUT": 2.5,
                "ZWWANIN": 3.5,
                "ZWWANOUT": 4.5,
                "ZWIREDIN": 5.5,
                "ZWIREDOUT": 6.5,
            },
            {"Z_PK": 8, "ZHASPROCESS": 2, "ZTIMESTAMP": to_cocoa(WHEN)},
        ],
    }


@pytest.mark.parametrize(("relative", "device_path"), LOCATIONS)
def test_both_locations_parse_with_netusage_kinds(
    backup: BackupBuilder, relative: str, device_path: str
) -> None:
    backup.add_sqlite("NetworkDomain", relative, SCHEMA, rows=_rows())
    records, cov = run(NetusageParser, backup.finish())
    assert cov.status is Status.PARSED and [a.device_path for a in cov.artefacts] == [device_path]
    processes = {r.pk: r for r in records if isinstance(r, NetusageProcess)}
    live = {r.pk: r for r in records if isinstance(r, NetusageLiveUsage)}
    assert {type(r).kind for r in records} == {"ios/netusage/process", "ios/netusage/live_usage"}
    assert (processes[1].process, processes[1].first_seen, processes[1].device_path) == (
        "roleaccountd",
        WHEN,
        device_path,
    )
    assert (Obs.PROCESS, "roleaccountd") in {(o.type, o.value) for o in observables_of(processes[1])}
    assert (live[7].process_exists, live[7].process, live[7].time) == (True, "roleaccountd", WHEN)
    assert (
        live[7].wifi_in,
        live[7].wifi_out,
        live[7].wwan_in,
        live[7].wwan_out,
        live[7].wired_in,
        live[7].wired_out,
    ) == (1.5, 2.5, 3.5, 4.5, 5.5, 6.5)
    assert (live[8].process_pk, live[8].process_exists) == (2, False)


def test_parsers_are_distinct(backup: BackupBuilder) -> None:
    assert NetusageParser.name != DataUsageParser.name
    assert set(NetusageParser.records).isdisjoint(DataUsageParser.records)
    # A netusage store is not read by the DataUsage parser and vice versa.
    backup.add_sqlite("NetworkDomain", "db/netusage.sqlite", SCHEMA, rows=_rows())
    records, cov = run(DataUsageParser, backup.finish())
    assert records == [] and cov.status is Status.ABSENT


@settings(max_examples=30, deadline=None)
@given(
    processes=st.lists(
        st.fixed_dictionaries({c: VALUES for c in ["ZPROCNAME", "ZBUNDLENAME", "ZTIMESTAMP"]}), max_size=4
    ),
    live=st.lists(
        st.fixed_dictionaries({c: VALUES for c in ["ZHASPROCESS", "ZWIREDIN", "ZXIN", "ZTIMESTAMP"]}),
        max_size=4,
    ),
)
def test_garbage_rows_never_crash(processes: list[dict[str, Any]], live: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        backup = BackupBuilder(Path(tmp) / "backup")
        data = garbage_db(
            Path(tmp), SCHEMA, {"ZPROCESS": processes, "ZLIVEUSAGE": live}, ("ZPROCESS", "ZPROCNAME")
        )
        backup.add_file("NetworkDomain", "db/netusage.sqlite", data)
        records, cov = run(NetusageParser, backup.finish())
    assert_tolerated(records, cov)
    assert cov.status is Status.PARSED and len(records) == len(processes) + len(live)


@settings(max_examples=30, deadline=None)
@given(cut=st.floats(min_value=0.0, max_value=0.99))
def test_truncated_database_never_crashes(cut: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = db_bytes(Path(tmp) / "scratch", SCHEMA, _rows())
        records, cov = run_file(
            NetusageParser, "NetworkDomain", "db/netusage.sqlite", data[: int(len(data) * cut)]
        )
    assert_tolerated(records, cov)
