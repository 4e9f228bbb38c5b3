"""An IDS status cache handle that contains NUL bytes, an abnormal entry MVT flags."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity


class IdStatusCacheNul(Heuristic):
    """Flag IDS lookups whose raw handle key contains two consecutive NUL bytes."""

    id = "idstatuscache-nul"
    title = "IDS lookup of a handle containing NUL bytes"
    severity = Severity.HIGH
    kinds = ("ios/idstatuscache/entry",)
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

    def check(self, records: Sequence[Record], ctx: HeuristicContext) -> Iterator[Finding]:
        """One finding per cache entry whose raw key contains ``\\x00\\x00``."""
        for record in records:
            key = getattr(record, "raw_key", None)
            if isinstance(key, str) and "\x00\x00" in key:
                service = getattr(record, "service", "")
                yield self.finding(record, f"IDS lookup for {service} of a handle with NUL bytes: {key!r}")
