"""An IDS status cache handle that contains NUL bytes, an abnormal entry MVT flags."""

from __future__ import annotations

from collections.abc import Iterator

from unmask.detect.heuristics.base import RecordRule
from unmask.model import Finding, Severity
from unmask.parsers.ios.idstatuscache import IdStatusEntry


class IdStatusCacheNul(RecordRule):
    """Flag IDS lookups whose raw handle key contains two consecutive NUL bytes."""

    id = "idstatuscache-nul"
    title = "IDS lookup of a handle containing NUL bytes"
    severity = Severity.HIGH
    consumes = (IdStatusEntry,)
    reference = (
        "MVT IDStatusCache heuristic (research/mvt.md §3.3: user containing \\x00\\x00 → high); Amnesty "
        "Tech, Forensic Methodology Report: How to catch NSO Group's Pegasus (2021), ID status cache "
        "lookups (research/peers.md H10)"
    )
    explanation = (
        "iMessage looks a handle up before it can deliver a message from or to it, and Amnesty found "
        "lookups of attacker accounts in this cache on Pegasus-infected phones. A handle with embedded "
        "NUL bytes is not an ordinary address or phone number; MVT treats it as abnormal and raises it "
        "as high."
    )
    benign = (
        "The published research does not explain this pattern in detail; a malformed contact or a "
        "software bug could produce it. Corroborate with the lookup time and other artefacts."
    )

    def check_record(self, record: IdStatusEntry) -> Iterator[Finding]:
        """A finding for a cache entry whose raw key contains ``\\x00\\x00``."""
        key = record.raw_key
        if isinstance(key, str) and "\x00\x00" in key:
            yield self.finding(record, f"IDS lookup for {record.service} of a handle with NUL bytes: {key!r}")
