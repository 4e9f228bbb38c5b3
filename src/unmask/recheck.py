"""Re-check a saved results folder against current (or other) indicators, without the evidence.

New indicators are published after a phone was examined; investigators want to know whether old
cases match them without getting the phone back. Every record a scan saved (``<parser>.json``)
is read back line by line, rebuilt as its class (:func:`unmask.parsers.registry.record_from_json`),
and streamed through the scan's own detection steps (:class:`unmask.detect.pipeline.Detection`):
matched against the indicator sets again and handed to the heuristics again, batch by batch. The new ``alerts.json``, ``alerts_timeline.csv``, ``timeline.csv``,
``info.json`` and ``report.html`` go into a new ``recheck-<UTC time>/`` folder inside the old one;
nothing already there is ever overwritten.

``info.json`` of a recheck keeps the original evidence hashes and coverage (the evidence was not
read again) and says under ``extra.recheck`` which folder was re-checked, what the original run
found, which findings are new and which earlier ones no longer appear. Findings that need the
evidence itself (payload screening of attachments) cannot be re-derived from records; they are
carried over unchanged and counted as ``carried_over``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from unmask import timeutil
from unmask.detect.correlate import rule_ids as correlation_rules
from unmask.detect.heuristics.base import HeuristicContext, registry
from unmask.detect.indicators.index import Matcher
from unmask.detect.indicators.match import RULE as INDICATOR_RULE
from unmask.detect.indicators.sets import IndicatorSets
from unmask.detect.pipeline import Detection, load_indicators
from unmask.errors import UsageError
from unmask.model import ArtefactRun, Coverage, Finding, Obs, Observable, Record, Severity, Status
from unmask.parsers.registry import record_from_json
from unmask.report.html import write_report
from unmask.report.outputs import iter_records_file, read_json, records_file_name
from unmask.report.writers import OutputWriter, alerts_json
from unmask.results import ScanResult, finalise, merged_metadata

BATCH = 16_384

FOLDER_PREFIX = "recheck-"


@dataclass
class Recheck:
    """What a recheck produced: the new result and where it was written."""

    result: ScanResult
    folder: Path
    source: Path
    new_findings: list[int] = field(default_factory=list)
    no_longer_found: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


def _coverage(entries: Any) -> list[Coverage]:
    """Rebuild the original run's coverage from info.json, so the verdict still says what was examined."""
    coverage: list[Coverage] = []
    try:
        for c in entries if isinstance(entries, list) else []:
            artefacts = [
                ArtefactRun(str(a["device_path"]), Status(a["status"]), int(a.get("records") or 0),
                            _text(a.get("reason")), _text(a.get("sha256")), str(a.get("acquisition") or ""))
                for a in c.get("artefacts") or []
            ]
            coverage.append(Coverage(str(c["parser"]), str(c.get("description", "")), artefacts,
                                     [str(w) for w in c.get("warnings") or []],
                                     None if artefacts else _text(c.get("reason"))))
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise UsageError(f"info.json: its coverage cannot be read ({type(exc).__name__}: {exc})") from None
    return coverage


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _mapping(value: Any) -> dict[str, Any]:
    """A JSON object of info.json, or an empty one when the file holds something else there."""
    return value if isinstance(value, dict) else {}


def saved_parsers(info: dict[str, Any]) -> list[str]:
    """The parsers whose records the original run saved, in its order; their file names are derived
    here, never taken from the folder, and a name that cannot be a parser's is refused."""
    names: list[str] = []
    for c in info.get("coverage") or []:
        if not isinstance(c, dict):
            continue
        parser = str(c.get("parser", ""))
        try:
            count = int(c.get("records") or 0)
        except (TypeError, ValueError):
            raise UsageError(f"info.json: the record count of {parser!r} is not a number") from None
        if not parser or not count:
            continue
        if not _PARSER_NAME.match(parser):
            raise UsageError(f"info.json names a parser {parser[:80]!r}, which is not a parser name")
        if parser not in names:
            names.append(parser)
    return names


