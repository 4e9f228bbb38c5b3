"""Settings that turn protections off (Play Protect, ADB install verification, error reports) or
turn accessibility services on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from unmask.detect.heuristics._android import DANGEROUS_SETTINGS
from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.android.settings import AndroidSetting


class AndroidDangerousSetting(RecordRule):
    """A setting with a value that lowers the device's defences."""

    id = "android-dangerous-setting"
    title = "Protection turned off in settings"
    severity = Severity.MEDIUM
    consumes = (AndroidSetting,)
    reference = "MVT artifacts/settings.py (10 settings); spytrap-adb (package_verifier_*, upload_apk_enable)"
    explanation = ("Installing stalkerware usually requires turning Play Protect off, and it keeps running "
                   "through an accessibility service; these settings show that someone did so.")
    benign = "Users turn these off themselves (error reports, Play Protect for an F-Droid app, accessibility tools)."

    def check_record(self, record: Any) -> Iterator[Finding]:
        rule = DANGEROUS_SETTINGS.get(record.name)
        if rule is not None and record.value.strip() != rule[0]:
            yield self.finding(record, f'{record.namespace} setting "{record.name} = {record.value}": {rule[1]}')
