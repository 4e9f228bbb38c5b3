from __future__ import annotations

from unmask.detect.heuristics.base import HeuristicContext
from unmask.detect.heuristics.shutdown_persistent_client import ShutdownPersistentClient
from unmask.model import Severity
from unmask.parsers.ios.shutdown_log import ShutdownClient

APP = "/private/var/containers/Bundle/Application/1111/Helper.app/Helper"


def client(path: str, reboot: int, log: str = "/private/var/db/diagnostics/shutdown.log") -> ShutdownClient:
    return ShutdownClient(device_path=log, locator=f"shutdown={reboot}", reboot=reboot, client=path, raw_client=path)


def test_a_non_system_client_in_three_shutdowns_fires() -> None:
    records = [client(APP, n) for n in (1, 2, 3)] + [client("/private/var/tmp/x", n) for n in (1, 2)]
    findings = ShutdownPersistentClient().check(records, HeuristicContext())
    assert [(f.severity, f.locator) for f in findings] == [(Severity.MEDIUM, "shutdown=1")]
    assert "3 shutdowns" in findings[0].message


def test_system_daemons_that_linger_are_not_flagged() -> None:
    records = [client("/usr/sbin/filecoordinationd", n) for n in range(1, 9)] + [client("/kernel", n) for n in (1, 2, 3)]
    # one shutdown counted once, whatever the number of notices naming the client
    records += [client(APP, 1), client(APP, 1), client(APP, 2)]
    assert ShutdownPersistentClient().check(records, HeuristicContext()) == []
