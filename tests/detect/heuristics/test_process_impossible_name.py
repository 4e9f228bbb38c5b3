from __future__ import annotations

from unmask.detect.heuristics.base import HeuristicContext
from unmask.detect.heuristics.process_impossible_name import ProcessImpossibleName
from unmask.model import Severity
from unmask.parsers.ios.crash_reports import CrashReport
from unmask.parsers.ios.datausage import UsageProcess
from unmask.parsers.ios.ps import PsProcess

SIM = "com.apple.CoreSimulator.CoreSimulatorService"


def test_simulator_names_fire_once_per_kind_of_record() -> None:
    records = [
        PsProcess(device_path="sysdiagnose:ps.txt", locator="line=4", pid=9, name=SIM, path=f"/usr/libexec/{SIM}"),
        PsProcess(device_path="sysdiagnose:ps_thread.txt", locator="line=9", pid=9, name=SIM),
        UsageProcess(device_path="/private/var/wireless/Library/Databases/DataUsage.sqlite", pk=3, process=SIM),
        CrashReport(device_path="/c/j.ips", file_name="j.ips", processes=("launchd", "launchd_sim")),
    ]
    findings = ProcessImpossibleName().check(records, HeuristicContext())
    assert [(f.source, f.observable.value if f.observable else None, f.severity) for f in findings] == [
        ("ios/ps/process", SIM, Severity.HIGH), ("ios/datausage/process", SIM, Severity.HIGH),
        ("ios/crash_reports/report", "launchd_sim", Severity.HIGH)]


def test_ordinary_processes_are_not_flagged() -> None:
    records = [PsProcess(device_path="sysdiagnose:ps.txt", name="launchd", path="/sbin/launchd"),
               UsageProcess(device_path="/d", pk=1, process="com.apple.WebKit.WebContent")]
    assert ProcessImpossibleName().check(records, HeuristicContext()) == []
