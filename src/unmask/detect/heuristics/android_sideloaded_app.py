"""A non-system app installed outside any app store (by the package installer, i.e. from a
browser or file manager, or over ADB, which AndroidQF records as installer ``null``).

One finding per package: packages.json and ``dumpsys package`` often describe the same app, and
the finding names both sources (MVT reports it once per module)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unmask.detect.heuristics._android import (
    BROWSER_INSTALLERS,
    OTHER_STORES,
    PLAY_STORE,
    THIRD_PARTY_STORES,
    PackageViews,
)
from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.parsers.android.dumpsys_package import DumpsysPackage
from unmask.parsers.android.packages import AndroidPackage

_STORES = PLAY_STORE | OTHER_STORES | THIRD_PARTY_STORES


class AndroidSideloadedApp(Heuristic):
    """Non-system apps installed outside a store, once per package."""

    id = "android-sideloaded-app"
    title = "App installed outside an app store"
    severity = Severity.MEDIUM
    consumes = (AndroidPackage, DumpsysPackage)
    reference = "MVT AQFPackages (installer null or a package installer); spytrap-adb 'manually installed'"
    explanation = ("Stalkerware is almost never in an app store: whoever installs it downloads the APK and "
                   "installs it by hand, or pushes it over ADB. An app installed that way deserves a look.")
    benign = "Developers, F-Droid users and people who install APKs from a vendor's site do this on purpose."

    def __init__(self) -> None:
        self.packages = PackageViews()

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        for r in records:
            if isinstance(r, AndroidPackage | DumpsysPackage):
                self.packages.add(r, r.package)
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        out: list[Finding] = []
        for package in sorted(self.packages.views):
            installers = self.packages.installers(package)
            if self.packages.system(package) or any(i in _STORES for i in installers):
                continue
            named = [i for i in installers if i not in (None, "", "null")]
            installer = named[0] if named else None
            if installer is None:
                how = "over ADB or by an unknown installer (no installer recorded)"
            elif installer in BROWSER_INSTALLERS:
                how = f"by the package installer ({installer}), i.e. from a downloaded APK"
            else:
                how = f"by {installer}, which is not an app store"
            out.append(self.finding(self.packages.best(package),
                                    f"{package} was installed {how} ({self.packages.where(package)})"))
        return out
