"""spindump-nosymbols.txt: the sampled processes, and the boot the header implies."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import fuzz as junk
from tests.builders.sysdiagnose import DEFAULT_TIME, Proc, SysdiagnoseBuilder, run_on, spindump_txt
from unmask.model import Status
from unmask.parsers.ios.spindump import SpindumpParser, SpindumpProcess, SpindumpReport


def parse(tmp_path: Path, data: bytes) -> tuple[list, object]:
    b = SysdiagnoseBuilder().minimal().add("spindump-nosymbols.txt", data)
    return run_on(SpindumpParser, b, tmp_path, tar=True)


def test_processes_and_boot(tmp_path: Path) -> None:
    procs = [Proc(1, "/sbin/launchd", uid=0, ppid=0), Proc(760, "/usr/libexec/com.apple.CoreSimulator.CoreSimulatorService")]
    records, cov = parse(tmp_path, spindump_txt(procs, taken=DEFAULT_TIME, since_boot=848))
    assert cov.status is Status.PARSED
    processes = [r for r in records if isinstance(r, SpindumpProcess)]
    assert [(p.pid, p.name, p.path, p.ppid, p.parent_name, p.uid) for p in processes] == [
        (1, "launchd", "/sbin/launchd", 0, "launchd", 0),
        (760, "com.apple.CoreSimulator.CoreSimulatorService", procs[1].command, 1, "launchd", 501)]
    (report,) = [r for r in records if isinstance(r, SpindumpReport)]
    assert report.taken == DEFAULT_TIME and report.booted == DEFAULT_TIME - timedelta(seconds=848)
    assert (report.processes, report.os_version, report.model) == (2, "iPhone OS 17.2.1 (Build 21C66)", "iPhone14,2")


def test_not_a_spindump_fails(tmp_path: Path) -> None:
    records, cov = parse(tmp_path, b"nothing here\n")
    assert records == [] and cov.status is Status.FAILED


@settings(max_examples=25, deadline=None)
@given(text=st.text(max_size=300).map(lambda t: "Date/Time: 2025-13-40 99:99:99 +0000\nProcess: x [a]\n" + t))
def test_hostile_spindumps_never_break_the_parser(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        records, cov = parse(Path(tmp), text.encode("utf-8", "surrogateescape"))
    junk.assert_handled(cov)
    junk.assert_writable(records)
