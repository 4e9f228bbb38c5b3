from __future__ import annotations

from typing import Any

from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.detect.heuristics.base import HeuristicContext, registry
from unmask.detect.heuristics.process_pk_gap import ProcessPkGap, gaps
from unmask.model import Record, Severity
from unmask.parsers.ios.datausage import DataUsageParser
from unmask.parsers.ios.netusage import NetusageParser


def _processes(*pks: int) -> dict[str, list[dict[str, Any]]]:
    return {"ZPROCESS": [{"Z_PK": pk, "ZPROCNAME": f"proc{pk}"} for pk in pks]}


def test_gaps_only_between_the_smallest_and_largest_key() -> None:
    assert gaps([3, 4, 7, 8, 12]) == [(5, 6), (9, 11)]
    assert gaps([12, 3, 3, 4]) == [(5, 11)]
    assert gaps([1, 2, 3]) == []
    assert gaps([5]) == [] and gaps([]) == []


def test_one_finding_per_gap_range(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        "WirelessDomain",
        "Library/Databases/DataUsage.sqlite",
        "ios/DataUsage.sqlite/ios14.sql",
        rows=_processes(3, 4, 7, 8, 10, 12),
    )
    records, _ = run(DataUsageParser, backup.finish())
    findings = list(ProcessPkGap().check(records, HeuristicContext()))
    # Rows 1-2 (before the minimum) and anything after 12 are never reported.
    assert [f.locator for f in findings] == ["ZPROCESS.Z_PK=7", "ZPROCESS.Z_PK=10", "ZPROCESS.Z_PK=12"]
    assert [f.message for f in findings] == [
        "ZPROCESS Z_PK 5-6 (2 rows) missing between proc4 (Z_PK 4) and proc7 (Z_PK 7)",
        "ZPROCESS Z_PK 9 missing between proc8 (Z_PK 8) and proc10 (Z_PK 10)",
        "ZPROCESS Z_PK 11 missing between proc10 (Z_PK 10) and proc12 (Z_PK 12)",
    ]
    assert {(f.rule, f.severity) for f in findings} == {("process-pk-gap", Severity.LOW)}
    assert findings[0].device_path == "/private/var/wireless/Library/Databases/DataUsage.sqlite"


def test_contiguous_keys_are_not_flagged(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        "WirelessDomain",
        "Library/Databases/DataUsage.sqlite",
        "ios/DataUsage.sqlite/ios7.sql",
        rows=_processes(5, 6, 7),
    )
    records, _ = run(DataUsageParser, backup.finish())
    assert list(ProcessPkGap().check(records, HeuristicContext())) == []


def test_each_database_is_judged_on_its_own(backup: BackupBuilder) -> None:
    backup.add_sqlite(
        "WirelessDomain",
        "Library/Databases/DataUsage.sqlite",
        "ios/DataUsage.sqlite/ios15.sql",
        rows=_processes(1, 3),
    )
    backup.add_sqlite(
        "NetworkDomain", "db/netusage.sqlite", "ios/netusage.sqlite/ios14.sql", rows=_processes(2)
    )
    backup.add_sqlite(
        "NetworkDomain", "netusage.sqlite", "ios/netusage.sqlite/ios14.sql", rows=_processes(1, 2)
    )
    root = backup.finish()
    records: list[Record] = []
    for parser in (DataUsageParser, NetusageParser):
        records.extend(run(parser, root)[0])
    findings = list(ProcessPkGap().check(records, HeuristicContext()))
    # netusage's key 2 does not fill DataUsage's gap; neither netusage store has a gap.
    assert [(f.device_path, f.locator) for f in findings] == [
        ("/private/var/wireless/Library/Databases/DataUsage.sqlite", "ZPROCESS.Z_PK=3")
    ]


def test_registered() -> None:
    assert ProcessPkGap in registry()
