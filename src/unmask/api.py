"""The library behind the CLI: everything the command line does is a function here."""

from __future__ import annotations

import platform
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from unmask import __version__, timeutil
from unmask.acquisition import open_ios_backup
from unmask.acquisition.base import Acquisition, sha256_file
from unmask.detect.heuristics.base import HeuristicContext, run_heuristics
from unmask.detect.indicators.index import IndicatorIndex, Matcher
from unmask.detect.indicators.match import RULE as INDICATOR_RULE
from unmask.detect.indicators.match import match_records
from unmask.detect.indicators.sets import IndicatorSets, load_sets, resolve
from unmask.errors import UsageError
from unmask.model import Coverage, Finding, Record, Severity, Status
from unmask.parsers.base import Parser, iter_parser, parsers_for

ProgressFn = Callable[[str, int, int], None]
"""``(label, done, total)`` — called as work advances."""


@dataclass
class Verdict:
    """The plain answer to "was this phone hit?", derived from the findings and coverage."""

    level: str  # "detected" | "suspicious" | "clean"
    headline: str
    families: list[str]
    detail: str


@dataclass
class ScanResult:
    """Everything one scan produced: records, findings, coverage and provenance.

    ``records`` holds, per parser, the records kept in memory: all of them when the scan had no
    output folder, otherwise only those the heuristics and screening needed (the rest were
    streamed to ``<parser>.json``); ``coverage`` counts every record either way.
    """

    command: str
    evidence_path: str
    acquisition_kind: str
    metadata: dict[str, Any]
    records: dict[str, list[Record]]
    coverage: list[Coverage]
    findings: list[Finding]
    indicator_sets: IndicatorSets
    evidence_hashes: dict[str, str]
    artefact_hashes: dict[str, str]
    started: datetime
    finished: datetime
    extra: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Findings per severity, every level present."""
        counter = Counter(f.severity.value for f in self.findings)
        return {s.value: counter.get(s.value, 0) for s in Severity}

    def worst(self) -> Severity | None:
        """The highest severity among the findings."""
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)

    def at_or_above(self, level: Severity) -> list[Finding]:
        """Findings at or above a severity."""
        return [f for f in self.findings if f.severity.rank >= level.rank]

    def verdict(self) -> Verdict:
        """The plain-language verdict shown first in every output."""
        return verdict(self.findings, self.coverage)


def verdict(findings: Sequence[Finding], coverage: Sequence[Coverage]) -> Verdict:
    """Summarise findings into one of three answers, naming the spyware families matched."""
    parsed = sum(1 for c in coverage if c.status is Status.PARSED)
    absent = sum(1 for c in coverage if c.status is Status.ABSENT)
    failed = [c.parser for c in coverage if c.status in (Status.FAILED, Status.UNSUPPORTED)]
    examined = f"{parsed} kinds of artefact were examined, {absent} were not in the evidence"
    if failed:
        examined += f", {len(failed)} could not be read ({', '.join(failed)})"
    matched = [f for f in findings if f.rule == INDICATOR_RULE and f.indicator is not None]
    families = sorted({f.indicator.collection for f in matched if f.indicator is not None})
    if matched:
        return Verdict(
            "detected",
            f"Known spyware traces found: {', '.join(families)}",
            families,
            f"{len(matched)} trace(s) match published indicators of compromise. A match is strong evidence, "
            f"but confirm it with an expert before acting. {examined}.",
        )
    serious = [f for f in findings if f.severity.rank >= Severity.MEDIUM.rank]
    if serious:
        return Verdict(
            "suspicious",
            "No known spyware indicators matched, but suspicious signs need review",
            [],
            f"{len(serious)} finding(s) from published heuristics are not proof of infection; "
            f"an expert should review them. {examined}.",
        )
    return Verdict(
        "clean",
        "No known spyware indicators found",
        [],
        f"Nothing in the evidence matched the indicator sets used. This is not proof that the phone is "
        f"clean: new spyware has no published indicators yet. {examined}.",
    )


def finalise(findings: Sequence[Finding], hashes: dict[str, str]) -> list[Finding]:
    """Give each finding the hash of its artefact and order them: most severe first, then by time."""
    done = [
        replace(f, sha256=hashes[f.device_path]) if f.sha256 is None and f.device_path in hashes else f
        for f in findings
    ]
    done.sort(key=lambda f: (-f.severity.rank, f.timestamp is None, f.timestamp or _EPOCH, f.rule))
    return done


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _finding_hashes(
    acq: Acquisition,
    findings: Sequence[Finding],
    hashes: dict[str, str],
    parsers: Sequence[type[Parser]],
    coverage: Sequence[Coverage],
) -> dict[str, str]:
    """Device path → SHA-256 for every finding: the artefact read, else the file itself when the
    evidence stores it (a Manifest row that names a file), else the host file the record came
    from (Manifest.db, Info.plist)."""
    out = dict(hashes)
    host_hash: dict[str, str] = {}
    for cls, cov in zip(parsers, coverage, strict=True):
        host = {s.pattern for s in cls.sources if s.host}
        digest = next((a.sha256 for a in cov.artefacts if a.device_path in host and a.sha256), None)
        if digest:
            for record_type in cls.records:
                host_hash[record_type.kind] = digest
    for f in findings:
        path = f.device_path
        if f.sha256 is not None or path is None or path in out:
            continue
        try:
            digest = acq.sha256(path) if acq.exists(path) else None
        except OSError:
            digest = None
        digest = digest or host_hash.get(f.source)
        if digest:
            out[path] = digest
    return out


BATCH = 16_384
"""Records per batch: large enough that a remote matcher sees few round trips, small enough to
keep memory flat."""


class RecordSink(Protocol):
    """Where a scan streams its records (the output folder writer)."""

    def add(self, parser: str, records: Sequence[Record]) -> None:
        """Take a batch of one parser's records."""

    def end(self, parser: str) -> None:
        """The parser has no more records."""