def iter_saved_records(folder: Path, parser: str, skipped: Counter[str]) -> Iterator[Record]:
    """The records of one ``<parser>.json``, rebuilt one at a time; records of a kind this version
    does not know (written by a newer unmask, or by a parser since removed) are counted in
    ``skipped``, not fatal; a missing or unreadable file is, because a recheck that silently looked
    at less than the original run would mislead."""
    for row in iter_records_file(folder / records_file_name(parser)):
        try:
            yield record_from_json(row)
        except (KeyError, ValueError, TypeError, AttributeError):
            skipped[str(row.get("kind", "?"))] += 1


_PARSER_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")


def _rederivable(rule: str) -> bool:
    """Whether a finding of this rule can be derived again from saved records alone.

    Indicator matches and heuristics work on records; anything else (payload screening reads the
    bytes of attachments) needs the evidence, so its findings are carried over, not dropped.
    """
    return (rule in (INDICATOR_RULE, "unmask-internal-error") or rule in {h.id for h in registry()}
            or rule in correlation_rules())


def _finding_from_json(alert: dict[str, Any]) -> Finding:
    """Rebuild a saved finding (one that needs the evidence) to carry it into the re-check."""
    observable = None
    raw_obs = alert.get("observable")
    if isinstance(raw_obs, dict):
        try:
            observable = Observable(Obs(str(raw_obs.get("type"))), str(raw_obs.get("value", "")))
        except ValueError:
            observable = None
    record = None
    if isinstance(alert.get("record"), dict):
        try:
            record = record_from_json(alert["record"])
        except (KeyError, ValueError, TypeError, AttributeError):
            record = None
    when = alert.get("timestamp")
    return Finding(
        rule=str(alert.get("rule", "")),
        severity=Severity.parse(str(alert.get("severity", "info"))),
        message=str(alert.get("message", "")),
        source=str(alert.get("source", "")),
        device_path=alert.get("device_path"),
        locator=str(alert.get("locator") or ""),
        timestamp=datetime.fromisoformat(when) if isinstance(when, str) and when else None,
        observable=observable,
        explanation=str(alert.get("explanation") or ""),
        benign=str(alert.get("benign") or ""),
        reference=str(alert.get("reference") or ""),
        sha256=alert.get("sha256"),
        record=record,
    )


def finding_key(alert: dict[str, Any]) -> tuple[str, ...]:
    """What makes two alerts the same finding across runs (messages may be reworded between versions);
    the case store fingerprints findings with it too."""
    indicator = _mapping(alert.get("indicator"))
    observable = _mapping(alert.get("observable"))
    return (str(alert.get("rule")), str(alert.get("source")), str(alert.get("device_path")),
            str(alert.get("locator")), str(observable.get("value")), str(indicator.get("value")),
            str(indicator.get("collection")))


def _new_folder(parent: Path, now: datetime) -> Path:
    base = parent / f"{FOLDER_PREFIX}{now.strftime('%Y%m%dT%H%M%SZ')}"
    candidate, n = base, 1
    while True:
        try:
            candidate.mkdir()  # exclusive: an existing folder is never reused or overwritten
            return candidate
        except FileExistsError:
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")


