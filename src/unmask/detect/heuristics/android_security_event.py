"""Intrusion-log security events that are suspicious by themselves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.android.intrusion_logs import SecurityEvent

_TAGS = {
    "cert_validation_failure": "a certificate validation failed",
    "key_integrity_violation": "a key's integrity was violated",
    "cert_authority_installed": "a certificate authority was installed",
    "wipe_failure": "a device wipe failed",
}


class AndroidSecurityEvent(RecordRule):
    """CA installations, certificate validation failures, key integrity violations, wipe failures,
    failed crypto self-tests."""

    id = "android-intrusion-security-event"
    title = "Suspicious security event in the intrusion logs"
    severity = Severity.MEDIUM
    consumes = (SecurityEvent,)
    reference = "Android SecurityLog tags; MVT SecurityEvent heuristics"
    explanation = "An installed CA lets someone read encrypted traffic; integrity failures can mean tampering."
    benign = "Company devices install CAs; validation failures happen on captive portals."

    def check_record(self, record: Any) -> Iterator[Finding]:
        what = _TAGS.get(record.tag)
        if record.tag == "cert_authority_installed" and record.success is False:
            return
        if record.tag == "crypto_self_test_completed" and record.success is False:
            what = "the cryptographic self-test failed"
        if what:
            yield self.finding(record, what + (f" ({record.subject})" if record.subject else ""))
