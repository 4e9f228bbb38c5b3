from unmask.detect.heuristics.android_third_party_store import AndroidThirdPartyStore
from unmask.detect.heuristics.base import HeuristicContext
from unmask.parsers.android.packages import AndroidPackage


def test_fdroid_is_noted_play_is_not() -> None:
    found = AndroidThirdPartyStore().check([AndroidPackage(device_path="p", package="a", installer="org.fdroid.fdroid"),
                                            AndroidPackage(device_path="p", package="b", installer="com.android.vending")], HeuristicContext())
    assert [f.record.package for f in found] == ["a"]
