from __future__ import annotations

from datetime import UTC, datetime, timedelta

from unmask.detect.heuristics.base import HeuristicContext
from unmask.detect.heuristics.shutdown_log_short import ShutdownLogShort, cluster
from unmask.model import Severity
from unmask.parsers.ios.crash_reports import CrashReport
from unmask.parsers.ios.shutdown_log import ShutdownLogFile, ShutdownReboot

T = datetime(2024, 5, 1, 12, tzinfo=UTC)
LOG = "/private/var/db/diagnostics/shutdown.log"


def log(reboots: int, name: str = "shutdown.log") -> ShutdownLogFile:
    return ShutdownLogFile(device_path=LOG.replace("shutdown.log", name), file_name=name, reboots=reboots, lines=reboots * 3)


def shutdown(at: datetime) -> ShutdownReboot:
    return ShutdownReboot(device_path=LOG, reboot=1, sigterm=at)


def crash(booted: datetime, n: int = 0) -> CrashReport:
    return CrashReport(device_path=f"/c/{n}.ips", file_name=f"{n}.ips", time=booted + timedelta(hours=1), booted=booted)


def run(records: list, version: str = "17.4") -> list:
    return ShutdownLogShort().check(records, HeuristicContext(metadata={"ios_version": version}))


def test_an_empty_log_fires() -> None:
    (finding,) = run([log(0)])
    assert finding.severity is Severity.MEDIUM and "no shutdown" in finding.message


def test_boots_without_their_shutdowns_fire() -> None:
    boots = [T + timedelta(days=d) for d in range(5)]
    records = [log(1), shutdown(boots[1] - timedelta(minutes=1))]
    records += [crash(b, i) for i, b in enumerate(boots)] + [crash(boots[2] + timedelta(seconds=30), 9)]
    (finding,) = run(records)
    assert finding.severity is Severity.MEDIUM and "3 of the 4 boots" in finding.message


def test_a_log_that_matches_the_boots_is_not_flagged() -> None:
    boots = [T + timedelta(days=d) for d in range(5)]
    records = [log(4)] + [shutdown(b - timedelta(minutes=2)) for b in boots[1:]] + [crash(b, i) for i, b in enumerate(boots)]
    assert run(records) == []


def test_ios26_expects_only_the_last_shutdown() -> None:
    boots = [T + timedelta(days=d) for d in range(5)]
    kept = [log(1, "shutdown.0.log"), shutdown(boots[-1] - timedelta(minutes=2))] + [crash(b, i) for i, b in enumerate(boots)]
    assert run(kept, "26.1") == []  # older shutdowns are gone by design
    stale = [log(1, "shutdown.0.log"), shutdown(boots[1] - timedelta(minutes=2))] + [crash(b, i) for i, b in enumerate(boots)]
    (finding,) = run(stale, "26.1")
    assert finding.severity is Severity.LOW and "iOS 26" in finding.message
    (empty,) = run([log(0, "shutdown.0.log")], "26.1")
    assert empty.severity is Severity.LOW


def test_cluster() -> None:
    assert cluster([0, 100, 700, 1300, 1301]) == [0, 700, 1301]
