"""shutdown.log: both forms, iOS 26 naming, clients stripped of their binary UUID, file summaries."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import fuzz as junk
from tests.builders.sysdiagnose import (
    DEFAULT_TIME,
    Reboot,
    SysdiagnoseBuilder,
    client_uuid,
    delayed,
    run_on,
    shutdown_log,
)
from unmask.model import Status
from unmask.parsers.ios.shutdown_log import (
    ShutdownClient,
    ShutdownLogFile,
    ShutdownLogParser,
    ShutdownReboot,
    path_names,
    split_client,
)

T = DEFAULT_TIME
ROLE = "/private/var/db/com.apple.xpc.roleaccountd.staging/mptbd"


def parse(tmp_path: Path, data: bytes, name: str = "shutdown.log", tar: bool = False) -> tuple[list, object]:
    b = SysdiagnoseBuilder().minimal().shutdown(data, name)
    records, cov = run_on(ShutdownLogParser, b, tmp_path, tar=tar)
    return records, cov


def of(records: list, cls: type) -> list:
    return [r for r in records if isinstance(r, cls)]


def test_multi_line_form(tmp_path: Path) -> None:
    data = shutdown_log([
        delayed(T - timedelta(days=2), [(153, "/usr/sbin/filecoordinationd"), (2143, ROLE)], notices=4),
        delayed(T - timedelta(days=1), [(0, "/kernel")], notices=1),
    ])
    records, cov = parse(tmp_path, data)
    assert cov.status is Status.PARSED and not cov.warnings
    clients = of(records, ShutdownClient)
    assert [(c.reboot, c.pid, c.client, c.delay, c.notices) for c in clients] == [
        (1, 153, "/usr/sbin/filecoordinationd", 2.0, 4), (1, 2143, ROLE, 2.0, 4), (2, 0, "/kernel", 0.5, 1)]
    assert clients[1].binary_uuid == client_uuid(ROLE) and clients[1].raw_client == f"{ROLE}/{client_uuid(ROLE)}"
    assert clients[1].names == ("private", "var", "db", "com.apple.xpc.roleaccountd.staging", "mptbd")
    assert clients[0].sigterm == T - timedelta(days=2) and clients[0].form == "multi-line"
    reboots = of(records, ShutdownReboot)
    assert [(r.reboot, r.notices, r.clients, r.longest_delay, r.closed) for r in reboots] == [
        (1, 4, 2, 2.0, True), (2, 1, 1, 0.5, True)]
    (summary,) = of(records, ShutdownLogFile)
    assert (summary.reboots, summary.clients, summary.unrecognised, summary.file_name) == (2, 3, 0, "shutdown.log")
    assert (summary.first_sigterm, summary.last_sigterm) == (T - timedelta(days=2), T - timedelta(days=1))
    assert summary.device_path == "/private/var/db/diagnostics/shutdown.log"


def test_one_line_form_and_no_uuid(tmp_path: Path) -> None:
    reboot = Reboot(T, [(0.1, [(155, "/usr/libexec/nfcd")]), (0.2, [(155, "/usr/libexec/nfcd"),
                                                                   (2143, "/private/var/tmp/takePhoto")])],
                    one_line=True, uuids=False)
    records, _ = parse(tmp_path, shutdown_log([reboot], header=False))
    clients = of(records, ShutdownClient)
    assert [(c.pid, c.client, c.delay, c.notices, c.form, c.binary_uuid) for c in clients] == [
        (155, "/usr/libexec/nfcd", 0.2, 2, "one-line", None),
        (2143, "/private/var/tmp/takePhoto", 0.2, 1, "one-line", None)]
    assert of(records, ShutdownReboot)[0].notices == 2


def test_ios26_shutdown_0_log_in_a_tar(tmp_path: Path) -> None:
    records, cov = parse(tmp_path, shutdown_log([delayed(T, [(215, "/usr/libexec/coreduetd")])]),
                         name="shutdown.0.log", tar=True)
    assert cov.status is Status.PARSED
    assert [a.device_path for a in cov.artefacts] == ["/private/var/db/diagnostics/shutdown.0.log"]
    assert of(records, ShutdownClient)[0].client == "/usr/libexec/coreduetd"
    assert of(records, ShutdownLogFile)[0].file_name == "shutdown.0.log"


def test_a_delay_reset_without_sigterm_starts_a_new_shutdown_and_trailing_clients_keep_no_time(tmp_path: Path) -> None:
    text = (
        "After 1.26s, these clients are still here:\n\t\tremaining client pid: 153 (/usr/sbin/a)\n"
        "After 1.77s, these clients are still here:\n\t\tremaining client pid: 153 (/usr/sbin/a)\n"
        "After 1.26s, these clients are still here:\n\t\tremaining client pid: 9 (/usr/sbin/b)\n"
    )
    records, _ = parse(tmp_path, text.encode())
    reboots = of(records, ShutdownReboot)
    assert [(r.reboot, r.notices, r.sigterm, r.closed) for r in reboots] == [(1, 2, None, False), (2, 1, None, False)]
    assert of(records, ShutdownLogFile)[0].reboots == 2


def test_other_sigterm_forms(tmp_path: Path) -> None:
    text = (
        "remaining client pid: 5 (/usr/sbin/x)\n"  # a client line without a notice: not a client
        "SIGTERM: [0x100304080] Sent SIGTERM to remaining client pid: 155 (/usr/libexec/nfcd)\n"
        "After 0.5s, these clients are still here:\n\t\tremaining client pid: 1 (/usr/sbin/y)\n"
        f"SIGTERM: sent @{int(T.timestamp())}\n"
    )
    records, cov = parse(tmp_path, text.encode())
    reboots = of(records, ShutdownReboot)
    assert [(r.sigterm, r.clients) for r in reboots] == [(None, 0), (T, 1)]
    assert of(records, ShutdownLogFile)[0].unrecognised == 1 and cov.warnings


def test_an_empty_log_is_a_fact(tmp_path: Path) -> None:
    records, cov = parse(tmp_path, b"")
    assert cov.status is Status.PARSED
    (summary,) = records
    assert isinstance(summary, ShutdownLogFile) and (summary.reboots, summary.lines) == (0, 0)


def test_helpers() -> None:
    uuid = "FC9C4AD0-D918-393F-B50C-7B4D830F3E2A"
    assert split_client(f"/usr/libexec/coreduetd/{uuid}") == ("/usr/libexec/coreduetd", uuid)
    assert split_client(f"/{uuid}") == (f"/{uuid}", None)  # nothing left: kept whole
    assert split_client("/usr/libexec/nfcd") == ("/usr/libexec/nfcd", None)
    assert path_names("/a//b/a/c") == ("a", "b", "c")


@settings(max_examples=25, deadline=None)
@given(data=st.one_of(
    st.binary(max_size=400),
    st.lists(st.sampled_from([
        "After 0.1s, these clients are still here:", "\t\tremaining client pid: 12 (/x/y)",
        "After 9e9s, remaining client pid: 99999999999999999999 (/a)", "SIGTERM: [99999999999]",
        "SIGTERM: [1]", "After -1s, these clients are still here:", "\t\tremaining client pid: 1 ()",
        "%%%%% Entering phase: x", "\x00\xff", "[bold]\x1b[2J",
    ]), max_size=30).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogateescape")),
))
def test_hostile_logs_never_break_the_parser(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        records, cov = parse(Path(tmp), data)
    junk.assert_handled(cov)
    junk.assert_writable(records)
