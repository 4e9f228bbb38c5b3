"""The library behind the CLI: everything the command line does is a function here.

This is the orchestrator: it opens the evidence, runs every parser through the detection steps
(:mod:`unmask.detect.pipeline`), streams the records to the output writer, and writes the report
page last, from the files the writer left.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
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
from unmask.results import ScanResult, Verdict, finalise, merged_metadata, tool_info, verdict

__all__ = [
    "ScanResult",
    "Verdict",
    "check",
    "check_backup",
    "check_sysdiagnose",
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
        digest = _artefact_sha256(acq, path) or host_hash.get(f.source)
        if digest:
            out[path] = digest
    return out


def _artefact_sha256(acq: Acquisition, path: str) -> str | None:
    """SHA-256 of a device path or a named section of an acquisition, when it holds it."""
    try:
        if path in acq.section_names():
            return acq.section_sha256(path)
        return acq.sha256(path) if acq.exists(path) else None
    except (OSError, ArtefactError):
        return None


BATCH = 16_384
"""Records per batch: large enough that a remote matcher sees few round trips, small enough to
keep memory flat."""


class RecordSink(Protocol):
    """Where a scan streams its records (the output folder writer)."""

    def add(self, parser: str, records: Sequence[Record]) -> None:
        """Take a batch of one parser's records."""

    def end(self, parser: str) -> None:
        """The parser has no more records."""


class CaseSink(Protocol):
    """Where a scan records a case (:class:`unmask.store.recorder.CaseRecorder`): each batch with the
    findings detection made of it, in the order the output writer saves the records."""

    def add(self, parser: str, records: Sequence[Record], findings: Sequence[Finding]) -> None:
        """Take a batch of one parser's records and the findings detection made of it."""

    def end(self, parser: str) -> None:
        """The parser has no more records."""


def _kept_kinds() -> frozenset[str]:
    """Record kinds a streamed scan keeps in memory: those that declare content to screen (the
    heuristics keep what they need themselves)."""
    return frozenset(kind for kind, cls in record_types().items() if cls.content is not None)


