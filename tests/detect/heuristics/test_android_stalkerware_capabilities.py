from unmask.detect.heuristics.android_stalkerware_capabilities import AndroidStalkerwareCapabilities
from unmask.detect.heuristics.base import HeuristicContext
from unmask.model import Severity
from unmask.parsers.android.dumpsys_accessibility import AccessibilityService
from unmask.parsers.android.dumpsys_intents import IntentFilter
from unmask.parsers.android.dumpsys_package import DumpsysPackage
from unmask.parsers.android.settings import AndroidSetting

RIGHTS = ("android.permission.READ_SMS", "android.permission.ACCESS_FINE_LOCATION", "android.permission.RECORD_AUDIO",
          "android.permission.READ_CALL_LOG", "android.permission.ACCESS_BACKGROUND_LOCATION")
CTX = HeuristicContext(metadata={"completed": "2024-05-02T10:00:00+00:00"})


def _device(package: str, installer: str | None, visible: bool) -> list:
    records = [DumpsysPackage(device_path="d", package=package, installer=installer, granted=RIGHTS),
               AccessibilityService(device_path="d", package=package, component=f"{package}/.A", state="enabled"),
               AndroidSetting(device_path="s", namespace="secure", name="enabled_notification_listeners", value="", apps=(package,)),
               IntentFilter(device_path="d", table="activity", action="android.intent.action.MAIN", package="com.launcher", component="com.launcher/.L")]
    if visible:
        records.append(IntentFilter(device_path="d", table="activity", action="android.intent.action.MAIN", package=package, component=f"{package}/.Main"))
    return records


def test_a_hidden_sideloaded_app_is_graded_above_a_store_app_with_the_same_rights() -> None:
    hidden = AndroidStalkerwareCapabilities().check(_device("com.sys.update", None, visible=False), CTX)
    parental = AndroidStalkerwareCapabilities().check(_device("com.parental.control", "com.android.vending", visible=True), CTX)
    assert hidden[0].severity is Severity.HIGH and "hidden launcher icon" in hidden[0].message
    assert parental[0].severity.rank < hidden[0].severity.rank and "visible icon" in parental[0].message


def test_a_system_app_or_a_single_capability_is_not_flagged() -> None:
    one = [DumpsysPackage(device_path="d", package="com.maps", installer="com.android.vending",
                          granted=("android.permission.ACCESS_FINE_LOCATION",))]
    system = [DumpsysPackage(device_path="d", package="com.android.phone", system=True, granted=RIGHTS)]
    assert AndroidStalkerwareCapabilities().check(one + system, CTX) == []
