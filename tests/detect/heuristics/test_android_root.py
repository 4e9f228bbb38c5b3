from unmask.detect.heuristics.android_root import AndroidRoot
from unmask.detect.heuristics.base import HeuristicContext
from unmask.model import Severity
from unmask.parsers.android.dumpsys_package import DumpsysPackage
from unmask.parsers.android.packages import AndroidPackage
from unmask.parsers.android.root_binaries import RootBinary


def test_su_and_magisk_fire_ordinary_app_does_not() -> None:
    found = AndroidRoot().check([RootBinary(device_path="r", path="/system/bin/su"),
                                 AndroidPackage(device_path="packages.json", locator="item=1", package="com.topjohnwu.magisk"),
                                 DumpsysPackage(device_path="dumpsys:package", locator="line=9", package="com.topjohnwu.magisk"),
                                 AndroidPackage(device_path="p", package="com.whatsapp")], HeuristicContext())
    assert [f.severity for f in found] == [Severity.HIGH, Severity.MEDIUM]  # Magisk once, from both sources
    assert "packages.json item=1; dumpsys:package line=9" in found[1].message
