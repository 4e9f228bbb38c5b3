from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.detect.heuristics.base import HeuristicContext, registry
from unmask.detect.heuristics.process_orphan_usage import ProcessOrphanUsage
from unmask.model import Record, Severity
from unmask.parsers.base import Parser
from unmask.parsers.ios.datausage import DataUsageParser, LiveUsage
from unmask.parsers.ios.netusage import NetusageLiveUsage, NetusageParser
from unmask.timeutil import to_cocoa

WHEN = datetime(2021, 7, 12, 3, 4, 5, tzinfo=UTC)
CASES = [
    (
        DataUsageParser,
        "WirelessDomain",
        "Library/Databases/DataUsage.sqlite",
        "ios/DataUsage.sqlite/ios15.sql",
    ),
    (NetusageParser, "NetworkDomain", "db/netusage.sqlite", "ios/netusage.sqlite/ios14.sql"),
]


def _records(
    backup: BackupBuilder, case: tuple[type[Parser], str, str, str], live_fks: list[int | None]
) -> list[Record]:
    parser, domain, relative, schema = case
    rows = {
        "ZPROCESS": [{"Z_PK": 1, "ZPROCNAME": "mDNSResponder"}, {"Z_PK": 2, "ZPROCNAME": "Safari"}],
        "ZLIVEUSAGE": [
            {"Z_PK": 10 + i, "ZHASPROCESS": fk, "ZTIMESTAMP": to_cocoa(WHEN)} for i, fk in enumerate(live_fks)
        ],
    }
    backup.add_sqlite(domain, relative, schema, rows=rows)
    records, _ = run(parser, backup.finish())
    return records


@pytest.mark.parametrize("case", CASES, ids=["datausage", "netusage"])
def test_usage_of_a_deleted_process_is_flagged(
    backup: BackupBuilder, case: tuple[type[Parser], str, str, str]
) -> None:
    records = _records(backup, case, [1, 7, 2, 7])
    findings = list(ProcessOrphanUsage().check(records, HeuristicContext()))
    assert [f.locator for f in findings] == ["ZLIVEUSAGE.Z_PK=11", "ZLIVEUSAGE.Z_PK=13"]
    first = findings[0]
    assert (first.rule, first.severity, first.timestamp) == ("process-orphan-usage", Severity.HIGH, WHEN)
    assert "Z_PK 7" in first.message and first.device_path == records[0].device_path
    assert first.reference and first.benign and first.explanation
    assert first.source.endswith("/live_usage")


@pytest.mark.parametrize("case", CASES, ids=["datausage", "netusage"])
def test_intact_database_and_null_links_are_not_flagged(
    backup: BackupBuilder, case: tuple[type[Parser], str, str, str]
) -> None:
    records = _records(backup, case, [1, 2, None])
    assert list(ProcessOrphanUsage().check(records, HeuristicContext())) == []


def test_registered_for_both_databases() -> None:
    assert ProcessOrphanUsage in registry()
    consumed = ProcessOrphanUsage.consumes
    assert issubclass(LiveUsage, consumed) and issubclass(NetusageLiveUsage, consumed)