def _tagged(batch: list[Record], tag: str) -> list[Record]:
    """A batch of a ``--with`` acquisition's records, each carrying its acquisition's id."""
    return [replace(r, acquisition=tag) for r in batch] if tag else batch


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
    others: Sequence[Acquisition] = (),
    cases: CaseSink | None = None,
    screen_workers: int | None = None,
) -> ScanResult:
    """Parse every artefact of an acquisition, match indicators, run heuristics and correlation,
    screen attachments (in ``screen_workers`` processes; by default one per core, at most 8).

    Records flow through in batches: each batch is matched, then handed to ``sink`` (the output
    writer) when there is one. With a sink, :attr:`ScanResult.records` keeps only the records the
    heuristics and attachment screening need, so memory stays flat however large the evidence;
    without one it keeps every record. Each parser and each heuristic spends at most ``budget``.

    ``others`` are more acquisitions of the same phone read in the same scan (a sysdiagnose taken
    the day of a backup): every parser runs over each of them in turn, into the same detection
    steps (so correlation and the rules that need several artefacts see them all) and the same
    ``<parser>.json``; their records and coverage entries carry the id ``with1``, ``with2``… that
    :attr:`ScanResult.acquisitions` describes.

    ``cases`` records the scan into a case of the store as it goes.
    """
    started = timeutil.now()
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    if hash_all and not acq.options.hash_all:
        acq.options = dataclasses.replace(acq.options, hash_all=True)
    sets, index = indicators or load_indicators(iocs)
    timings["indicators"] = time.perf_counter() - clock
    clock = time.perf_counter()
    workers_started = not screen
    sources: list[tuple[str, Acquisition]] = [("", acq), *((f"with{i}", a) for i, a in enumerate(others, 1))]
    evidence_hashes = acq.evidence_hashes(hash_all)
    other_hashes = {tag: a.evidence_hashes(hash_all) for tag, a in sources[1:]}
    by_name: dict[str, type[Parser]] = {}
    for _, a in sources:
        for parser_cls in parsers_for(a.platform):
            by_name.setdefault(parser_cls.name, parser_cls)
    parsers = [by_name[name] for name in sorted(by_name)]
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
        declares_content = any(rc.content is not None for rc in cls.records)
        for tag, source in sources:
            if cls.platform not in (source.platform, "any"):
                continue
            before = len(cov.artefacts)
            stream = iter_parser(cls(), source, cov, budget)
            while batch := list(islice(stream, BATCH)):
                batch = _tagged(batch, tag)
                if declares_content and not workers_started:
                    from unmask.detect.payloads.pool import prepare

                    prepare()  # the screening workers start up on the other core while parsing goes on
                    workers_started = True
                # finalise() adds each finding's artefact hash once every artefact has been read.
                found_before = len(detection.findings)
                detection.feed(batch)
                if cases is not None:
                    cases.add(cls.name, batch, detection.findings[found_before:])
                if sink is None:
                    kept.extend(batch)
                    continue
                t2 = time.perf_counter()
                sink.add(cls.name, batch)
                writing += time.perf_counter() - t2
                assert keep is not None
                kept.extend(r for r in batch if r.kind in keep)
            for run in cov.artefacts[before:]:
                run.acquisition = tag
        if sink is not None:
            sink.end(cls.name)
        if cases is not None:
            cases.end(cls.name)
        records[cls.name] = kept
        timings[f"parse:{cls.name}"] = time.perf_counter() - t
    if progress:
        progress("heuristics", len(parsers), len(parsers))
    metadata = acq.metadata()
    other_meta = {tag: a.metadata() for tag, a in sources[1:]}
    judged = merged_metadata(metadata, list(other_meta.values()))
    findings: list[Finding] = detection.finish(HeuristicContext(metadata=judged))
    timings["parse"] = time.perf_counter() - clock - detection.matching - detection.judging - writing
    timings["match"] = detection.matching
    timings["heuristics"] = detection.judging
    if sink is not None:
        timings["write_records"] = writing
    extra_screened: list[dict[str, Any]] = []
    if screen:
        clock = time.perf_counter()
        from unmask.detect.attachments import screen_content

        def screen_progress(done: int, total: int) -> None:
            if progress:
                progress("screening attachments", done, total)

        for tag, source in sources:
            content = [r for recs in records.values() for r in recs if r.content is not None and r.acquisition == tag]
            if not content:
                continue
            payload_findings, screened = screen_content(source, content, workers=screen_workers,
                                                        progress=screen_progress)
            findings.extend(payload_findings)
            for s in screened:
                entry = {"device_path": s.device_path, **({"acquisition": tag} if tag else {}), **s.report.to_json()}
                # The file screened is the evidence's own when it is a plain one; a copy extracted
                # into the scan's private folder (archives, encrypted backups) is gone after the
                # scan, so the device path is what names it then.
                local = source.local_path(s.device_path)
                entry["path"] = str(local) if local is not None else s.device_path
                extra_screened.append(entry)
        timings["screen"] = time.perf_counter() - clock
    hashes = acq.hashes_read()
    findings = _other_hashes(findings, dict(sources[1:]))
    findings = finalise(findings, _finding_hashes(acq, findings, hashes, parsers, coverage))
    findings = [replace(f, sha256=None) if f.sha256 == "" else f for f in findings]
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
        acquisitions=[
            {"id": tag, "kind": a.kind, "path": str(a.root), "metadata": other_meta[tag],
             "hashes": other_hashes[tag], "artefacts_read": a.hashes_read(), "refused": dict(a.refused)}
            for tag, a in sources[1:]
        ],
    )


