from unmask.detect.heuristics.android_disabled_package import AndroidDisabledPackage
from unmask.detect.heuristics.base import HeuristicContext
from unmask.parsers.android.packages import AndroidPackage


def test_disabled_updater_fires_enabled_does_not() -> None:
    found = AndroidDisabledPackage().check([AndroidPackage(device_path="p", package="com.wssyncmldm", disabled=True),
                                            AndroidPackage(device_path="p", package="com.policydm", disabled=False),
                                            AndroidPackage(device_path="p", package="com.game", disabled=True)], HeuristicContext())
    assert [f.record.package for f in found] == ["com.wssyncmldm"]


def test_a_bugreport_alone_tells_a_disabled_updater_and_both_sources_give_one_finding() -> None:
    from unmask.parsers.android.dumpsys_package import DumpsysPackage

    found = AndroidDisabledPackage().check([
        DumpsysPackage(device_path="dumpsys:package", locator="line=7", package="com.wssyncmldm", system=True, enabled_state=3),
        AndroidPackage(device_path="packages.json", locator="item=2", package="com.wssyncmldm", disabled=True),
        DumpsysPackage(device_path="dumpsys:package", locator="line=9", package="com.policydm", system=True, enabled_state=0),
    ], HeuristicContext())
    assert [f.message for f in found] == [
        "the system-update package com.wssyncmldm is disabled (dumpsys:package line=7; packages.json item=2)"]
