"""taskinfo.txt: one record per task, its threads, and its start time from its run time."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import fuzz as junk
from tests.builders.sysdiagnose import DEFAULT_TIME, Proc, SysdiagnoseBuilder, run_on, taskinfo_txt
from unmask.model import Status
from unmask.parsers.ios.taskinfo import TaskinfoParser, TaskinfoProcess


def parse(tmp_path: Path, data: bytes) -> tuple[list[TaskinfoProcess], object]:
    b = SysdiagnoseBuilder().minimal().add("taskinfo.txt", data)
    records, cov = run_on(TaskinfoParser, b, tmp_path)
    return [r for r in records if isinstance(r, TaskinfoProcess)], cov


def test_tasks_threads_and_run_time(tmp_path: Path) -> None:
    records, cov = parse(tmp_path, taskinfo_txt([
        Proc(1, "/sbin/launchd", uid=0, threads=4, run_seconds=86400),
        Proc(2143, "/private/var/db/com.apple.xpc.roleaccountd.staging/bh", threads=1, run_seconds=60),
    ]))
    assert cov.status is Status.PARSED
    assert [(r.pid, r.name, r.uid, r.threads, r.run_seconds) for r in records] == [
        (1, "launchd", 0, 4, 86400), (2143, "bh", 501, 1, 60)]
    assert records[0].started == DEFAULT_TIME - timedelta(days=1) and records[0].time_inferred == "relative"


def test_not_a_taskinfo_listing_fails(tmp_path: Path) -> None:
    records, cov = parse(tmp_path, b"hello\nworld\n")
    assert records == [] and cov.status is Status.FAILED


@settings(max_examples=25, deadline=None)
@given(text=st.text(max_size=300).map(lambda t: 'num tasks: 1\nprocess: "x" [1]\n' + t))
def test_hostile_listings_never_break_the_parser(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        records, cov = parse(Path(tmp), text.encode("utf-8", "surrogateescape"))
    junk.assert_handled(cov)
    junk.assert_writable(records)
