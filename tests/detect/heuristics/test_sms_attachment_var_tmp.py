from __future__ import annotations

from unmask.detect.heuristics.base import HeuristicContext
from unmask.detect.heuristics.sms_attachment_var_tmp import SmsAttachmentVarTmp, in_var_tmp
from unmask.model import Severity
from unmask.parsers.ios.sms_attachments import SmsAttachment

DB = "/private/var/mobile/Library/SMS/sms.db"


def attachment(path: str | None, direction: str = "received", rowid: int = 1) -> SmsAttachment:
    return SmsAttachment(
        device_path=DB,
        locator=f"attachment.ROWID={rowid}",
        rowid=rowid,
        path=path,
        filename=path,
        direction=direction,
        handle="+15550001111",
    )


def test_in_var_tmp() -> None:
    assert in_var_tmp("/var/tmp/com.apple.messages/abc-1")
    assert in_var_tmp("/private/var/tmp/x")
    assert in_var_tmp("/private//var/tmp/x")
    assert not in_var_tmp("/var/tmp")  # the folder itself is not a file in it
    assert not in_var_tmp("/private/var/tmpfoo/x")
    assert not in_var_tmp("/private/var/mobile/Library/SMS/Attachments/a/b.gif")
    assert not in_var_tmp(None)


def test_received_attachment_in_var_tmp_is_medium() -> None:
    rule = SmsAttachmentVarTmp()
    records = [
        attachment("/var/tmp/com.apple.messages/x.gif-1", rowid=1),
        attachment("/private/var/tmp/y.pdf", rowid=2),
        attachment("/private/var/mobile/Library/SMS/Attachments/ab/cd/z.jpg", rowid=3),
        attachment("/var/tmp/sent.gif", direction="sent", rowid=4),
        attachment("/var/tmp/unknown.gif", direction="unknown", rowid=5),
        attachment(None, rowid=6),
    ]
    findings = list(rule.check(records, HeuristicContext()))
    assert [(f.locator, f.severity) for f in findings] == [
        ("attachment.ROWID=1", Severity.MEDIUM),
        ("attachment.ROWID=2", Severity.MEDIUM),
    ]
    assert "-1" in findings[0].message and "-1" not in findings[1].message
    assert "+15550001111" in findings[0].message
