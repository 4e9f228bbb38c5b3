"""The library behind the CLI: everything the command line does is a function here.

This is the orchestrator: it opens the evidence, runs every parser through the detection steps
(:mod:`unmask.detect.pipeline`), streams the records to the output writer, and writes the report
page last, from the files the writer left.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from unmask import timeutil
from unmask.acquisition.base import Acquisition
from unmask.acquisition.options import OpenOptions
from unmask.acquisition.registry import open_acquisition
from unmask.budget import DEFAULT, Budget
from unmask.detect.heuristics.base import HeuristicContext
from unmask.detect.indicators.index import Matcher
from unmask.detect.indicators.sets import IndicatorSets
from unmask.detect.pipeline import Detection, load_indicators
from unmask.errors import ArtefactError, UsageError
from unmask.model import Coverage, Finding, Record
from unmask.parsers.base import Parser, Where, iter_parser
from unmask.parsers.registry import parsers_for, record_types
from unmask.results import ScanResult, Verdict, finalise, tool_info, verdict

__all__ = [
    "ScanResult",
    "Verdict",
    "check",
    "check_backup",
    "finalise",
    "load_indicators",
    "refuse_output_inside",
    "scan_acquisition",
    "tool_info",
    "verdict",
]

ProgressFn = Callable[[str, int, int], None]
"""``(label, done, total)`` — called as work advances."""


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
        host = {s.pattern for s in cls.sources if s.where is Where.HOST}
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
        except (OSError, ArtefactError):
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
    """Record kinds a streamed scan keeps in memory: those that declare content to screen (the
    heuristics keep what they need themselves)."""
    return frozenset(kind for kind, cls in record_types().items() if cls.content is not None)


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
    budget: Budget = DEFAULT,
) -> ScanResult:
    """Parse every artefact of an acquisition, match indicators, run heuristics, screen attachments.

    Records flow through in batches: each batch is matched, then handed to ``sink`` (the output
    writer) when there is one. With a sink, :attr:`ScanResult.records` keeps only the records the
    heuristics and attachment screening need, so memory stays flat however large the evidence;
    without one it keeps every record. Each parser and each heuristic spends at most ``budget``.
    """
    started = timeutil.now()
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    sets, index = indicators or load_indicators(iocs)
    timings["indicators"] = time.perf_counter() - clock
    clock = time.perf_counter()
    workers_started = not screen
    evidence_hashes = acq.evidence_hashes(hash_all)
    parsers = parsers_for(acq.platform)
    records: dict[str, list[Record]] = {}
    coverage: list[Coverage] = []
    detection = Detection(index, budget=budget)
    keep = _kept_kinds() if sink is not None else None
    writing = 0.0
    for i, cls in enumerate(parsers):
        if progress:
            progress(cls.name, i, len(parsers))
        t = time.perf_counter()
        cov = Coverage(cls.name, cls.description())
        coverage.append(cov)
        kept: list[Record] = []
        stream = iter_parser(cls(), acq, cov, budget)
        declares_content = any(rc.content is not None for rc in cls.records)
        while batch := list(islice(stream, BATCH)):
            if declares_content and not workers_started:
                from unmask.detect.payloads.pool import prepare

                prepare()  # the screening workers start up on the other core while parsing goes on
                workers_started = True
            # finalise() adds each finding's artefact hash once every artefact has been read.
            detection.feed(batch)
            if sink is None:
                kept.extend(batch)
                continue
            t2 = time.perf_counter()
            sink.add(cls.name, batch)
            writing += time.perf_counter() - t2
            assert keep is not None
            kept.extend(r for r in batch if r.kind in keep)
        if sink is not None:
            sink.end(cls.name)
        records[cls.name] = kept
        timings[f"parse:{cls.name}"] = time.perf_counter() - t
    if progress:
        progress("heuristics", len(parsers), len(parsers))
    metadata = acq.metadata()
    findings: list[Finding] = detection.finish(HeuristicContext(metadata=metadata))
    timings["parse"] = time.perf_counter() - clock - detection.matching - detection.judging - writing
    timings["match"] = detection.matching
    timings["heuristics"] = detection.judging
    if sink is not None:
        timings["write_records"] = writing
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
        # The device's time zone, whatever the kind of evidence: the report shows local time beside UTC.
        metadata={**metadata, "timezone": zone} if (zone := acq.timezone()) else metadata,
        records=records,
        coverage=coverage,
        findings=findings,
        indicator_sets=sets,
        evidence_hashes=evidence_hashes,
        artefact_hashes=hashes,
        started=started,
        finished=timeutil.now(),
        extra={"timings": {k: round(v, 3) for k, v in timings.items()}, "screened_files": extra_screened},
        refused=dict(acq.refused),
    )


def check(
    path: str | Path,
    *,
    kind: str | None = None,
    options: OpenOptions | None = None,
    command: str = "check",
    iocs: Sequence[str | Path] = (),
    output: str | Path | None = None,
    progress: ProgressFn | None = None,
    hash_all: bool = False,
    indicators: tuple[IndicatorSets, Matcher] | None = None,
    screen: bool = True,
    budget: Budget = DEFAULT,
) -> ScanResult:
    """Scan any evidence unmask reads; write the outputs to ``output`` when given.

    The kind is recognised from the content (:func:`unmask.acquisition.registry.open_acquisition`)
    unless ``kind`` forces one. ``options`` carries what opening needs besides the path (a password
    source for encrypted evidence). ``indicators`` replaces the plaintext sets with another matching
    backend (confidential matching supplies its own).
    """
    t0 = time.perf_counter()
    acq = open_acquisition(Path(path), kind=kind, options=options)
    writer = None
    try:
        if output is not None:
            refuse_output_inside(Path(output), acq.root if acq.root.is_dir() else acq.root.parent)
        opened = time.perf_counter() - t0
        if output is not None:
            from unmask.report.writers import OutputWriter

            writer = OutputWriter(Path(output), spool_dir=acq.workdir)
        result = scan_acquisition(
            acq,
            command=command,
            iocs=iocs,
            progress=progress,
            hash_all=hash_all,
            indicators=indicators,
            screen=screen,
            sink=writer,
            budget=budget,
        )
        result.extra["timings"]["open"] = round(opened, 3)
        if writer is not None:
            t1 = time.perf_counter()
            if progress:
                progress("writing results", 1, 1)
            writer.finish(result)
            from unmask.report.html import write_report  # last: the page is built from the files

            write_report(writer.folder)
            result.extra["timings"]["write"] = round(time.perf_counter() - t1, 3)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        acq.close()
    result.extra["seconds"] = round(time.perf_counter() - t0, 3)
    return result


def check_backup(path: str | Path, **kwargs: Any) -> ScanResult:
    """Scan an iOS backup folder (plain or encrypted): :func:`check` with the kind forced."""
    return check(path, kind="ios-backup", command="check-backup", **kwargs)


def refuse_output_inside(output: Path, evidence: Path, what: str = "evidence folder") -> None:
    """Raise :class:`UsageError` when an output folder is the evidence folder or inside it (a later
    run would read its own results as evidence)."""
    out, ev = output.resolve(), evidence.resolve()
    if out == ev or out.is_relative_to(ev):
        raise UsageError(f"{output} is inside the {what} {evidence}; choose another output folder")
