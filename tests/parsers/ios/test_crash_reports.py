"""Crash and diagnostic reports: the two-part JSON form, the older text form, .crash, Jetsam."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import fuzz as junk
from tests.builders.sysdiagnose import (
    DEFAULT_TIME,
    SysdiagnoseBuilder,
    ips_crash,
    ips_text_crash,
    jetsam_event,
    run_on,
)
from unmask.model import Status
from unmask.parsers.ios.crash_reports import CrashReport, CrashReportsParser, report_type

T = DEFAULT_TIME - timedelta(hours=5)
IMT = "/System/Library/PrivateFrameworks/IMTranscoding.framework/XPCServices/IMTranscoderAgent.xpc/IMTranscoderAgent"


def parse(tmp_path: Path, files: dict[str, bytes], tar: bool = False) -> tuple[list[CrashReport], object]:
    b = SysdiagnoseBuilder().minimal()
    for name, data in files.items():
        b.crash(name, data)
    records, cov = run_on(CrashReportsParser, b, tmp_path, tar=tar)
    return [r for r in records if isinstance(r, CrashReport)], cov


def test_json_two_part_form(tmp_path: Path) -> None:
    data = ips_crash(process="IMTranscoderAgent", path=IMT, time=T, pid=812, uptime=3600)
    (r,), cov = parse(tmp_path, {"IMTranscoderAgent-2025-11-22-143623.ips": data}, tar=True)
    assert cov.status is Status.PARSED
    assert (r.form, r.bug_type, r.report_type, r.process, r.process_path, r.pid, r.parent) == (
        "json", "309", "crash", "IMTranscoderAgent", IMT, 812, "launchd")
    assert (r.exception_type, r.signal, r.termination_namespace, r.termination_code) == (
        "EXC_BAD_ACCESS", "SIGSEGV", "SIGNAL", "11")
    assert (r.faulting_thread, r.faulting_thread_name) == (3, "com.apple.imagent.transcode")
    assert r.time == T and r.time_inferred == ""  # the report writes its offset: nothing inferred
    assert r.booted == T - timedelta(hours=1)
    assert (r.os_version, r.model, r.bundle_id) == ("iPhone OS 17.2.1 (21C66)", "iPhone14,2", "com.apple.IMTranscoderAgent")
    assert r.device_path == "/private/var/mobile/Library/Logs/CrashReporter/IMTranscoderAgent-2025-11-22-143623.ips"


def test_older_text_form_with_and_without_header(tmp_path: Path) -> None:
    ips = ips_text_crash(process="imagent", path="/System/Library/PrivateFrameworks/IMCore.framework/imagent.app/imagent",
                         time=T, pid=77)
    crash = ips_text_crash(process="MobileSMS", path="/Applications/MobileSMS.app/MobileSMS", time=T, header=False)
    records, cov = parse(tmp_path, {"Retired/imagent-2021-03-01-100000.ips": ips, "MobileSMS.crash": crash})
    assert cov.status is Status.PARSED
    by = {r.process: r for r in records}
    im = by["imagent"]
    assert (im.form, im.bug_type, im.report_type, im.pid, im.parent) == ("text", "109", "crash", 77, "launchd")
    assert (im.exception_type, im.signal, im.termination_namespace, im.termination_code, im.faulting_thread) == (
        "EXC_BAD_ACCESS", "SIGSEGV", "SIGNAL", "0xb", 3)
    assert im.time == T and im.os_version == "iPhone OS 14.4 (18D52)" and im.model == "iPhone12,1"
    sms = by["MobileSMS"]
    assert (sms.form, sms.bug_type, sms.report_type, sms.process_path) == (
        "text", None, "crash", "/Applications/MobileSMS.app/MobileSMS")


def test_jetsam_lists_processes_and_the_killed(tmp_path: Path) -> None:
    data = jetsam_event(time=T, processes=[("bh", 77, None), ("MobileSafari", 99, "per-process-limit")],
                        largest="MobileSafari")
    (r,), _ = parse(tmp_path, {"JetsamEvent-2025-11-22-143623.ips": data})
    assert (r.report_type, r.processes, r.killed, r.largest_process, r.process) == (
        "jetsam", ("bh", "MobileSafari"), ("MobileSafari",), "MobileSafari", None)
    assert r.time == T


def test_a_body_in_another_form_keeps_the_header(tmp_path: Path) -> None:
    head = b'{"bug_type":"288","timestamp":"2025-11-22 14:36:23.00 -0500","name":"stacks"}\n'
    records, cov = parse(tmp_path, {"stacks-1.ips": head + b'<?xml version="1.0"?><plist/>\n',
                                    "broken.ips": head + b'{"procName": "x", \n'})
    assert cov.status is Status.PARSED
    assert {(r.form, r.report_type, r.process) for r in records} == {("header-only", "stackshot", "stacks")}
    assert any("not valid JSON" in w for w in cov.warnings)


def test_garbage_and_empty_reports_fail_with_a_reason(tmp_path: Path) -> None:
    records, cov = parse(tmp_path, {"empty.ips": b"", "noise.ips": b"\x00\x01 not a report"})
    assert records == [] and cov.status is Status.FAILED
    assert all(a.reason for a in cov.artefacts)


def test_report_types() -> None:
    assert [report_type(b, "x.ips") for b in ("309", "109", "298", "288", None)] == [
        "crash", "crash", "jetsam", "stackshot", "other"]
    assert report_type(None, "JetsamEvent-2020.ips") == "jetsam"


@settings(max_examples=25, deadline=None)
@given(data=st.one_of(
    st.binary(max_size=300),
    st.builds(lambda h, b: h + b"\n" + b,
              st.sampled_from([b'{"bug_type":309}', b'{"bug_type":[1]}', b"[1,2]", b'{"timestamp":"x"}', b"{"]),
              st.sampled_from([b'{"procName":null,"threads":[1,{}],"faultingThread":9}',
                               b'{"exception":[],"termination":{"code":{}},"uptime":"x","processes":[1,{"name":3}]}',
                               b'{"captureTime":"2025-99-99 00:00:00 +9999","uptime":1e308}',
                               b"Process: [x]\nDate/Time: nonsense\nTriggered by Thread: -1\n", b"\xff\xfe"])),
))
def test_hostile_reports_never_break_the_parser(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        records, cov = parse(Path(tmp), {"x.ips": data})
    junk.assert_handled(cov)
    junk.assert_writable(records)
