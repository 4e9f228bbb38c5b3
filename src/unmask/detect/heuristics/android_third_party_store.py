"""An app installed from a third-party store (F-Droid, Aurora)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from unmask.detect.heuristics._android import THIRD_PARTY_STORES
from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.android.packages import AndroidPackage


class AndroidThirdPartyStore(RecordRule):
    """Apps from third-party stores, for context."""

    id = "android-third-party-store"
    title = "App installed from a third-party store"
    severity = Severity.INFO
    consumes = (AndroidPackage,)
    reference = "MVT AQFPackages (THIRD_PARTY_STORE_INSTALLERS)"
    explanation = "Third-party stores review apps less than Google Play; this says where an app came from."
    benign = "F-Droid and Aurora are legitimate stores used by privacy-minded people."

    def check_record(self, record: Any) -> Iterator[Finding]:
        if record.installer in THIRD_PARTY_STORES:
            yield self.finding(record, f"{record.package} was installed from {record.installer}")
