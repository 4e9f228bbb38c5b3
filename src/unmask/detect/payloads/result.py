"""Per-file results, resource limits and the screening context shared by every format walker."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from unmask.model import Severity


@dataclass(frozen=True)
class PayloadFinding:
    """One structural anomaly in one file (or in one member/stream inside it).

    ``locator`` says where, in the terms of the format (``pdf obj 17 0 /JBIG2Decode seg#3``,
    ``zip member logo.png > webp VP8L code#4 (distance)``); ``evidence`` holds the raw field values
    that made the rule fire, so an analyst can check the arithmetic without re-running the tool.
    """

    rule: str
    severity: Severity
    message: str
    cve: str | None
    locator: str
    evidence: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """The finding as a JSON-ready dict (keys as in ``docs/payloads.md``)."""
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "cve": self.cve,
            "message": self.message,
            "locator": self.locator,
            "evidence": dict(self.evidence),
        }


@dataclass
class FileReport:
    """What screening one file produced: its identity, types, findings and what could not be done.

    ``errors`` are parse problems that did not amount to a finding (an unreadable font, an encrypted
    PDF); ``limits_hit`` names each resource cap that cut the screening short (``time``, ``memory``,
    ``decompressed-bytes``, ``pdf-objects`` …), so "no findings" is never silently "not examined".
    """

    path: str
    sha256: str
    size: int
    detected_type: str | None
    claimed_type: str | None
    findings: list[PayloadFinding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    limits_hit: list[str] = field(default_factory=list)

    @property
    def max_severity(self) -> Severity | None:
        """The highest severity among the findings, or ``None`` when there are none."""
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=lambda s: s.rank)

    def to_json(self) -> dict[str, object]:
        """The per-file JSON object of ``unmask scan-files`` (format in ``docs/payloads.md``)."""
        return {
            "path": self.path,
            "sha256": self.sha256,
            "size": self.size,
            "detected_type": self.detected_type,
            "claimed_type": self.claimed_type,
            "findings": [f.to_json() for f in self.findings],
            "errors": list(self.errors),
            "limits_hit": list(self.limits_hit),
        }


@dataclass(frozen=True)
class Limits:
    """Resource caps for screening one file. Every loop over attacker-controlled counts is bounded by one.

    ``seconds`` and ``memory_bytes`` are enforced hard by the worker pool (the worker is killed or its
    address space capped); the parsers also check ``seconds`` cooperatively so that a slow file
    still returns the findings made so far.
    """

    seconds: float = 30.0
    memory_bytes: int = 1024 * 1024 * 1024
    max_file_bytes: int = 512 * 1024 * 1024
    max_decompressed_bytes: int = 256 * 1024 * 1024
    max_depth: int = 4
    max_members: int = 10_000
    max_member_bytes: int = 128 * 1024 * 1024
    max_ratio: float = 200.0
    max_ifds: int = 64
    max_ifd_entries: int = 512
    max_tiles: int = 1_000_000
    max_pdf_objects: int = 200_000
    max_jbig2_segments: int = 100_000
    max_webp_chunks: int = 10_000
    max_vp8l_pixels: int = 4_000_000
    max_vp8l_groups: int = 65_536
    max_glyphs: int = 65_536
    max_fonts_per_collection: int = 64


DEFAULT_LIMITS = Limits()


class LimitExceeded(Exception):
    """A resource cap was reached; ``name`` goes into ``FileReport.limits_hit``."""

    def __init__(self, name: str, detail: str = "") -> None:
        super().__init__(f"{name}: {detail}" if detail else name)
        self.name = name


Nested = Callable[["Ctx", bytes, "str | None", str], "str | None"]
"""The engine's screening of an embedded part: ``(ctx, data, claimed name, locator) -> type``."""


def join(prefix: str, part: str) -> str:
    """Build a locator path: ``zip member a.png > webp VP8L code#4``."""
    return f"{prefix} > {part}" if prefix else part


class Ctx:
    """Mutable state of one screening run: collected findings, errors, limits and budgets.

    One ``Ctx`` is shared by the whole recursion over a file's embedded parts, so the decompression
    budget and the deadline cover the file as a whole, not each member separately.
    """

    def __init__(self, limits: Limits, nested: Nested | None = None) -> None:
        self.limits = limits
        # The engine's recursion, handed down so that the format scanners never import the engine
        # that dispatches to them.
        self._nested = nested
        self.findings: list[PayloadFinding] = []
        self.errors: list[str] = []
        self.limits_hit: list[str] = []
        self.decompressed = 0
        self.deadline = time.monotonic() + limits.seconds
        self.depth = 0
        # Sub-types discovered while walking (e.g. TIFF -> DNG, ZIP -> pkpass), keyed by locator.
        self.refined: dict[str, str] = {}
        self._ticks = 0

    def add(
        self,
        rule: str,
        severity: Severity,
        message: str,
        locator: str,
        *,
        cve: str | None = None,
        **evidence: Any,
    ) -> None:
        """Record a finding."""
        self.findings.append(PayloadFinding(rule, severity, message, cve, locator, dict(evidence)))

    def scan_nested(self, data: bytes, name: str | None, locator: str) -> str | None:
        """Screen an embedded part (container member, PDF embedded file, appended archive) with the
        engine that created this context; returns the part's detected type."""
        if self._nested is None:
            self.error(f"{locator}: not screened (no engine to recurse with)")
            return None
        return self._nested(self, data, name, locator)

    def error(self, text: str) -> None:
        """Record a parse problem that is not itself a finding."""
        if text not in self.errors and len(self.errors) < 100:
            self.errors.append(text)

    def hit(self, name: str) -> None:
        """Record that a resource cap cut the screening short."""
        if name not in self.limits_hit:
            self.limits_hit.append(name)

    def tick(self, n: int = 1) -> None:
        """Cheap cooperative deadline check for loops over attacker-controlled counts."""
        self._ticks += n
        if self._ticks >= 4096:
            self._ticks = 0
            if time.monotonic() > self.deadline:
                raise LimitExceeded("time", f"over {self.limits.seconds:g} s")

    def charge(self, nbytes: int) -> None:
        """Account decompressed bytes against the per-file budget."""
        self.decompressed += nbytes
        if self.decompressed > self.limits.max_decompressed_bytes:
            raise LimitExceeded("decompressed-bytes", f"over {self.limits.max_decompressed_bytes} bytes")

    def remaining_decompress(self) -> int:
        """How many more decompressed bytes this file may produce."""
        return max(0, self.limits.max_decompressed_bytes - self.decompressed)


@dataclass
class ScreenSummary:
    """What a screening run adds up to: files, bytes, findings per severity, files with problems."""

    files: int
    bytes: int
    by_severity: dict[str, int]
    worst: Severity | None
    with_errors: int

    def at_or_above(self, level: Severity) -> bool:
        """Whether any finding is at or above ``level``."""
        return self.worst is not None and self.worst.rank >= level.rank


def summarise(reports: list[FileReport]) -> ScreenSummary:
    """Totals over the reports of one screening run (what ``scan-files`` prints and exits on)."""
    counts = {level.value: 0 for level in Severity}
    worst: Severity | None = None
    for report in reports:
        for finding in report.findings:
            counts[finding.severity.value] += 1
            if worst is None or finding.severity.rank > worst.rank:
                worst = finding.severity
    return ScreenSummary(
        files=len(reports),
        bytes=sum(r.size for r in reports),
        by_severity=counts,
        worst=worst,
        with_errors=sum(1 for r in reports if r.errors or r.limits_hit),
    )
