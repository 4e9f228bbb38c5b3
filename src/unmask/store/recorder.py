"""Recording a scan into a case: the second sink of :func:`unmask.api.scan_acquisition`.

The scan hands every batch of records to :meth:`CaseRecorder.add` right after detection has seen
it, with the findings that batch produced. The recorder numbers the records in the order the
output writer saves them (so record ``n`` of a parser is line ``n`` of ``<parser>.json``), expands
each record's observables into keyed lookup keys (:mod:`unmask.store.keys`), and writes keys and
locators (record number, sealed device path, time) in bulk every ``flush`` keys: memory stays flat
however large the evidence. :meth:`finish` stores the findings, each with the record it came from,
so that a re-hunt knows which (record, indicator) pairs were already reported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from unmask import __version__, timeutil
from unmask.acquisition.base import Acquisition
from unmask.detect.indicators.match import RULE as INDICATOR_RULE
from unmask.detect.indicators.sets import IndicatorSets
from unmask.model import Finding, Record
from unmask.recheck import finding_key
from unmask.results import ScanResult
from unmask.store.db import Store
from unmask.store.keys import indicator_fingerprint, record_keys
from unmask.store.secret import Keys

FLUSH = 200_000
"""Lookup keys buffered before a bulk write."""


def evidence_fingerprint(kind: str, hashes: dict[str, str]) -> str:
    """One SHA-256 for an acquisition's evidence: its kind and the hashes of its own files."""
    return hashlib.sha256(json.dumps({"kind": kind, "hashes": hashes}, sort_keys=True).encode()).hexdigest()


def indicators_fingerprint(sets: IndicatorSets) -> str:
    """One SHA-256 for the indicator sets of a scan (their files' hashes, in any order)."""
    return hashlib.sha256("\n".join(sorted(s.sha256 for s in sets.sets)).encode()).hexdigest()


def device_of(metadata: dict[str, Any]) -> str:
    """The device as the store keeps it in the clear: model and OS version only (never its name,
    serial number, phone number or identifiers)."""
    model = metadata.get("product_type") or metadata.get("model") or ""
    version = metadata.get("ios_version") or metadata.get("android_version") or metadata.get("os_version")
    os_name = "iOS" if metadata.get("ios_version") else "Android" if metadata.get("android_version") else ""
    return " ".join(str(x) for x in (model, f"{os_name} {version}".strip() if version else "") if x)


def _micros(when: datetime | None) -> int | None:
    if when is None:
        return None
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def finding_row(keys: Keys, acquisition_id: int, finding: Finding, record_no: int | None, origin: str,
                recheck: str | None = None) -> dict[str, Any]:
    """A ``findings`` row: rule, severity and times in the clear; the alert itself sealed."""
    alert = finding.to_json()
    alert.pop("record", None)  # the record is in the output folder; the store points to it
    if finding.record is not None:
        alert["record_kind"] = finding.record.kind
    indicator = finding.indicator
    return {
        "acquisition_id": acquisition_id,
        "fingerprint": keys.fingerprint("finding", *finding_key(finding.to_json())),
        "record_no": record_no,
        "indicator": indicator_fingerprint(keys, indicator)
        if indicator is not None and finding.rule == INDICATOR_RULE else None,
        "rule": finding.rule[:100],
        "severity": finding.severity.value,
        "timestamp": finding.timestamp,
        "found": timeutil.now(),
        "origin": origin,
        "recheck": keys.seal(recheck, "output") if recheck else None,
        "sealed": keys.seal(json.dumps(alert, ensure_ascii=False, default=str), "finding"),
    }


