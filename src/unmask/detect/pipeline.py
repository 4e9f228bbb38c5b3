"""The detection steps of a scan, fed batch by batch: indicator matching, the heuristics, correlation.

One code path for a scan of evidence (:mod:`unmask.api`) and a re-check of saved records
(:mod:`unmask.recheck`): both hand every batch of records to :meth:`Detection.feed` as it passes
and collect the findings at :meth:`Detection.finish`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from unmask.budget import DEFAULT, Budget
from unmask.detect.correlate import Correlator
from unmask.detect.heuristics.base import HeuristicContext, Heuristics
from unmask.detect.indicators.index import IndicatorIndex, Matcher
from unmask.detect.indicators.match import match_records
from unmask.detect.indicators.sets import IndicatorSets, load_sets, resolve
from unmask.model import Finding, Record


def load_indicators(iocs: Sequence[str | Path] = ()) -> tuple[IndicatorSets, IndicatorIndex]:
    """Load the indicator sets for a scan (explicit, ``UNMASK_IOCS``, or the default sets) and index them."""
    sets = load_sets(resolve(iocs))
    return sets, IndicatorIndex.build(sets.indicators)


class Detection:
    """Indicator matching and streaming heuristics over the batches of one scan.

    ``hashes`` (device path → SHA-256) is given when the artefact hashes are known up front (a
    re-check); a scan adds them at the end (:func:`unmask.results.finalise`).
    """

    def __init__(
        self, matcher: Matcher, *, hashes: dict[str, str] | None = None, budget: Budget = DEFAULT
    ) -> None:
        self.matcher = matcher
        self.hashes = hashes
        self.findings: list[Finding] = []
        self.heuristics = Heuristics(budget=budget)
        self.correlator = Correlator()
        self.matching = 0.0
        self.judging = 0.0

    def feed(self, batch: Sequence[Record]) -> None:
        """Match one batch of records and hand it to the heuristics and the correlation rules."""
        t0 = time.perf_counter()
        self.findings.extend(match_records(batch, self.matcher, self.hashes))
        t1 = time.perf_counter()
        self.findings.extend(self.heuristics.feed(batch))
        self.correlator.feed(batch)
        self.matching += t1 - t0
        self.judging += time.perf_counter() - t1

    def finish(self, ctx: HeuristicContext) -> list[Finding]:
        """End the heuristics and the correlation rules; every finding so far, in the order found."""
        t0 = time.perf_counter()
        self.findings.extend(self.heuristics.finish(ctx))
        self.findings.extend(self.correlator.finish())
        self.judging += time.perf_counter() - t0
        return self.findings
