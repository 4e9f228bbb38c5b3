"""Security or system-update packages that were disabled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from unmask.detect.heuristics._android import SECURITY_PACKAGES, UPDATE_PACKAGES
from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.android.packages import AndroidPackage


class AndroidDisabledPackage(RecordRule):
    """A disabled security-agent or OTA-update package."""

    id = "android-disabled-security-or-update-package"
    title = "Security or update package disabled"
    severity = Severity.MEDIUM
    consumes = (AndroidPackage,)
    reference = "MVT AQFPackages (SECURITY_PACKAGES, SYSTEM_UPDATE_PACKAGES)"
    explanation = ("Spyware operators disable the vendor's security agents and the system updater so that "
                   "their implant is not removed or patched away.")
    benign = "Some users disable updates to avoid a vendor's new release, or debloat tools disable these apps."

    def check_record(self, record: Any) -> Iterator[Finding]:
        if not record.disabled:
            return
        if record.package in SECURITY_PACKAGES:
            yield self.finding(record, f"the security package {record.package} is disabled")
        elif record.package in UPDATE_PACKAGES:
            yield self.finding(record, f"the system-update package {record.package} is disabled")