def _other_hashes(findings: list[Finding], others: dict[str, Acquisition]) -> list[Finding]:
    """The artefact hash of each finding about a ``--with`` acquisition's record, from that
    acquisition (the main one's hashes are keyed by device path alone)."""
    if not others:
        return findings
    out: list[Finding] = []
    for f in findings:
        tag = f.record.acquisition if f.record is not None else ""
        source = others.get(tag)
        if source is not None and f.sha256 is None and f.device_path:
            digest = source.hashes_read().get(f.device_path) or _artefact_sha256(source, f.device_path)
            # A finding with no hash of its own must not borrow the main evidence's file of the same path.
            f = replace(f, sha256=digest or "")
        out.append(f)
    return out


def check(
    path: str | Path,
    *,
    with_paths: Sequence[str | Path] = (),
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
    case: str | None = None,
    store: Any = None,
    screen_workers: int | None = None,
) -> ScanResult:
    """Scan any evidence unmask reads; write the outputs to ``output`` when given.

    The kind is recognised from the content (:func:`unmask.acquisition.registry.open_acquisition`)
    unless ``kind`` forces one. ``options`` carries what opening needs besides the path (a password
    source for encrypted evidence). ``indicators`` replaces the plaintext sets with another matching
    backend (confidential matching supplies its own). ``with_paths`` are more acquisitions of the
    same phone (each recognised by its content) read in the same scan, into the same output folder
    (:func:`scan_acquisition` ``others``). ``case`` records the
    scan into that case of the case store (``store``: an open :class:`unmask.store.db.Store` or its
    URL; by default ``UNMASK_STORE`` or the user's own store), with an output folder under the
    store's data folder when ``output`` is not given.
    """
    t0 = time.perf_counter()
    if hash_all:
        options = dataclasses.replace(options or OpenOptions(), hash_all=True)
    acq = open_acquisition(Path(path), kind=kind, options=options)
    others: list[Acquisition] = []
    writer = None
    recorder = None
    try:
        for extra in with_paths:
            others.append(open_acquisition(Path(extra), options=options))
        if case is not None:
            from unmask.store.cases import begin_case_scan

            indicators = indicators or load_indicators(iocs)
            recorder, output = begin_case_scan(store, case, acq, indicators[0], output)
        if output is not None:
            for evidence in (acq, *others):
                if evidence.root.is_dir():
                    refuse_output_inside(Path(output), evidence.root)
                elif Path(output).resolve() == evidence.root.resolve():
                    # Evidence that is one file (an archive) is never written to; results beside it are fine.
                    raise UsageError(f"{output} is the evidence file itself; choose another output folder")
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
            others=others,
            cases=recorder,
            screen_workers=screen_workers,
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
        if recorder is not None:
            recorder.finish(result)
    except BaseException as exc:
        if writer is not None:
            writer.abort()
        if recorder is not None:
            with contextlib.suppress(Exception):  # the scan's own error is the one to report
                recorder.fail(f"{type(exc).__name__}: {exc}")
        raise
    finally:
        for other in others:
            other.close()
        acq.close()
        if recorder is not None:
            recorder.release()
    result.extra["seconds"] = round(time.perf_counter() - t0, 3)
    return result


def check_backup(path: str | Path, **kwargs: Any) -> ScanResult:
    """Scan an iOS backup folder (plain or encrypted): :func:`check` with the kind forced."""
    return check(path, kind="ios-backup", command="check-backup", **kwargs)


def check_sysdiagnose(path: str | Path, **kwargs: Any) -> ScanResult:
    """Scan an iOS sysdiagnose (the phone's ``.tar.gz`` or its extracted folder): :func:`check`
    with the kind forced."""
    return check(path, kind="ios-sysdiagnose", command="check-sysdiagnose", **kwargs)


def refuse_output_inside(output: Path, evidence: Path, what: str = "evidence folder") -> None:
    """Raise :class:`UsageError` when an output folder is the evidence folder or inside it (a later
    run would read its own results as evidence)."""
    out, ev = output.resolve(), evidence.resolve()
    if out == ev or out.is_relative_to(ev):
        raise UsageError(f"{output} is inside the {what} {evidence}; choose another output folder")
