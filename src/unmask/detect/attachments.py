"""Screening the files that records declare as content (message attachments, WhatsApp media).

Records name their files through a :class:`~unmask.model.Content` declaration; this stage maps
each to the evidence's copy, screens them all in worker processes (``detect/payloads``), and
turns every structural finding into a :class:`~unmask.model.Finding` that says which message,
sender and time delivered the file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from unmask.acquisition.base import Acquisition
from unmask.detect.payloads import DEFAULT_LIMITS, FileReport, Limits, ScreenItem, escalate, screen_files
from unmask.errors import ArtefactError
from unmask.model import Finding, Obs, Observable, Record

_EXPLANATION = (
    "Zero-click exploits such as FORCEDENTRY, BLASTPASS and Triangulation arrived as message "
    "attachments whose internal structure is malformed in a specific way; this file has such a "
    "structure."
)
_BENIGN = (
    "Damaged or unusual files from ordinary apps can look odd; a structural finding is a reason to "
    "preserve the file and have it analysed, not proof of an attack by itself."
)


@dataclass
class ScreenedContent:
    """One screened file and the records that point at it."""

    device_path: str
    records: list[Record]
    report: FileReport


def _field(record: Record, name: str | None) -> str | None:
    if name is None:
        return None
    value = getattr(record, name, None)
    return value if isinstance(value, str) and value else None


def collect(acq: Acquisition, records: Sequence[Record]) -> dict[str, list[Record]]:
    """Device paths of stored content files → the records that declare them."""
    found: dict[str, list[Record]] = {}
    for record in records:
        spec = type(record).content
        if spec is None:
            continue
        path = _field(record, spec.path)
        if path is None:
            continue
        try:
            entry = acq.entry(path)
            key = entry.device_path if entry is not None else path
            stored = acq.exists(key)
        except ArtefactError:
            continue  # the acquisition's index is damaged here; the parsers' coverage says so
        if stored:
            found.setdefault(key, []).append(record)
    return found


def _attachments_tree(device_path: str) -> str:
    # Every iOS attachment sits in its own hashed sub-folder; copies of one exploit file are
    # spread across them, so escalation groups by the whole attachments tree.
    for marker in ("/Library/SMS/Attachments/", "/Message/Media/", "/Media/"):
        if marker in device_path:
            return device_path.split(marker, 1)[0] + marker
    return device_path.rsplit("/", 1)[0]


def screen_content(
    acq: Acquisition,
    records: Sequence[Record],
    *,
    workers: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Finding], list[ScreenedContent]]:
    """Screen every stored file that records declare as content; findings carry message context."""
    targets = collect(acq, records)
    if not targets:
        return [], []
    paths: list[str] = []
    items: list[ScreenItem] = []
    for device_path in sorted(targets):
        first = targets[device_path][0]
        spec = type(first).content
        assert spec is not None
        try:
            local = acq.materialize(device_path)  # the screening workers read real files
        except (OSError, ArtefactError):
            continue
        paths.append(device_path)
        items.append(
            ScreenItem(Path(local), name=_field(first, spec.name) or device_path.rsplit("/", 1)[-1],
                       mime=_field(first, spec.mime))
        )
    done = 0

    def tick(_: FileReport) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(items))

    reports = screen_files(items, workers=workers, limits=limits, on_progress=tick)
    by_local = {str(item.path): device for item, device in zip(items, paths, strict=True)}
    reports = escalate(reports, group_by=lambda r: _attachments_tree(by_local.get(r.path, r.path)))
    screened: list[ScreenedContent] = []
    findings: list[Finding] = []
    for device_path, report in zip(paths, reports, strict=True):
        recs = targets[device_path]
        screened.append(ScreenedContent(device_path, recs, report))
        for pf in report.findings:
            for record in recs:
                findings.append(_finding(device_path, record, report, pf))
    return findings, screened


def _finding(device_path: str, record: Record, report: FileReport, pf: object) -> Finding:
    from unmask.detect.payloads import PayloadFinding

    assert isinstance(pf, PayloadFinding)
    spec = type(record).content
    sender = _field(record, spec.sender) if spec else None
    when = record.timestamp
    outgoing = getattr(record, "direction", None) == "sent"
    delivered = "sent" if outgoing else "delivered"
    if sender:
        delivered += f" to {sender}" if outgoing else f" by {sender}"
    if when:
        delivered += f" on {when:%Y-%m-%d %H:%M:%S} UTC"
    cve = f" ({pf.cve})" if pf.cve else ""
    return Finding(
        rule=pf.rule,
        severity=pf.severity,
        message=f"{pf.message}{cve} in {device_path.rsplit('/', 1)[-1]}, {delivered} [{pf.locator}]",
        source=record.kind,
        device_path=device_path,
        locator=record.locator,
        timestamp=when,
        observable=Observable(Obs.SHA256, report.sha256, "content"),
        explanation=_EXPLANATION,
        benign=_BENIGN,
        reference=pf.cve or "",
        sha256=report.sha256,
        record=record,
    )
