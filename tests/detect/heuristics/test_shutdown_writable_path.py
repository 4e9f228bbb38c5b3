from __future__ import annotations

from datetime import UTC, datetime, timedelta

from unmask.detect.heuristics.base import HeuristicContext
from unmask.detect.heuristics.shutdown_writable_path import ShutdownWritablePath
from unmask.detect.writable_paths import in_implant_folder
from unmask.model import Severity
from unmask.parsers.ios.shutdown_log import ShutdownClient, path_names

T = datetime(2024, 5, 1, 12, tzinfo=UTC)


def client(path: str, reboot: int) -> ShutdownClient:
    return ShutdownClient(device_path="/private/var/db/diagnostics/shutdown.log", locator=f"shutdown={reboot}",
                          sigterm=T + timedelta(days=reboot), reboot=reboot, pid=100 + reboot, client=path,
                          names=path_names(path), raw_client=path)


def test_one_finding_per_path_with_its_shutdowns() -> None:
    records = [client("/private/var/db/com.apple.xpc.roleaccountd.staging/rolexd", n) for n in (1, 2, 3)]
    records.append(client("/private/var/tmp/takePhoto", 4))
    findings = ShutdownWritablePath().check(records, HeuristicContext())
    assert [(f.severity, f.locator) for f in findings] == [(Severity.HIGH, "shutdown=1"), (Severity.HIGH, "shutdown=4")]
    assert "3 shutdown(s), from 2024-05-02 to 2024-05-04" in findings[0].message
    assert "/private/var/tmp/" in findings[1].message


def test_system_daemons_and_staged_xpc_services_are_not_flagged() -> None:
    records = [
        client("/usr/libexec/nfcd", 1),
        client("/kernel", 1),
        client("/private/var/containers/Bundle/Application/0000/Signal.app/Signal", 1),
        client("/private/var/db/com.apple.xpc.roleaccountd.staging/com.apple.WebKit.WebContent.xpc/com.apple.WebKit.WebContent", 1),
    ]
    assert ShutdownWritablePath().check(records, HeuristicContext()) == []


def test_the_allow_list_keeps_the_pegasus_2022_path() -> None:
    # iVerify's Pegasus 2022 trace sits in the staging folder outside any .xpc bundle.
    assert in_implant_folder("/private/var/db/com.apple.xpc.roleaccountd.staging/com.apple.WebKit.Networking")
    assert in_implant_folder("/var/tmp/x")
    assert not in_implant_folder("/private/var/dbx/y") and not in_implant_folder(None)
