from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.dumpsys_battery_daily import DumpsysBatteryDailyParser


def test_daily_updates(tmp_path: Path) -> None:
    body = "Daily stats:\n  Daily from 2024-04-30-03-00-00 to 2024-05-01-03-00-00:\n    Package changes:\n      Update com.spy vers=12\n      Update com.old vers=0\n"
    records, _ = run_on(DumpsysBatteryDailyParser, AndroidQFBuilder().add_dumpsys("batterystats", body).write_folder(tmp_path / "a"))
    assert [(r.package, r.version_code) for r in records] == [("com.spy", 12), ("com.old", 0)]
    assert records[0].day_from.isoformat() == "2024-04-30T01:00:00+00:00"
