"""A received SMS/iMessage attachment stored under the system temporary folder /private/var/tmp."""

from __future__ import annotations

from collections.abc import Iterator

from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.observables import normalize_path
from unmask.parsers.ios.sms_attachments import SmsAttachment

_TMP = "/private/var/tmp/"


def in_var_tmp(path: str | None) -> bool:
    """Whether a device path lies under ``/var/tmp`` (in any spelling: ``/private/var/tmp``, ``//``)."""
    norm = normalize_path(path) if path else None
    return bool(norm) and (norm or "").startswith(_TMP)


class SmsAttachmentVarTmp(RecordRule):
    """Flag received message attachments whose file lives in /private/var/tmp."""

    id = "sms-attachment-var-tmp"
    title = "Received message attachment in /var/tmp"
    severity = Severity.MEDIUM
    consumes = (SmsAttachment,)
    reference = (
        "MVT SMSAttachments heuristic (research/mvt.md §3.3: received attachment under /var/tmp → medium)"
    )
    explanation = (
        "Messages keeps the attachments it receives under ~/Library/SMS/Attachments. A received "
        "attachment recorded under the system temporary folder did not take the normal path; MVT flags "
        "this shape (a /var/tmp/ file name ending in '-1') as a trace of zero-click exploit delivery."
    )
    benign = (
        "Some system-generated or interrupted transfers may be staged in a temporary folder; check the "
        "file's type, sender and time against other evidence before concluding."
    )

    def check_record(self, record: SmsAttachment) -> Iterator[Finding]:
        """A finding for a received attachment whose path is under /private/var/tmp."""
        if record.direction != "received":
            return
        path = record.path or record.filename
        if not isinstance(path, str) or not in_var_tmp(path):
            return
        exact = path.rstrip("/").endswith("-1")
        shape = " (name ends in '-1', the exact shape MVT flags)" if exact else ""
        sender = record.handle or "an unknown sender"
        yield self.finding(record, f"Attachment received from {sender} stored at {path}{shape}")
