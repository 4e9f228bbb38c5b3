from __future__ import annotations

from unmask.detect.heuristics.base import HeuristicContext
from unmask.detect.heuristics.process_writable_path import ProcessWritablePath
from unmask.model import Severity
from unmask.parsers.ios.crash_reports import CrashReport
from unmask.parsers.ios.ps import PsProcess
from unmask.parsers.ios.spindump import SpindumpProcess


def ps(path: str, n: int = 1) -> PsProcess:
    return PsProcess(device_path="sysdiagnose:ps.txt", locator=f"line={n}", name=path.rsplit("/", 1)[-1], path=path)


def test_programs_in_data_folders_fire_once_per_path() -> None:
    records = [
        ps("/private/var/db/com.apple.xpc.roleaccountd.staging/bh", 2),
        SpindumpProcess(device_path="sysdiagnose:spindump-nosymbols.txt", name="bh",
                        path="/private/var/db/com.apple.xpc.roleaccountd.staging/bh"),
        ps("/var/mobile/Library/Caches/x/agent", 3),
        CrashReport(device_path="/c/a.ips", file_name="a.ips", process="helper", process_path="/private/var/tmp/helper"),
    ]
    findings = ProcessWritablePath().check(records, HeuristicContext())
    assert [(f.source, f.locator, f.severity) for f in findings] == [
        ("ios/ps/process", "line=2", Severity.HIGH), ("ios/ps/process", "line=3", Severity.HIGH),
        ("ios/crash_reports/report", "", Severity.HIGH)]
    assert "/var/mobile/Library/Caches/x/agent" in findings[1].message


def test_system_programs_and_apps_are_not_flagged() -> None:
    records = [
        ps("/sbin/launchd"), ps("/System/Library/CoreServices/SpringBoard.app/SpringBoard"),
        ps("/private/var/containers/Bundle/Application/A1B2/WhatsApp.app/WhatsApp"),
        ps("/private/preboot/Cryptexes/OS/System/Library/Frameworks/WebKit.framework/XPCServices/x.xpc/x"),
        ps("/private/var/db/com.apple.xpc.roleaccountd.staging/com.apple.WebKit.GPU.xpc/com.apple.WebKit.GPU"),
        CrashReport(device_path="/c/b.ips", file_name="b.ips", process="x", process_path=None),
    ]
    assert ProcessWritablePath().check(records, HeuristicContext()) == []
