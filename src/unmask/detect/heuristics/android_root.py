"""A rooting binary (AndroidQF root_binaries.json) or a root-management app (once per package,
whichever of packages.json and ``dumpsys package`` list it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unmask.detect.heuristics._android import ROOT_PACKAGES, PackageViews
from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.parsers.android.dumpsys_package import DumpsysPackage
from unmask.parsers.android.packages import AndroidPackage
from unmask.parsers.android.root_binaries import RootBinary


class AndroidRoot(Heuristic):
    """A rooting binary or a root-management app."""

    id = "android-rooted"
    title = "Device rooted"
    severity = Severity.HIGH
    consumes = (RootBinary, AndroidPackage, DumpsysPackage)
    reference = "MVT RootBinaries (every listed binary: high) and ROOT_PACKAGES (medium)"
    explanation = ("A rooted phone lets any app with root read every other app's data; spyware installers "
                   "root phones, and some stalkerware needs root for messaging apps.")
    benign = "Enthusiasts root their own phones (Magisk) for customisation."

    def __init__(self) -> None:
        self.packages = PackageViews()

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        out: list[Finding] = []
        for r in records:
            if isinstance(r, RootBinary):
                out.append(self.finding(r, f"rooting binary {r.path} is present"))
            elif isinstance(r, AndroidPackage | DumpsysPackage) and r.package in ROOT_PACKAGES:
                self.packages.add(r, r.package)
        return out

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        return [self.finding(self.packages.best(p), f"root-management app {p} is installed ({self.packages.where(p)})",
                             severity=Severity.MEDIUM)
                for p in sorted(self.packages.views)]
