"""A received SMS/iMessage attachment stored under the system temporary folder /private/var/tmp."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.observables import normalize_path

_TMP = "/private/var/tmp/"


def in_var_tmp(path: str | None) -> bool:
    """Whether a device path lies under ``/var/tmp`` (in any spelling: ``/private/var/tmp``, ``//``)."""
    norm = normalize_path(path) if path else None
    return bool(norm) and (norm or "").startswith(_TMP)


class SmsAttachmentVarTmp(Heuristic):
    """Flag received message attachments whose file lives in /private/var/tmp."""

    id = "sms-attachment-var-tmp"
    title = "Received message attachment in /var/tmp"
    severity = Severity.MEDIUM
    kinds = ("ios/sms/attachment",)
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

    def check(self, records: Sequence[Record], ctx: HeuristicContext) -> Iterator[Finding]:
        """One finding per received attachment whose path is under /private/var/tmp."""
        for record in records:
            if getattr(record, "direction", None) != "received":
                continue
            path = getattr(record, "path", None) or getattr(record, "filename", None)
            if not isinstance(path, str) or not in_var_tmp(path):
                continue
            exact = path.rstrip("/").endswith("-1")
            shape = " (name ends in '-1', the exact shape MVT flags)" if exact else ""
            sender = getattr(record, "handle", None) or "an unknown sender"
            yield self.finding(record, f"Attachment received from {sender} stored at {path}{shape}")
