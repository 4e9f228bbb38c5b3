from __future__ import annotations

from datetime import UTC, datetime

from unmask.detect.heuristics.base import HeuristicContext
from unmask.detect.heuristics.shutdown_delayed_reboot import ShutdownDelayedReboot
from unmask.model import Severity
from unmask.parsers.ios.shutdown_log import ShutdownReboot

T = datetime(2024, 5, 1, 12, tzinfo=UTC)


def reboot(n: int, notices: int) -> ShutdownReboot:
    return ShutdownReboot(device_path="/private/var/db/diagnostics/shutdown.log", locator=f"shutdown={n}", sigterm=T,
                          reboot=n, notices=notices, clients=2, longest_delay=3.5)


def test_three_notices_fire_two_do_not() -> None:
    findings = ShutdownDelayedReboot().check([reboot(1, 2), reboot(2, 3), reboot(3, 9)], HeuristicContext())
    assert [(f.locator, f.severity) for f in findings] == [("shutdown=2", Severity.LOW), ("shutdown=3", Severity.LOW)]
    assert "3 notices" in findings[0].message and "3.5 s" in findings[0].message


def test_an_ordinary_shutdown_is_not_flagged() -> None:
    assert ShutdownDelayedReboot().check([reboot(1, 0), reboot(2, 1)], HeuristicContext()) == []
