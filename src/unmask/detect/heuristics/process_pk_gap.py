"""Gaps in the ``Z_PK`` sequence of DataUsage/netusage ``ZPROCESS`` (deleted process rows)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.parsers.ios.datausage import UsageProcess


def gaps(keys: Sequence[int]) -> list[tuple[int, int]]:
    """Missing ``(first, last)`` ranges strictly between the smallest and the largest key.

    Keys below the smallest one and above the largest one are never reported: Core Data starts
    numbering where it likes after a migration, and rows after the last one cannot be told apart
    from rows never written.
    """
    ordered = sorted(set(keys))
    return [(a + 1, b - 1) for a, b in pairwise(ordered) if b - a > 1]


class ProcessPkGap(Heuristic):
    """Flag missing primary keys between existing ``ZPROCESS`` rows, one finding per gap."""

    id = "process-pk-gap"
    title = "Process rows missing from a network-usage database"
    severity = Severity.LOW
    consumes = (UsageProcess,)
    reference = (
        "Amnesty International Security Lab, 'Forensic Methodology Report: How to catch NSO Group's "
        "Pegasus' (2021), DataUsage/netusage process-deletion traces; MVT Datausage/Netusage "
        "missing-process check (research/mvt.md §3.2-3.3)"
    )
    explanation = (
        "Core Data gives process rows increasing primary keys; a hole in the sequence means rows were "
        "deleted. Pegasus was documented deleting its process rows from these databases, and the hole is "
        "what remains. Worth a look alongside the 'network usage of a deleted process' rule."
    )
    benign = (
        "iOS itself prunes old process rows, so gaps are common on devices in long use; a gap alone is a "
        "weak signal, stronger when usage rows still point into it or its neighbours' times line up with "
        "other traces."
    )

    def __init__(self) -> None:
        # Process tables hold hundreds of rows, not millions: the records are kept whole.
        self._by_db: dict[tuple[str, str], dict[int, UsageProcess]] = {}

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        """Collect the process rows of each database."""
        for record in records:
            if isinstance(record, UsageProcess):
                self._by_db.setdefault((record.kind, record.device_path), {})[record.pk] = record
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterator[Finding]:
        """Per database, one finding per range of missing keys, on the row after the gap."""
        for rows in self._by_db.values():
            for first, last in gaps(list(rows)):
                after = rows[last + 1]
                before = rows[first - 1]
                span = f"Z_PK {first}" if first == last else f"Z_PK {first}-{last} ({last - first + 1} rows)"
                yield self.finding(
                    after,
                    f"ZPROCESS {span} missing between {before.process or '?'} (Z_PK {first - 1}) and "
                    f"{after.process or '?'} (Z_PK {last + 1})",
                )
