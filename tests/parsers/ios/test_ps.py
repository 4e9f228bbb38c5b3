"""ps.txt and ps_thread.txt: both headers, thread rows, and ps's three forms of start time."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import fuzz as junk
from tests.builders.sysdiagnose import Proc, SysdiagnoseBuilder, ps_thread_txt, ps_txt, run_on
from unmask.model import Status
from unmask.parsers.ios.ps import PsParser, PsProcess

PROCS = [
    Proc(1, "/sbin/launchd", "root", 0, 0, "14Jan19", threads=3),
    Proc(88, "/System/Library/PrivateFrameworks/IMCore.framework/imagent.app/imagent", started="Tue09PM"),
    Proc(430, "/Applications/Some App.app/Some App -launchedByUser 1", started="7:22PM", threads=1),
]


def parse(tmp_path: Path, ps: bytes | None = None, thread: bytes | None = None) -> tuple[list[PsProcess], object]:
    b = SysdiagnoseBuilder().minimal()
    for name, data in (("ps.txt", ps), ("ps_thread.txt", thread)):
        if data is None:
            del b.files[name]
        else:
            b.add(name, data)
    records, cov = run_on(PsParser, b, tmp_path)
    return [r for r in records if isinstance(r, PsProcess)], cov


def test_ios16_header_and_start_times(tmp_path: Path) -> None:
    records, cov = parse(tmp_path, ps_txt(PROCS))
    assert cov.status is Status.PARSED
    assert [(r.pid, r.ppid, r.user, r.uid, r.name, r.path) for r in records] == [
        (1, 0, "root", 0, "launchd", "/sbin/launchd"),
        (88, 1, "mobile", 501, "imagent", PROCS[1].command),
        (430, 1, "mobile", 501, "Some App", "/Applications/Some App.app/Some App"),
    ]
    # Collected Sat 2025-11-22 19:36:23 at -0500: 14Jan19 is dated; Tue09PM and 7:22PM take their day from it.
    assert [(r.started, r.time_inferred) for r in records] == [
        (datetime(2019, 1, 14, 5, 0, tzinfo=UTC), "zone"),
        (datetime(2025, 11, 19, 2, 0, tzinfo=UTC), "date,zone"),
        (datetime(2025, 11, 23, 0, 22, tzinfo=UTC), "date,zone"),
    ]
    assert records[2].command == "/Applications/Some App.app/Some App -launchedByUser 1"
    assert {r.list_name for r in records} == {"ps.txt"}


def test_older_header(tmp_path: Path) -> None:
    records, _ = parse(tmp_path, ps_txt(PROCS[:2], old=True))
    assert [(r.pid, r.name) for r in records] == [(1, "launchd"), (88, "imagent")]


def test_thread_rows_count_toward_their_process(tmp_path: Path) -> None:
    records, cov = parse(tmp_path, None, ps_thread_txt(PROCS))
    assert cov.status is Status.PARSED
    assert [(r.pid, r.threads, r.list_name) for r in records] == [
        (1, 3, "ps_thread.txt"), (88, 2, "ps_thread.txt"), (430, 1, "ps_thread.txt")]


def test_no_header_fails(tmp_path: Path) -> None:
    records, cov = parse(tmp_path, b"root 1 /sbin/launchd\n")
    assert records == [] and cov.status is Status.FAILED and "header" in (cov.reason or "")


@settings(max_examples=25, deadline=None)
@given(rows=st.lists(st.one_of(
    st.text(max_size=60),
    st.sampled_from(["root 0 x 1 0 4 0 0 0 0 0 0 - ?? Ss 99:99ZZ 0:00 /x", "a b", "   ", "\x00\x1b[2J"]),
), max_size=8))
def test_hostile_lists_never_break_the_parser(rows: list[str]) -> None:
    data = (ps_txt([]).decode() + "\n".join(rows)).encode("utf-8", "surrogateescape")
    with tempfile.TemporaryDirectory() as tmp:
        records, cov = parse(Path(tmp), data)
    junk.assert_handled(cov)
    junk.assert_writable(records)
