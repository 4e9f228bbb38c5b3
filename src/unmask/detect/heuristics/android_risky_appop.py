"""App operations that let an app install others, or ops used by the ADB shell."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.android.dumpsys_appops import AppOp


class AndroidRiskyAppop(RecordRule):
    """REQUEST_INSTALL_PACKAGES allowed, or any op of com.android.shell."""

    id = "android-risky-appop"
    title = "App allowed to install apps, or ADB shell activity"
    severity = Severity.MEDIUM
    consumes = (AppOp,)
    reference = "MVT DumpsysAppops (REQUEST_INSTALL_PACKAGES, com.android.shell)"
    explanation = ("An app allowed to install other apps can drop stalkerware; operations by com.android.shell "
                   "show someone used the device over ADB.")
    benign = "Browsers and file managers get this right when the user installs an APK; acquisition uses ADB too."

    def check_record(self, record: Any) -> Iterator[Finding]:
        if record.op == "REQUEST_INSTALL_PACKAGES" and record.mode == "allow":
            yield self.finding(record, f"{record.package} may install apps (REQUEST_INSTALL_PACKAGES allowed)")
        elif record.package == "com.android.shell" and record.last_access is not None:
            yield self.finding(record, f"the ADB shell used {record.op}", severity=Severity.LOW)
