"""The detection steps of a scan, fed batch by batch: indicator matching, the heuristics, correlation.

One code path for a scan of evidence (:mod:`unmask.api`) and a re-check of saved records
(:mod:`unmask.recheck`): both hand every batch of records to :meth:`Detection.feed` as it passes
and collect the findings at :meth:`Detection.finish`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
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


MAX_PER_KIND = 1000
"""Findings kept in full per rule and indicator (or per heuristic rule): evidence can repeat one
trace a million times (a log line, a listed file), and every finding carries its record into
memory, alerts.json and the report. Past this, matches are counted in one summary finding."""


class Detection:
    """Indicator matching and streaming heuristics over the batches of one scan.

    ``hashes`` (device path → SHA-256) is given when the artefact hashes are known up front (a
    re-check); a scan adds them at the end (:func:`unmask.results.finalise`). At most
    :data:`MAX_PER_KIND` findings of one rule and indicator are kept; the rest are counted.
    """

    def __init__(
        self, matcher: Matcher, *, hashes: dict[str, str] | None = None, budget: Budget = DEFAULT,
        max_per_kind: int = MAX_PER_KIND,
    ) -> None:
        self.matcher = matcher
        self.hashes = hashes
        self.findings: list[Finding] = []
        self.heuristics = Heuristics(budget=budget)
        self.correlator = Correlator()
        self.matching = 0.0
        self.judging = 0.0
        self.max_per_kind = max_per_kind
        self._kept: dict[tuple[str, ...], int] = {}
        self._dropped: dict[tuple[str, ...], tuple[int, Finding]] = {}

    def feed(self, batch: Sequence[Record]) -> None:
        """Match one batch of records and hand it to the heuristics and the correlation rules."""
        t0 = time.perf_counter()
        self._keep(match_records(batch, self.matcher, self.hashes))
        t1 = time.perf_counter()
        self._keep(self.heuristics.feed(batch))
        self.correlator.feed(batch)
        self.matching += t1 - t0
        self.judging += time.perf_counter() - t1

    def _keep(self, found: Sequence[Finding]) -> None:
        kept, limit = self._kept, self.max_per_kind
        for f in found:
            key = (f.rule, f.indicator.collection, f.indicator.value) if f.indicator else (f.rule,)
            n = kept.get(key, 0)
            if n < limit:
                kept[key] = n + 1
                self.findings.append(f)
            else:
                count, first = self._dropped.get(key, (0, f))
                self._dropped[key] = (count + 1, first)

    def finish(self, ctx: HeuristicContext) -> list[Finding]:
        """End the heuristics and the correlation rules; every finding kept, in the order found,
        then one summary per kind of finding that was cut short."""
        t0 = time.perf_counter()
        self._keep(self.heuristics.finish(ctx))
        self._keep(self.correlator.finish())
        self.judging += time.perf_counter() - t0
        for count, first in self._dropped.values():
            what = f"{first.indicator.collection} indicator {first.indicator.value}" if first.indicator else first.rule
            self.findings.append(
                replace(
                    first,
                    message=f"{count:,} more findings of {what} are not listed (at most {self.max_per_kind:,} are "
                    f"kept of one kind); the records are in the <parser>.json files",
                    record=None, observable=first.observable, locator="", timestamp=None, device_path=None,
                    sha256=None,
                )
            )
        self._dropped.clear()
        return self.findings
