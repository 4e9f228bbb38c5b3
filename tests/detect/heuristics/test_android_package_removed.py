from unmask.detect.heuristics.android_package_removed import AndroidPackageRemoved
from unmask.detect.heuristics.base import HeuristicContext
from unmask.model import Severity
from unmask.parsers.android.dumpsys_battery_daily import BatteryDailyUpdate
from unmask.parsers.android.dumpsys_battery_history import BatteryHistoryEvent
from unmask.parsers.android.packages import AndroidPackage
from unmask.timeutil import unix

DAY = dict(day_from=unix(1714528800), day_to=unix(1714615200))


def test_an_app_installed_then_removed_is_reported_once_with_both_times() -> None:
    records = [
        BatteryHistoryEvent(device_path="dumpsys:batterystats", locator="line=5", event="pkginst",
                            package="com.android.sys.update", value="42", time=unix(1714586537)),
        BatteryHistoryEvent(device_path="dumpsys:batterystats", locator="line=9", event="pkgunin",
                            package="com.android.sys.update", value="0", time=unix(1714672937)),
        BatteryDailyUpdate(device_path="dumpsys:batterystats", locator="line=80", package="com.android.sys.update",
                           action="uninstall", **DAY),
        # MVT's reading of vers=0 as a removal; the app is installed again now: low.
        BatteryDailyUpdate(device_path="dumpsys:batterystats", locator="line=81", package="com.back.again",
                           version_code=0, **DAY),
        AndroidPackage(device_path="packages.json", package="com.back.again"),
        # Ordinary updates and installs are not removals.
        BatteryDailyUpdate(device_path="dumpsys:batterystats", locator="line=82", package="com.whatsapp", version_code=241, **DAY),
        BatteryHistoryEvent(device_path="dumpsys:batterystats", locator="line=6", event="pkginst", package="com.whatsapp",
                            value="241", time=unix(1714586600)),
    ]
    found = AndroidPackageRemoved().check(records, HeuristicContext())
    assert [(f.record.package, f.severity) for f in found] == [("com.android.sys.update", Severity.MEDIUM),
                                                              ("com.back.again", Severity.LOW)]
    first = found[0]
    assert first.timestamp == unix(1714672937)  # the history's exact time
    assert first.message == ("com.android.sys.update was removed at 2024-05-02 18:02:17 UTC (battery history line=9); "
                             "between 2024-05-01 02:00:00 UTC and 2024-05-02 02:00:00 UTC (daily stats Uninstall, "
                             "line=80), after it was installed at 2024-05-01 18:02:17 UTC (version 42)")
    assert "installed again" in found[1].message
