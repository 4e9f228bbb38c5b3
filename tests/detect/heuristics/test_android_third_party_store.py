from unmask.detect.heuristics.android_third_party_store import AndroidThirdPartyStore
from unmask.detect.heuristics.base import HeuristicContext
from unmask.parsers.android.dumpsys_package import DumpsysPackage
from unmask.parsers.android.packages import AndroidPackage


def test_fdroid_is_noted_once_play_is_not() -> None:
    found = AndroidThirdPartyStore().check([AndroidPackage(device_path="p", package="a", installer="org.fdroid.fdroid"),
                                            DumpsysPackage(device_path="d", package="a", installer="org.fdroid.fdroid"),
                                            DumpsysPackage(device_path="d", package="c", installer="com.aurora.store"),
                                            AndroidPackage(device_path="p", package="b", installer="com.android.vending")],
                                           HeuristicContext())
    assert [(f.record.package, f.message.split(" (")[0]) for f in found] == [
        ("a", "a was installed from org.fdroid.fdroid"), ("c", "c was installed from com.aurora.store")]
