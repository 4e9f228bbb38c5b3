from unmask.detect.heuristics.android_package_downgraded import AndroidPackageDowngraded
from unmask.detect.heuristics.base import HeuristicContext
from unmask.parsers.android.dumpsys_battery_daily import BatteryDailyUpdate
from unmask.timeutil import unix


def _u(package: str, version: int, day: int, line: int) -> BatteryDailyUpdate:
    return BatteryDailyUpdate(device_path="dumpsys:batterystats", locator=f"line={line}", package=package,
                              version_code=version, day_from=unix(1714000000 + day * 86400), day_to=unix(1714086400 + day * 86400))


def test_a_version_going_down_fires_upgrades_do_not() -> None:
    # Daily stats list the newest period first: the parse order is not the time order.
    records = [_u("com.chat", 300, 3, 1), _u("com.chat", 280, 2, 9), _u("com.chat", 310, 1, 20),
               _u("com.maps", 5, 1, 21), _u("com.maps", 6, 2, 10), _u("com.maps", 6, 3, 2)]
    found = AndroidPackageDowngraded().check(records, HeuristicContext())
    assert [(f.record.package, f.message) for f in found] == [
        ("com.chat", "com.chat went from version 310 to the older version 280 (daily stats line=9)")]
