from pathlib import Path

from tests.builders.android import AndroidQFBuilder, battery_daily, run_on
from unmask.parsers.android.dumpsys_battery_daily import DumpsysBatteryDailyParser


def test_daily_updates_and_removals(tmp_path: Path) -> None:
    body = battery_daily([("2024-04-30-03-00-00", "2024-05-01-03-00-00",
                           [("com.spy", 12), ("com.old", 0), ("com.gone", None), ("com.spy", 12)])])
    records, _ = run_on(DumpsysBatteryDailyParser, AndroidQFBuilder().add_dumpsys("batterystats", body).write_folder(tmp_path / "a"))
    assert [(r.package, r.action, r.version_code) for r in records] == [
        ("com.spy", "update", 12), ("com.old", "update", 0), ("com.gone", "uninstall", None)]
    assert records[0].day_from.isoformat() == "2024-04-30T01:00:00+00:00"  # Europe/Paris, summer time
    assert records[0].time_inferred == "zone"


def test_lines_outside_a_period_and_garbage_are_ignored(tmp_path: Path) -> None:
    body = "Daily stats:\n    Update com.before vers=1\n  Daily from garbage to garbage:\n      Uninstall \n"
    records, _ = run_on(DumpsysBatteryDailyParser, AndroidQFBuilder().add_dumpsys("batterystats", body).write_folder(tmp_path / "a"))
    assert records == []
