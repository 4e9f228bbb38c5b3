"""A non-system app installed outside any app store (by the package installer, i.e. from a
browser or file manager, or over ADB, which AndroidQF records as installer ``null``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from unmask.detect.heuristics._android import BROWSER_INSTALLERS, OTHER_STORES, PLAY_STORE, THIRD_PARTY_STORES
from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.android.dumpsys_package import DumpsysPackage
from unmask.parsers.android.packages import AndroidPackage


class AndroidSideloadedApp(RecordRule):
    """Non-system apps installed outside a store."""

    id = "android-sideloaded-app"
    title = "App installed outside an app store"
    severity = Severity.MEDIUM
    consumes = (AndroidPackage, DumpsysPackage)
    reference = "MVT AQFPackages (installer null or a package installer); spytrap-adb 'manually installed'"
    explanation = ("Stalkerware is almost never in an app store: whoever installs it downloads the APK and "
                   "installs it by hand, or pushes it over ADB. An app installed that way deserves a look.")
    benign = "Developers, F-Droid users and people who install APKs from a vendor's site do this on purpose."

    def check_record(self, record: Any) -> Iterator[Finding]:
        if record.system:
            return
        installer = record.installer
        if installer in PLAY_STORE | OTHER_STORES | THIRD_PARTY_STORES:
            return
        if installer in (None, "", "null"):
            how = "over ADB or by an unknown installer (no installer recorded)"
        elif installer in BROWSER_INSTALLERS:
            how = f"by the package installer ({installer}), i.e. from a downloaded APK"
        else:
            how = f"by {installer}, which is not an app store"
        yield self.finding(record, f"{record.package} was installed {how}")
