from unmask.detect.heuristics.android_disabled_package import AndroidDisabledPackage
from unmask.detect.heuristics.base import HeuristicContext
from unmask.parsers.android.packages import AndroidPackage


def test_disabled_updater_fires_enabled_does_not() -> None:
    found = AndroidDisabledPackage().check([AndroidPackage(device_path="p", package="com.wssyncmldm", disabled=True),
                                            AndroidPackage(device_path="p", package="com.policydm", disabled=False),
                                            AndroidPackage(device_path="p", package="com.game", disabled=True)], HeuristicContext())
    assert [f.record.package for f in found] == ["com.wssyncmldm"]
