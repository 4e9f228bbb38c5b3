from unmask.detect.heuristics.android_sideloaded_app import AndroidSideloadedApp
from unmask.detect.heuristics.base import HeuristicContext
from unmask.parsers.android.packages import AndroidPackage


def test_adb_install_fires_store_install_does_not() -> None:
    rule = AndroidSideloadedApp()
    found = rule.check([AndroidPackage(device_path="p", package="com.spy", installer="null", system=False),
                        AndroidPackage(device_path="p", package="com.ok", installer="com.android.vending", system=False),
                        AndroidPackage(device_path="p", package="com.sys", installer=None, system=True)], HeuristicContext())
    assert [f.record.package for f in found] == ["com.spy"]
