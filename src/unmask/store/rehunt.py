"""Re-hunting: every stored case against current (or given) indicators, as one indexed join.

1. Each indicator is filed under the lookup keys the plaintext index would file it under
   (:func:`unmask.store.keys.indicator_keys`) and each key is hashed with the store secret, as the
   scan hashed the keys its records' observables expand to.
2. The hashed indicator keys are joined with the stored keys (:meth:`Store.lookup`): one index
   probe per indicator key, never a scan of every row per indicator. A hit names an acquisition,
   a record and the indicators filed under the key.
3. Hits already reported (the same record and indicator found by the scan or an earlier re-hunt)
   are dropped. What is left is only a candidate: the records it names are read back from the
   case's output folder and matched by the scan's own matching loop
   (:func:`unmask.detect.indicators.match.match_records`), so a re-hunt finds exactly what a fresh
   scan with the new indicators would find, and a hash collision can never add a finding.
4. A case with new findings gets them in the store and a re-check folder in its output folder,
   written by :func:`unmask.recheck.recheck` (the saved records re-matched against the new sets).

With a Dask scheduler and a PostgreSQL store, cases are split into partitions and each partition
is re-hunted by a worker (:func:`rehunt_partition`) against the same database.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unmask import timeutil
from unmask.detect.indicators.index import Matcher
from unmask.detect.indicators.match import RULE as INDICATOR_RULE
from unmask.detect.indicators.match import match_records
from unmask.detect.indicators.sets import IndicatorSets
from unmask.detect.pipeline import load_indicators
from unmask.errors import UnmaskError, UsageError
from unmask.model import Finding, Record, Severity
from unmask.parsers.registry import record_from_json
from unmask.recheck import finding_key
from unmask.report.outputs import iter_records_file, records_file_name
from unmask.results import finalise
from unmask.store.db import Store, open_store
from unmask.store.keys import indicator_fingerprint, indicator_keys
from unmask.store.recorder import finding_row, indicators_fingerprint


@dataclass
class CaseResult:
    """What a re-hunt found in one acquisition of a case."""

    case: str
    acquisition_id: int
    new: list[dict[str, Any]] = field(default_factory=list)
    recheck: str | None = None
    error: str | None = None

    @property
    def worst(self) -> Severity | None:
        """The most severe new finding."""
        levels = [Severity.parse(str(a.get("severity", "info"))) for a in self.new]
        return max(levels, key=lambda s: s.rank, default=None)

    @property
    def families(self) -> list[str]:
        """The indicator collections (spyware families) of the new findings."""
        return sorted({str(a["indicator"]["collection"]) for a in self.new if a.get("indicator")})


@dataclass
class Rehunt:
    """A whole re-hunt: the cases with new findings (or errors), and what it cost."""

    results: list[CaseResult]
    cases: int
    acquisitions: int
    keys_probed: int
    hits: int
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def new_findings(self) -> int:
        """New findings across all cases."""
        return sum(len(r.new) for r in self.results)

    def at_or_above(self, level: Severity) -> bool:
        """Whether any new finding is at or above ``level``."""
        return any(r.worst is not None and r.worst.rank >= level.rank for r in self.results)


def _read_records(folder: Path, ranges: Sequence[tuple[int, int, str]], wanted: set[int]) -> dict[int, Record]:
    """The saved records with these numbers (record ``n`` of a parser is line ``n`` of its file)."""
    out: dict[int, Record] = {}
    for first, count, parser in ranges:
        needed = {n for n in wanted if first <= n < first + count}
        if not needed:
            continue
        last = max(needed)
        for i, row in enumerate(iter_records_file(folder / records_file_name(parser))):
            number = first + i
            if number in needed:
                # a record of a kind this version does not know is not matched, as in recheck
                with contextlib.suppress(KeyError, ValueError, TypeError, AttributeError):
                    out[number] = record_from_json(row)
            if number >= last:
                break
    return out


def _hunt_acquisition(
    store: Store,
    case: str,
    acquisition_id: int,
    candidates: dict[int, set[int]],
    index: Matcher,
    indicators: tuple[IndicatorSets, Matcher],
    write: bool,
) -> CaseResult | None:
    result = CaseResult(case, acquisition_id)
    known = store.known_matches(acquisition_id)
    known_by_record: dict[int, set[int]] = {}
    for rec, fp in known:
        known_by_record.setdefault(rec, set()).add(fp)
    fresh = {rec: fps - known_by_record.get(rec, set()) for rec, fps in candidates.items()}
    fresh = {rec: fps for rec, fps in fresh.items() if fps}
    if not fresh:
        return None
    folder = store.output_of(acquisition_id)
    if folder is None or not folder.is_dir():
        result.error = f"the output folder of this scan is missing ({folder}); its candidates cannot be verified"
        return result
    try:
        records = _read_records(folder, store.parser_ranges(acquisition_id), set(fresh))
    except UnmaskError as exc:
        result.error = str(exc)
        return result
    number_of = {id(r): n for n, r in records.items()}
    stored = store.fingerprints(acquisition_id)
    new: list[tuple[Finding, int]] = []
    for finding in match_records(list(records.values()), index):
        assert finding.record is not None and finding.indicator is not None
        number = number_of[id(finding.record)]
        if (number, indicator_fingerprint(store.keys, finding.indicator)) in known:
            continue
        if store.keys.fingerprint("finding", *finding_key(finding.to_json())) in stored:
            continue
        new.append((finding, number))
    if not new:
        return None
    recheck_folder: str | None = None
    hashes: dict[str, str] = {}
    if write:
        from unmask.recheck import recheck

        try:
            done = recheck(folder, indicators=indicators)
            recheck_folder = str(done.folder)
            hashes = done.result.artefact_hashes
        except UnmaskError as exc:
            result.error = f"re-check folder not written: {exc}"
    finals = finalise([f for f, _ in new], hashes)
    numbers = {id(f.record): n for f, n in new}
    rows = [finding_row(store.keys, acquisition_id, f, numbers[id(f.record)], "rehunt", recheck_folder) for f in finals]
    if write:
        store.add_findings(rows)
    result.new = [f.to_json() for f in finals]
    result.recheck = recheck_folder
    return result


def rehunt_acquisitions(
    store: Store,
    acquisitions: dict[int, tuple[str, int]] | None,
    indicators: tuple[IndicatorSets, Matcher],
    probe: dict[int, list[Any]],
    *,
    write: bool = True,
    timings: dict[str, float] | None = None,
) -> tuple[list[CaseResult], int]:
    """Re-hunt some acquisitions (``{acquisition id: (case, case id)}``; ``None`` for all) with
    prepared probe keys; returns the results and the number of stored keys hit."""
    timings = timings if timings is not None else {}
    fps = {key: {indicator_fingerprint(store.keys, i) for i in found} for key, found in probe.items()}
    clock = time.perf_counter()
    candidates: dict[int, dict[int, set[int]]] = {}
    hits = 0
    for acq, record_no, key in store.lookup(probe, sorted(acquisitions) if acquisitions is not None else None):
        hits += 1
        candidates.setdefault(acq, {}).setdefault(record_no, set()).update(fps[key])
    timings["join"] = timings.get("join", 0.0) + time.perf_counter() - clock
    clock = time.perf_counter()
    names = acquisitions if acquisitions is not None else _case_of(store, sorted(candidates))
    out: list[CaseResult] = []
    for acq in sorted(candidates):
        if acq not in names:
            continue  # an acquisition still being scanned, or one that failed
        found = _hunt_acquisition(store, names[acq][0], acq, candidates[acq], indicators[1], indicators, write)
        if found is not None:
            out.append(found)
    timings["verify"] = timings.get("verify", 0.0) + time.perf_counter() - clock
    return out, hits


def _case_of(store: Store, acquisitions: Sequence[int]) -> dict[int, tuple[str, int]]:
    names = store.case_names()
    by_case = store.acquisitions_by_case()
    wanted = set(acquisitions)
    return {a: (names[c], c) for c, acqs in by_case.items() for a in acqs if a in wanted}


def rehunt(
    store: Store | str | None = None,
    *,
    iocs: Sequence[str | Path] = (),
    cases: Sequence[str] = (),
    indicators: tuple[IndicatorSets, Matcher] | None = None,
    write: bool = True,
    scheduler: str | None = None,
    partitions: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Rehunt:
    """Re-hunt every stored case (or the named ones) against the indicator sets.

    New findings are written to the store and, per case, as a re-check folder (``write=False``
    only reports them). ``scheduler`` (a Dask scheduler address) spreads the cases over a cluster;
    it needs a PostgreSQL store, which every worker reaches.
    """
    t0 = time.perf_counter()
    started = timeutil.now()
    own = not isinstance(store, Store)
    opened = store if isinstance(store, Store) else open_store(store)
    try:
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        indicators = indicators or load_indicators(iocs)
        timings["indicators"] = time.perf_counter() - clock
        clock = time.perf_counter()
        probe = indicator_keys(opened.keys, indicators[0].indicators)
        timings["hash"] = time.perf_counter() - clock
        names = opened.case_names(cases)
        by_case = opened.acquisitions_by_case(sorted(names) if cases else None)
        acquisitions = {a: (names[c], c) for c, acqs in by_case.items() for a in acqs}
        if scheduler is not None:
            if opened.dialect != "postgresql":
                raise UsageError("rehunt --scheduler needs a PostgreSQL store (--store postgresql://…) that every "
                                 "worker reaches; a SQLite store is re-hunted on this machine")
            from unmask.detect.indicators.sets import resolve
            from unmask.store.cluster import rehunt_on_cluster

            files = [str(p) for p in resolve(iocs)]  # the same files on every worker
            results, hits = rehunt_on_cluster(scheduler, rehunt_partition, opened.url, files, by_case, names, write=write,
                                              partitions=partitions, progress=progress)
        else:
            results, hits = rehunt_acquisitions(opened, acquisitions if cases else None, indicators, probe,
                                                write=write, timings=timings)
        results.sort(key=lambda r: (r.error is not None, -(r.worst.rank if r.worst else -1), r.case))
        done = Rehunt(results, len(by_case), len(acquisitions), len(probe), hits,
                      round(time.perf_counter() - t0, 3), {k: round(v, 3) for k, v in timings.items()})
        if write:
            opened.log_rehunt(started=started, finished=timeutil.now(),
                              indicators_sha256=indicators_fingerprint(indicators[0]), cases=len(by_case),
                              keys_probed=len(probe), hits=hits, new_findings=done.new_findings())
        return done
    finally:
        if own:
            opened.close()


def rehunt_partition(url: str, iocs: Sequence[str], acquisitions: dict[int, tuple[str, int]],
                     write: bool) -> tuple[list[CaseResult], int]:
    """One Dask task of a distributed re-hunt: the store opened by the worker (its own secret),
    the indicators loaded there, the given acquisitions re-hunted."""
    with open_store(url) as store:
        indicators = load_indicators(iocs)
        probe = indicator_keys(store.keys, indicators[0].indicators)
        return rehunt_acquisitions(store, acquisitions, indicators, probe, write=write)


def is_indicator(alert: dict[str, Any]) -> bool:
    """Whether a stored alert is an indicator match."""
    return alert.get("rule") == INDICATOR_RULE
