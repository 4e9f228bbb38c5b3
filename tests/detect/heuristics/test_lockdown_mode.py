from __future__ import annotations

from unmask.detect.heuristics.base import HeuristicContext
from unmask.detect.heuristics.lockdown_mode import LockdownMode
from unmask.model import Severity
from unmask.parsers.ios.global_preferences import GlobalPreferences

PATH = "/private/var/mobile/Library/Preferences/.GlobalPreferences.plist"


def prefs(state: bool | None) -> GlobalPreferences:
    return GlobalPreferences(device_path=PATH, locator="LDMGlobalEnabled", lockdown_mode=state)


def test_on_is_info() -> None:
    (finding,) = LockdownMode().check([prefs(True)], HeuristicContext())
    assert (finding.severity, finding.message, finding.rule) == (
        Severity.INFO,
        "Lockdown Mode is enabled",
        "lockdown-mode",
    )


def test_off_is_low_with_advice() -> None:
    (finding,) = LockdownMode().check([prefs(False)], HeuristicContext())
    assert finding.severity is Severity.LOW
    assert finding.message.startswith("Lockdown Mode is off") and "Settings" in finding.message


def test_unknown_says_nothing_before_ios_16() -> None:
    assert list(LockdownMode().check([prefs(None)], HeuristicContext())) == []
    assert list(LockdownMode().check([prefs(None)], HeuristicContext({"ios_version": "15.7"}))) == []


def test_missing_key_on_ios_16_or_later_is_low() -> None:
    (finding,) = LockdownMode().check([prefs(None)], HeuristicContext({"ios_version": "17.4.1"}))
    assert finding.severity is Severity.LOW and "probably never been turned on" in finding.message