def recheck(
    folder: str | Path,
    *,
    iocs: Sequence[str | Path] = (),
    output: str | Path | None = None,
    indicators: tuple[IndicatorSets, Matcher] | None = None,
) -> Recheck:
    """Re-match the records saved in ``folder`` and write the new results beside the old ones.

    ``output`` names the new folder instead of ``folder/recheck-<UTC time>``; it must not exist
    yet or be empty, so that nothing is overwritten.
    """
    source = Path(folder)
    if not source.is_dir():
        raise UsageError(f"{source}: no such results folder")
    info = read_json(source / "info.json")
    old_alerts = read_json(source / "alerts.json")
    if not isinstance(info, dict) or not isinstance(info.get("coverage"), list):
        raise UsageError(f"{source / 'info.json'}: not an unmask info.json (no coverage)")
    if not isinstance(old_alerts, list):
        raise UsageError(f"{source / 'alerts.json'}: not an unmask alerts.json")
    started = timeutil.now()
    parsers = saved_parsers(info)
    coverage = _coverage(info.get("coverage"))
    sets, index = indicators or load_indicators(iocs)
    evidence = _mapping(info.get("evidence"))
    hashes = {str(k): str(v) for k, v in _mapping(evidence.get("artefacts_read")).items()}
    metadata = dict(_mapping(evidence.get("metadata")))
    others = [dict(a) for a in evidence.get("with") or [] if isinstance(a, dict)]
    judged = merged_metadata(metadata, [_mapping(a.get("metadata")) for a in others])
    if output is None:
        target = _new_folder(source, started)
    else:
        target = Path(output)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise UsageError(f"{target}: exists and is not empty; recheck never overwrites results")
        target.mkdir(parents=True, exist_ok=True)
    writer = OutputWriter(target, records=False)
    try:
        detection = Detection(index, hashes=hashes)
        skipped: Counter[str] = Counter()
        rechecked = 0
        for parser in parsers:
            stream = iter_saved_records(source, parser, skipped)
            while batch := list(islice(stream, BATCH)):
                rechecked += len(batch)
                detection.feed(batch)
                writer.add(parser, batch)
            writer.end(parser)
        findings: list[Finding] = detection.finish(HeuristicContext(metadata=judged))
        carried: list[Finding] = []
        for alert in old_alerts:
            if isinstance(alert, dict) and not _rederivable(str(alert.get("rule", ""))):
                try:
                    carried.append(_finding_from_json(alert))
                except (ValueError, TypeError) as exc:
                    raise UsageError(f"{source / 'alerts.json'}: an alert cannot be read ({exc})") from None
        findings.extend(carried)
        findings = finalise(findings, hashes)
    except BaseException:
        writer.abort()
        if not any(target.iterdir()):
            target.rmdir()
        raise

    new_alerts = alerts_json(findings)
    old_keys = {finding_key(a) for a in old_alerts if isinstance(a, dict)}
    new_keys = {finding_key(a) for a in new_alerts}
    new_findings = [i for i, a in enumerate(new_alerts) if finding_key(a) not in old_keys]
    gone = [str(a.get("message", "")) for a in old_alerts if isinstance(a, dict) and finding_key(a) not in new_keys]

    old_verdict = _mapping(info.get("verdict"))
    result = ScanResult(
        command="recheck",
        evidence_path=str(evidence.get("path", "")),
        acquisition_kind=str(evidence.get("kind", "")),
        metadata=metadata,
        records={},
        coverage=coverage,
        findings=findings,
        indicator_sets=sets,
        evidence_hashes={str(k): str(v) for k, v in _mapping(evidence.get("hashes")).items()},
        refused={str(k): str(v) for k, v in _mapping(evidence.get("refused")).items()},
        acquisitions=others,
        artefact_hashes=hashes,
        started=started,
        finished=timeutil.now(),
        extra={"recheck": {
            "results": str(source.resolve()),
            "original": {
                "command": info.get("command"),
                "started": info.get("started"),
                "finished": info.get("finished"),
                "tool_version": _mapping(info.get("tool")).get("version"),
                "level": old_verdict.get("level"),
                "headline": old_verdict.get("headline"),
                "indicator_sets": [{"name": s.get("name"), "sha256": s.get("sha256")}
                                   for s in info.get("indicator_sets") or [] if isinstance(s, dict)],
            },
            "records_rechecked": rechecked,
            "records_skipped": dict(skipped),
            "carried_over": len(carried),
            "new_findings": new_findings,
            "no_longer_found": gone,
        }},
    )
    writer.finish(result)
    write_report(target)
    return Recheck(result, target, source, new_findings, gone, dict(skipped))
