"""What a scan produced and what it means: the scan result, the verdict, and the tool's provenance.

Below both the orchestrator (:mod:`unmask.api`, :mod:`unmask.recheck`) and the writers
(:mod:`unmask.report`): the writers read a :class:`ScanResult`, they never import the code that
made it.
"""

from __future__ import annotations

import platform
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from unmask import __version__
from unmask.detect.indicators.match import RULE as INDICATOR_RULE
from unmask.detect.indicators.sets import IndicatorSets
from unmask.model import Coverage, Finding, Record, Severity, Status
from unmask.parsers.registry import plugin_origins


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
    output folder, otherwise only those that attachment screening needed (the rest were streamed
    to ``<parser>.json``); ``coverage`` counts every record either way.
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
    refused: dict[str, str] = field(default_factory=dict)
    """Entries of the evidence that were not read, and why (links out of it, FIFOs…)."""
    acquisitions: list[dict[str, Any]] = field(default_factory=list)
    """The other acquisitions of the same phone read together with the main evidence (``unmask
    check --with``): for each its ``id`` (the tag its records and artefacts carry), ``kind``,
    ``path``, ``metadata``, ``hashes``, ``artefacts_read`` and ``refused``."""

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
    partial = [c.parser for c in coverage if c.status is Status.PARTIAL]
    absent = sum(1 for c in coverage if c.status is Status.ABSENT)
    failed = [c.parser for c in coverage if c.status in (Status.FAILED, Status.UNSUPPORTED)]
    examined = f"{parsed + len(partial)} kinds of artefact were examined, {absent} were not in the evidence"
    if partial:
        examined += f", {len(partial)} only in part ({', '.join(partial)})"
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


def merged_metadata(main: dict[str, Any], others: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the heuristics know about the phone when several acquisitions are read together: the
    main evidence's facts, completed by the others' (a backup says the device name, a sysdiagnose
    the iOS build)."""
    merged: dict[str, Any] = {}
    for meta in reversed(others):
        merged.update(meta)
    merged.update(main)
    return merged


def finalise(findings: Sequence[Finding], hashes: dict[str, str]) -> list[Finding]:
    """Give each finding the hash of its artefact and order them: most severe first, then by time."""
    done = [
        replace(f, sha256=hashes[f.device_path]) if f.sha256 is None and f.device_path in hashes else f
        for f in findings
    ]
    done.sort(key=lambda f: (-f.severity.rank, f.timestamp is None, f.timestamp or _EPOCH, f.rule))
    return done


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def tool_info() -> dict[str, Any]:
    """Tool provenance for info.json: version, interpreter, platform, and parser plugins with their
    origin (distribution, version, file hash)."""
    return {
        "name": "unmask",
        "version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "plugins": plugin_origins(),
    }