class CaseRecorder:
    """Writes one acquisition's lookup keys, locators and findings into the store as a scan runs."""

    def __init__(self, store: Store, acquisition_id: int, *, flush: int = FLUSH, owns_store: bool = False) -> None:
        self.store = store
        self.owns_store = owns_store
        self.keys = store.keys
        self.acquisition_id = acquisition_id
        self.flush_at = flush
        self.records = 0
        self.key_count = 0
        self._parser: str | None = None
        self._parser_first = 0
        self._path: str | None = None
        self._path_id = -1
        self._keys: list[tuple[int, int, int]] = []
        self._locators: list[tuple[int, int, int, int | None]] = []
        self._paths: list[tuple[int, int, bytes]] = []
        self._parsers: list[tuple[int, int, int, str]] = []
        self._record_no: dict[int, int] = {}  # id(record) → number, for records that have findings

    @classmethod
    def begin(cls, store: Store, case: str, acq: Acquisition, sets: IndicatorSets, output: str | None,
              evidence_hashes: dict[str, str] | None = None, owns_store: bool = False) -> CaseRecorder:
        """Register the acquisition in ``case`` and return its recorder."""
        hashes = evidence_hashes if evidence_hashes is not None else acq.evidence_hashes()
        collected = acq.collected()
        acquisition_id = store.begin_acquisition(
            case, kind=acq.kind, device=device_of(acq.metadata()), evidence_sha256=evidence_fingerprint(acq.kind, hashes),
            hashes=hashes, indicators_sha256=indicators_fingerprint(sets), tool_version=__version__,
            acquired=collected, evidence=str(acq.root), output=output,
        )
        return cls(store, acquisition_id, owns_store=owns_store)

    def add(self, parser: str, records: Sequence[Record], findings: Iterable[Finding] = ()) -> None:
        """Take one batch of a parser's records (in output order) and the findings it produced."""
        if parser != self._parser:
            self._close_parser()
            self._parser, self._parser_first = parser, self.records
        first = self.records
        acq = self.acquisition_id
        keys, locators = self._keys, self._locators
        for i, record in enumerate(records):
            found = record_keys(self.keys, record)
            if not found:
                continue
            number = first + i
            if record.device_path != self._path:
                self._path = record.device_path
                self._path_id += 1
                self._paths.append((acq, self._path_id, self.keys.seal(record.device_path, "path")))
            locators.append((acq, number, self._path_id, _micros(record.timestamp)))
            keys.extend((key, acq, number) for key in found)
        self.records += len(records)
        positions: dict[int, int] | None = None
        for finding in findings:
            if finding.record is None:
                continue
            if positions is None:
                positions = {id(r): first + i for i, r in enumerate(records)}
            position = positions.get(id(finding.record))
            if position is not None:
                self._record_no[id(finding.record)] = position
        if len(keys) >= self.flush_at:
            self._flush()

    def end(self, parser: str) -> None:
        """A parser is done (its range of record numbers is complete)."""
        if parser == self._parser:
            self._close_parser()
            self._parser = None

    def _close_parser(self) -> None:
        if self._parser is not None and self.records > self._parser_first:
            self._parsers.append((self.acquisition_id, self._parser_first, self.records - self._parser_first,
                                  self._parser))

    def _flush(self) -> None:
        self.key_count += len(self._keys)
        self.store.add_rows(self.acquisition_id, keys=self._keys, locators=self._locators, paths=self._paths,
                            parsers=self._parsers)
        self._keys, self._locators, self._paths, self._parsers = [], [], [], []

    def finish(self, result: ScanResult) -> None:
        """Write what is buffered and the scan's findings; mark the acquisition scanned."""
        self._close_parser()
        self._parser = None
        self._flush()
        rows = [finding_row(self.keys, self.acquisition_id, f, self._record_no.get(id(f.record)) if f.record else None,
                            "scan") for f in result.findings]
        self.store.add_findings(rows)
        self.store.end_acquisition(self.acquisition_id, records=self.records, keys=self.key_count)
        self._record_no.clear()

    def release(self) -> None:
        """Close the store when the recorder opened it."""
        if self.owns_store:
            self.store.close()

    def fail(self, error: str) -> None:
        """The scan failed: keep the acquisition as failed, with the reason (sealed)."""
        try:
            self._close_parser()
            self._flush()
        finally:
            self.store.end_acquisition(self.acquisition_id, records=self.records, keys=self.key_count,
                                       status="failed", error=error)