def _kept_kinds() -> frozenset[str]:
    """Record kinds a streamed scan keeps in memory: those the heuristics read and those that
    declare content to screen."""
    from unmask.detect.heuristics.base import registry as heuristic_registry
    from unmask.model import record_types

    kinds = {kind for rule in heuristic_registry() for kind in rule.kinds}
    kinds.update(kind for kind, cls in record_types().items() if cls.content is not None)
    return frozenset(kinds)


def load_indicators(iocs: Sequence[str | Path] = ()) -> tuple[IndicatorSets, IndicatorIndex]:
    """Load the indicator sets for a scan (explicit, ``UNMASK_IOCS``, or the default sets) and index them."""
    sets = load_sets(resolve(iocs))
    return sets, IndicatorIndex.build(sets.indicators)


def _hash_host_files(acq: Acquisition, hash_all: bool) -> dict[str, str]:
    hashes: dict[str, str] = {}
    if hash_all:
        for path in acq.evidence_files():
            hashes[str(path.relative_to(acq.root))] = sha256_file(path)
        return hashes
    for name in ("Info.plist", "Manifest.plist", "Manifest.db", "Status.plist"):
        host = acq.host_file(name)
        if host is not None:
            hashes[name] = sha256_file(host)
    return hashes


def scan_acquisition(
    acq: Acquisition,
    *,
    command: str,
    iocs: Sequence[str | Path] = (),
    progress: ProgressFn | None = None,
    hash_all: bool = False,
    indicators: tuple[IndicatorSets, Matcher] | None = None,
    screen: bool = True,
    sink: RecordSink | None = None,
) -> ScanResult:
    """Parse every artefact of an acquisition, match indicators, run heuristics, screen attachments.

    Records flow through in batches: each batch is matched, then handed to ``sink`` (the output
    writer) when there is one. With a sink, :attr:`ScanResult.records` keeps only the records the
    heuristics and attachment screening need, so memory stays flat however large the evidence;
    without one it keeps every record.
    """
    started = timeutil.now()
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    sets, index = indicators or load_indicators(iocs)
    timings["indicators"] = time.perf_counter() - clock
    clock = time.perf_counter()
    workers_started = not screen
    evidence_hashes = _hash_host_files(acq, hash_all)
    parsers = parsers_for(acq.kind)
    records: dict[str, list[Record]] = {}
    coverage: list[Coverage] = []
    findings: list[Finding] = []
    keep = _kept_kinds() if sink is not None else None
    matching = writing = 0.0
    for i, cls in enumerate(parsers):
        if progress:
            progress(cls.name, i, len(parsers))
        t = time.perf_counter()
        cov = Coverage(cls.name, cls.description())
        coverage.append(cov)
        kept: list[Record] = []
        stream = iter_parser(cls(), acq, cov)
        declares_content = any(rc.content is not None for rc in cls.records)
        while batch := list(islice(stream, BATCH)):
            if declares_content and not workers_started:
                from unmask.detect.payloads.pool import prepare

                prepare()  # the screening workers start up on the other core while parsing goes on
                workers_started = True
            t1 = time.perf_counter()
            # finalise() adds each finding's artefact hash once every artefact has been read.
            findings.extend(match_records(batch, index))
            t2 = time.perf_counter()
            matching += t2 - t1
            if sink is None:
                kept.extend(batch)
                continue
            sink.add(cls.name, batch)
            writing += time.perf_counter() - t2
            assert keep is not None
            kept.extend(r for r in batch if r.kind in keep)
        if sink is not None:
            sink.end(cls.name)
        records[cls.name] = kept
        timings[f"parse:{cls.name}"] = time.perf_counter() - t
    timings["parse"] = time.perf_counter() - clock - matching - writing
    timings["match"] = matching
    if sink is not None:
        timings["write_records"] = writing
    clock = time.perf_counter()
    if progress:
        progress("heuristics", len(parsers), len(parsers))
    by_kind: dict[str, list[Record]] = {}
    for recs in records.values():
        for rec in recs:
            by_kind.setdefault(rec.kind, []).append(rec)
    metadata = acq.metadata()
    findings.extend(run_heuristics(by_kind, HeuristicContext(metadata=metadata)))
    timings["heuristics"] = time.perf_counter() - clock
    if screen:
        clock = time.perf_counter()
        from unmask.detect.attachments import screen_content

        def screen_progress(done: int, total: int) -> None:
            if progress:
                progress("screening attachments", done, total)

        content = [r for recs in records.values() for r in recs if r.content is not None]
        payload_findings, screened = screen_content(acq, content, progress=screen_progress)
        findings.extend(payload_findings)
        timings["screen"] = time.perf_counter() - clock
        extra_screened = [
            {"device_path": s.device_path, **s.report.to_json()} for s in screened
        ]
    else:
        extra_screened = []
    hashes = acq.hashes_read()
    findings = finalise(findings, _finding_hashes(acq, findings, hashes, parsers, coverage))
    return ScanResult(
        command=command,
        evidence_path=str(acq.root),
        acquisition_kind=acq.kind,
        metadata=metadata,
        records=records,
        coverage=coverage,
        findings=findings,
        indicator_sets=sets,
        evidence_hashes=evidence_hashes,
        artefact_hashes=hashes,
        started=started,
        finished=timeutil.now(),
        extra={"timings": {k: round(v, 3) for k, v in timings.items()}, "screened_files": extra_screened},
    )


