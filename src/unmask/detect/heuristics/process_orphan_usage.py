"""A DataUsage/netusage live-usage row whose process row has been deleted."""

from __future__ import annotations

from collections.abc import Iterator

from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.ios.datausage import LiveUsage


class ProcessOrphanUsage(RecordRule):
    """Flag network-usage rows that point at a ``ZPROCESS`` row that no longer exists."""

    id = "process-orphan-usage"
    title = "Network usage of a deleted process"
    severity = Severity.HIGH
    consumes = (LiveUsage,)
    reference = (
        "Amnesty International Security Lab, 'Forensic Methodology Report: How to catch NSO Group's "
        "Pegasus' (2021), DataUsage/netusage process-deletion traces; MVT Datausage/Netusage "
        "manipulated-process check (research/mvt.md §3.2-3.3)"
    )
    explanation = (
        "iOS never removes a process row while usage rows still point at it. Pegasus was documented "
        "deleting its own process names from these databases to hide them and leaving the usage rows "
        "behind: a usage row whose process row is gone is the trace of that clean-up."
    )
    benign = (
        "A database damaged on the device or recovered from corruption can lose rows; check the parser's "
        "coverage warnings for recovery notes before drawing conclusions."
    )

    def check_record(self, record: LiveUsage) -> Iterator[Finding]:
        """A finding for a live-usage row whose foreign key names a missing process row."""
        if record.process_exists is not False:
            return
        yield self.finding(
            record,
            f"Usage row {record.pk} points at process row Z_PK {record.process_pk}, which is missing "
            f"from ZPROCESS (deleted process entry)",
        )
