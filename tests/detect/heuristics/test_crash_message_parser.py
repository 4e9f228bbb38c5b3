from __future__ import annotations

from datetime import UTC, datetime, timedelta

from unmask.detect.heuristics.base import HeuristicContext
from unmask.detect.heuristics.crash_message_parser import CrashMessageParser, parses_messages
from unmask.model import Severity
from unmask.parsers.ios.crash_reports import CrashReport
from unmask.parsers.ios.sms import SmsMessage
from unmask.parsers.ios.sms_attachments import SmsAttachment

T = datetime(2024, 5, 1, 12, tzinfo=UTC)


def crash(process: str, at: datetime = T, kind: str = "crash") -> CrashReport:
    return CrashReport(device_path=f"/c/{process}.ips", file_name=f"{process}.ips", time=at, process=process,
                       report_type=kind, exception_type="EXC_BAD_ACCESS", signal="SIGSEGV", acquisition="with1")


def attachment(at: datetime, direction: str = "received") -> SmsAttachment:
    return SmsAttachment(device_path="/private/var/mobile/Library/SMS/sms.db", locator="attachment.ROWID=1",
                         created=at, direction=direction, handle="+15550001111", mime_type="image/gif")


def test_a_parser_crash_is_medium_and_high_after_an_attachment() -> None:
    records = [crash("IMTranscoderAgent"), crash("com.apple.WebKit.WebContent", T + timedelta(days=3)),
               attachment(T - timedelta(minutes=2))]
    findings = CrashMessageParser().check(records, HeuristicContext())
    assert [(f.record.process, f.severity) for f in findings] == [
        ("IMTranscoderAgent", Severity.HIGH), ("com.apple.WebKit.WebContent", Severity.MEDIUM)]
    assert "120 s after an attachment (image/gif) from +15550001111" in findings[0].message


def test_other_crashes_and_far_or_sent_messages_do_not_raise() -> None:
    records = [
        crash("Maps"), crash("imagent", kind="jetsam"), crash("imagent", T + timedelta(days=1)),
        attachment(T + timedelta(days=1) - timedelta(hours=2)), attachment(T + timedelta(days=1), "sent"),
        SmsMessage(device_path="/x", sent=T + timedelta(days=1) + timedelta(minutes=30), direction="received"),
    ]
    findings = CrashMessageParser().check(records, HeuristicContext())
    assert [(f.record.process, f.severity) for f in findings] == [("imagent", Severity.MEDIUM)]


def test_names() -> None:
    assert parses_messages("MessagesBlastDoorService") and parses_messages("com.apple.WebKit.Networking")
    assert not parses_messages("SpringBoard") and not parses_messages(None)
