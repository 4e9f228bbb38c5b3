"""An app installed from a third-party store (F-Droid, Aurora), once per package whichever of
packages.json and ``dumpsys package`` describe it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unmask.detect.heuristics._android import THIRD_PARTY_STORES, PackageViews
from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.parsers.android.dumpsys_package import DumpsysPackage
from unmask.parsers.android.packages import AndroidPackage


class AndroidThirdPartyStore(Heuristic):
    """Apps from third-party stores, for context."""

    id = "android-third-party-store"
    title = "App installed from a third-party store"
    severity = Severity.INFO
    consumes = (AndroidPackage, DumpsysPackage)
    reference = "MVT AQFPackages (THIRD_PARTY_STORE_INSTALLERS)"
    explanation = "Third-party stores review apps less than Google Play; this says where an app came from."
    benign = "F-Droid and Aurora are legitimate stores used by privacy-minded people."

    def __init__(self) -> None:
        self.packages = PackageViews()

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        for r in records:
            if isinstance(r, AndroidPackage | DumpsysPackage) and r.installer in THIRD_PARTY_STORES:
                self.packages.add(r, r.package)
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        return [self.finding(self.packages.best(p), f"{p} was installed from "
                             f"{next(i for i in self.packages.installers(p) if i in THIRD_PARTY_STORES)} "
                             f"({self.packages.where(p)})")
                for p in sorted(self.packages.views)]
