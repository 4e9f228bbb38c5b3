from unmask.detect.heuristics.android_sideloaded_app import AndroidSideloadedApp
from unmask.detect.heuristics.base import HeuristicContext
from unmask.parsers.android.dumpsys_package import DumpsysPackage
from unmask.parsers.android.packages import AndroidPackage
from unmask.timeutil import unix


def test_adb_install_fires_store_install_does_not() -> None:
    rule = AndroidSideloadedApp()
    found = rule.check([AndroidPackage(device_path="p", package="com.spy", installer="null", system=False),
                        AndroidPackage(device_path="p", package="com.ok", installer="com.android.vending", system=False),
                        AndroidPackage(device_path="p", package="com.sys", installer=None, system=True)], HeuristicContext())
    assert [f.record.package for f in found] == ["com.spy"]


def test_one_finding_per_app_that_names_packages_json_and_dumpsys() -> None:
    records = [
        AndroidPackage(device_path="packages.json", locator="item=4", package="com.spy", installer="null", system=False),
        DumpsysPackage(device_path="dumpsys:package", locator="line=120", package="com.spy", installer=None,
                       first_install=unix(1714600000)),
        AndroidPackage(device_path="packages.json", locator="item=5", package="com.apk",
                       installer="com.google.android.packageinstaller"),
        # A system app in one source is a system app, whatever the other says.
        AndroidPackage(device_path="packages.json", locator="item=6", package="com.vendor", installer="null"),
        DumpsysPackage(device_path="dumpsys:package", locator="line=300", package="com.vendor", system=True),
    ]
    found = AndroidSideloadedApp().check(records, HeuristicContext())
    assert [f.record.package for f in found] == ["com.apk", "com.spy"]
    spy = found[1]
    assert isinstance(spy.record, DumpsysPackage) and spy.timestamp == unix(1714600000)  # the one with a time
    assert "packages.json item=4" in spy.message and "dumpsys:package line=120" in spy.message
    assert "downloaded APK" in found[0].message
