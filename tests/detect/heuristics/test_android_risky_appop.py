from unmask.detect.heuristics.android_risky_appop import AndroidRiskyAppop
from unmask.detect.heuristics.base import HeuristicContext
from unmask.parsers.android.dumpsys_appops import AppOp


def test_install_packages_allowed_fires_denied_does_not() -> None:
    found = AndroidRiskyAppop().check([AppOp(device_path="a", package="com.x", op="REQUEST_INSTALL_PACKAGES", mode="allow"),
                                       AppOp(device_path="a", package="com.y", op="REQUEST_INSTALL_PACKAGES", mode="deny")], HeuristicContext())
    assert [f.record.package for f in found] == ["com.x"]
