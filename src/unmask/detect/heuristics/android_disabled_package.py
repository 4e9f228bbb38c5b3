"""A vendor security agent or the system updater disabled: packages.json's ``disabled`` flag, or
``dumpsys package``'s per-user ``enabled=`` state (2 disabled, 3 disabled by the user, 4 disabled
until used: AOSP ``PackageManager.COMPONENT_ENABLED_STATE_*``), so that a bugreport alone is
judged too. Once per package, naming each source."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unmask.detect.heuristics._android import SECURITY_PACKAGES, UPDATE_PACKAGES, PackageViews
from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.parsers.android.dumpsys_package import DumpsysPackage
from unmask.parsers.android.packages import AndroidPackage

_DISABLED_STATES = frozenset({2, 3, 4})


class AndroidDisabledPackage(Heuristic):
    """A disabled security-agent or OTA-update package."""

    id = "android-disabled-security-or-update-package"
    title = "Security or update package disabled"
    severity = Severity.MEDIUM
    consumes = (AndroidPackage, DumpsysPackage)
    reference = "MVT AQFPackages (SECURITY_PACKAGES, SYSTEM_UPDATE_PACKAGES)"
    explanation = ("Spyware operators disable the vendor's security agents and the system updater so that "
                   "their implant is not removed or patched away.")
    benign = "Some users disable updates to avoid a vendor's new release, or debloat tools disable these apps."

    def __init__(self) -> None:
        self.packages = PackageViews()

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        for r in records:
            if not isinstance(r, AndroidPackage | DumpsysPackage) or r.package not in SECURITY_PACKAGES | UPDATE_PACKAGES:
                continue
            if (isinstance(r, AndroidPackage) and r.disabled) or (
                    isinstance(r, DumpsysPackage) and r.enabled_state in _DISABLED_STATES):
                self.packages.add(r, r.package)
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        out: list[Finding] = []
        for package in sorted(self.packages.views):
            what = "security package" if package in SECURITY_PACKAGES else "system-update package"
            out.append(self.finding(self.packages.best(package),
                                    f"the {what} {package} is disabled ({self.packages.where(package)})"))
        return out
