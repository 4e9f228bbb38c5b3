"""An installed app that the App Store (or an MDM) did not install."""

from __future__ import annotations

from collections.abc import Iterator

from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.ios.applications import InstalledApp

# The installers MVT treats as the App Store or an MDM (research/mvt.md §3.3, Applications).
KNOWN_INSTALLERS = frozenset({"com.apple.AppStore", "com.apple.AppStore.ProductPageExtension", "com.apple.dmd", "dmd"})


class AppNotFromAppStore(RecordRule):
    """Flag apps whose iTunesMetadata names another installer than the App Store or an MDM, or no bundle id."""

    id = "app-not-from-app-store"
    title = "App not installed from the App Store"
    severity = Severity.MEDIUM
    consumes = (InstalledApp,)
    reference = (
        "MVT Applications module: sourceApp outside the App Store and MDM, and metadata without "
        "softwareVersionBundleId (research/mvt.md §3.3); stalkerware and targeted implants distributed as "
        "enterprise-signed or sideloaded apps (Lookout, 'Hermit' (2022); Citizen Lab, stalkerware reports)"
    )
    explanation = (
        "Apps from the App Store are reviewed and signed by Apple. An app that another installer put on the phone "
        "(an enterprise certificate, a sideloading tool, a third-party store) escaped that review; spyware "
        "vendors and stalkerware have used exactly these channels to install their apps."
    )
    benign = (
        "Beta builds from TestFlight, apps of an employer's MDM, apps from an alternative marketplace (EU, iOS "
        "17.4+) or a developer's own test installs come from other installers; check who published the app and "
        "whether the user knows it."
    )

    def check_record(self, record: InstalledApp) -> Iterator[Finding]:
        """A finding when the installer is not a known App Store/MDM one, or the bundle id is missing."""
        if not record.has_metadata_id:
            yield self.finding(record, f"App metadata without a bundle id ({record.name or 'no name'})")
        elif record.source_app is not None and record.source_app not in KNOWN_INSTALLERS:
            yield self.finding(
                record, f"App {record.bundle_id} ({record.name or 'no name'}) was installed by {record.source_app}, "
                        "not by the App Store or an MDM",
            )
