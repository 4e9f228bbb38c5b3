from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings

from tests.builders import fuzz as junk
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.osanalytics_addaily import NetUsageBaseline, OSAnalyticsADDailyParser

FILE = ("HomeDomain", "Library/Preferences/com.apple.osanalytics.addaily.plist")
T0 = datetime(2021, 7, 10, 3, 4, 5, tzinfo=UTC)


def test_processes_with_first_seen_and_counters(backup: BackupBuilder) -> None:
    backup.add_plist(
        *FILE,
        {
            "netUsageBaseline": {
                "roleaboutd": [T0.replace(tzinfo=None), 1024, 2048, 0, 12.5],
                "com.apple.WebKit.WebContent": [T0.replace(tzinfo=None), 1, 2],
                "weird": "not an array",
            },
            "otherKey": 1,
        },
    )
    records, cov = run(OSAnalyticsADDailyParser, backup.finish())
    assert cov.status is Status.PARSED
    by_name = {r.process: r for r in records if isinstance(r, NetUsageBaseline)}
    bad = by_name["roleaboutd"]
    assert (bad.first_seen, bad.wifi_in, bad.wifi_out, bad.wwan_in, bad.wwan_out) == (T0, 1024, 2048, 0, 12.5)
    assert bad.device_path == "/private/var/mobile/Library/Preferences/com.apple.osanalytics.addaily.plist"
    assert (Obs.PROCESS, "roleaboutd") in {(o.type, o.value) for o in observables_of(bad)}
    short = by_name["com.apple.WebKit.WebContent"]
    assert (short.wifi_in, short.wifi_out, short.wwan_in, short.wwan_out) == (1, 2, None, None)
    weird = by_name["weird"]
    assert (weird.first_seen, weird.wifi_in) == (None, None)
    assert any("not arrays" in w for w in cov.warnings)


def test_file_without_baseline_parses_to_nothing(backup: BackupBuilder) -> None:
    # The iOS 7 aggregated file and newer files without the key hold no process list.
    backup.add_plist(*FILE, {"LastCrashLogSerializationDateInDaysSince1970": 19000})
    records, cov = run(OSAnalyticsADDailyParser, backup.finish())
    assert records == [] and cov.status is Status.PARSED


def test_wrong_shapes_fail_with_reason() -> None:
    for value in ({"netUsageBaseline": [1, 2]}, [1]):
        records, cov = junk.run_file(OSAnalyticsADDailyParser, *FILE, junk.plist_bytes(value))
        junk.assert_handled(cov)
        assert records == [] and cov.status is Status.FAILED and "expected a dictionary" in (cov.reason or "")
    records, cov = junk.run_file(OSAnalyticsADDailyParser, *FILE, b"<?xml version='1.0'?><plist><dict>")
    junk.assert_handled(cov)
    assert cov.status is Status.FAILED


@settings(max_examples=30, deadline=None)
@given(baseline=junk.plist_dicts(), other=junk.plist_dicts())
def test_hostile_plists_never_break_the_parser(baseline: dict[str, object], other: dict[str, object]) -> None:
    records, cov = junk.run_file(
        OSAnalyticsADDailyParser, *FILE, junk.plist_bytes({**other, "netUsageBaseline": baseline})
    )
    junk.assert_handled(cov)
    assert cov.status is Status.PARSED
    assert sorted(r.process for r in records if isinstance(r, NetUsageBaseline)) == sorted(baseline)
