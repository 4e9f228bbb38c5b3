"""A shutdown that clients delayed with three or more notices (Kaspersky's iShutdown rule)."""

from __future__ import annotations

from collections.abc import Iterator

from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.ios.shutdown_log import ShutdownReboot

THRESHOLD = 3
"""iShutdown_detect.py flags a reboot after ``threshold=3`` 'these clients are still here' notices."""


class ShutdownDelayedReboot(RecordRule):
    """Flag a shutdown delayed by three or more notices of clients still running."""

    id = "shutdown-delayed-reboot"
    title = "Shutdown delayed by processes that would not stop"
    severity = Severity.LOW
    consumes = (ShutdownReboot,)
    reference = (
        "Kaspersky GReAT, 'A lightweight method to detect potential iOS malware' (Securelist, Jan 2024) and "
        "iShutdown_detect.py (find_anomalies_before_sigterm, threshold 3); iLEAPP sysShutdownReboots notes "
        "(research/peers.md §2.3, H20)"
    )
    explanation = (
        "While the phone shuts down, iOS writes a notice each time processes are still running. Kaspersky saw "
        "three or more such notices before a reboot on the Pegasus-infected iPhones they examined: an implant "
        "that keeps working during the shutdown holds it up. It is a weak sign alone; look at which processes "
        "the notices name."
    )
    benign = (
        "A handful of notices per reboot is common (iLEAPP's notes: counts above three or four are worth a "
        "look, not a conclusion); busy system daemons, a sync in progress or a slow storage flush delay a "
        "shutdown too. The clients named in the notices tell the difference."
    )

    def check_record(self, record: ShutdownReboot) -> Iterator[Finding]:
        """A finding for a shutdown with at least three delay notices."""
        if record.notices < THRESHOLD:
            return
        longest = f", the longest {record.longest_delay:g} s" if record.longest_delay is not None else ""
        when = "at an unknown time" if record.sigterm is None else f"on {record.sigterm:%Y-%m-%d %H:%M:%S} UTC"
        yield self.finding(
            record,
            f"Shutdown #{record.reboot} {when} was delayed by {record.notices} notices of processes still "
            f"running ({record.clients} process(es){longest})",
        )
