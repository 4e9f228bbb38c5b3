from unmask.detect.heuristics.android_accessibility_service import AndroidAccessibilityService
from unmask.detect.heuristics.base import HeuristicContext
from unmask.model import Severity
from unmask.parsers.android.dumpsys_accessibility import AccessibilityService
from unmask.parsers.android.dumpsys_package import DumpsysPackage
from unmask.parsers.android.settings import AndroidSetting


def _svc(component: str, state: str, line: int) -> AccessibilityService:
    return AccessibilityService(device_path="dumpsys:accessibility", locator=f"line={line}",
                                package=component.split("/")[0], component=component, state=state)


def test_an_enabled_service_of_an_app_fires_once_and_names_its_sources() -> None:
    records = [
        _svc("com.spy/.Keys", "installed", 3), _svc("com.spy/.Keys", "enabled", 7), _svc("com.spy/.Keys", "bound", 9),
        AndroidSetting(device_path="settings:secure", locator="line=40", namespace="secure",
                       name="enabled_accessibility_services", value="com.spy/com.spy.Keys", apps=("com.spy",)),
        _svc("com.reader/.Idle", "installed", 4),  # installed, never turned on: low
        # TalkBack is part of the system image here: not reported (MVT reports it too).
        _svc("com.google.android.marvin.talkback/.TalkBackService", "enabled", 8),
        DumpsysPackage(device_path="dumpsys:package", package="com.google.android.marvin.talkback", system=True),
    ]
    found = AndroidAccessibilityService().check(records, HeuristicContext())
    assert [(f.record.package, f.severity) for f in found] == [("com.reader", Severity.LOW), ("com.spy", Severity.MEDIUM)]
    spy = found[1].message
    assert spy.startswith("accessibility service com.spy/com.spy.Keys is bound, enabled, enabled in settings")
    assert "dumpsys:accessibility line=9" in spy and "settings:secure line=40" in spy


def test_nothing_without_accessibility_services() -> None:
    assert AndroidAccessibilityService().check([DumpsysPackage(device_path="d", package="com.x")], HeuristicContext()) == []
