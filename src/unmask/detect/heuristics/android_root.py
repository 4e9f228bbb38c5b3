"""Traces of rooting: su/magisk binaries, root-management packages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from unmask.detect.heuristics._android import ROOT_PACKAGES
from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.android.dumpsys_package import DumpsysPackage
from unmask.parsers.android.packages import AndroidPackage
from unmask.parsers.android.root_binaries import RootBinary


class AndroidRoot(RecordRule):
    """A rooting binary or a root-management app."""

    id = "android-rooted"
    title = "Device rooted"
    severity = Severity.HIGH
    consumes = (RootBinary, AndroidPackage, DumpsysPackage)
    reference = "MVT RootBinaries (every listed binary: high) and ROOT_PACKAGES (medium)"
    explanation = ("A rooted phone lets any app with root read every other app's data; spyware installers "
                   "root phones, and some stalkerware needs root for messaging apps.")
    benign = "Enthusiasts root their own phones (Magisk) for customisation."

    def check_record(self, record: Any) -> Iterator[Finding]:
        if isinstance(record, RootBinary):
            yield self.finding(record, f"rooting binary {record.path} is present")
        elif record.package in ROOT_PACKAGES:
            yield self.finding(record, f"root-management app {record.package} is installed", severity=Severity.MEDIUM)