def check_backup(
    path: str | Path,
    *,
    iocs: Sequence[str | Path] = (),
    output: str | Path | None = None,
    progress: ProgressFn | None = None,
    hash_all: bool = False,
    indicators: tuple[IndicatorSets, Matcher] | None = None,
    screen: bool = True,
) -> ScanResult:
    """Scan an unencrypted iOS backup folder; write the outputs to ``output`` when given.

    ``indicators`` replaces the plaintext sets with another matching backend (confidential
    matching supplies its own).
    """
    t0 = time.perf_counter()
    acq = open_ios_backup(Path(path))
    if output is not None:
        refuse_output_inside(Path(output), acq.root)
    opened = time.perf_counter() - t0
    writer = None
    if output is not None:
        from unmask.report.writers import OutputWriter

        writer = OutputWriter(Path(output))
    try:
        result = scan_acquisition(
            acq,
            command="check-backup",
            iocs=iocs,
            progress=progress,
            hash_all=hash_all,
            indicators=indicators,
            screen=screen,
            sink=writer,
        )
        result.extra["timings"]["open"] = round(opened, 3)
        if writer is not None:
            t1 = time.perf_counter()
            if progress:
                progress("writing results", 1, 1)
            writer.finish(result)
            result.extra["timings"]["write"] = round(time.perf_counter() - t1, 3)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        acq.close()
    result.extra["seconds"] = round(time.perf_counter() - t0, 3)
    return result


def refuse_output_inside(output: Path, evidence: Path) -> None:
    """Raise :class:`UsageError` when an output folder is the evidence folder or inside it."""
    out, ev = output.resolve(), evidence.resolve()
    if out == ev or out.is_relative_to(ev):
        raise UsageError(f"{output} is inside the evidence folder {evidence}; choose another output folder")


def tool_info() -> dict[str, str]:
    """Tool provenance for info.json."""
    return {
        "name": "unmask",
        "version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
