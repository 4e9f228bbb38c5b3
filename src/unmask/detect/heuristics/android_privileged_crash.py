"""A native crash of a process running as root, system or shell."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.android.tombstones import Tombstone

PRIVILEGED = {0: "root", 1000: "system", 2000: "shell"}


class AndroidPrivilegedCrash(RecordRule):
    """A tombstone of a uid 0, 1000 or 2000 process."""

    id = "android-privileged-crash"
    title = "Privileged process crashed"
    severity = Severity.MEDIUM
    consumes = (Tombstone,)
    reference = "MVT Tombstones (uid 0/1000/2000: medium); failed exploitation leaves native crashes"
    explanation = "Exploits that fail crash the privileged process they target; such crashes are worth reading."
    benign = "Privileged daemons crash from ordinary bugs too, especially on vendor builds."

    def check_record(self, record: Any) -> Iterator[Finding]:
        if record.uid in PRIVILEGED:
            yield self.finding(record, f"{record.process_name} ({PRIVILEGED[record.uid]}, uid {record.uid}) crashed "
                                       f"with {record.signal_name or 'a signal'}" + (f": {record.cause}" if record.cause else ""))
