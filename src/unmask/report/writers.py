"""Writing the output folder: records per parser, alerts.json, timeline.csv, alerts_timeline.csv,
info.json. The format itself (names, headers, framing) is :mod:`unmask.report.outputs`; the report
page is written by the orchestrator afterwards (:func:`unmask.report.html.write_report`), from
these files.

``alerts.json`` is a contract other tools parse; see docs/alerts.md.
"""

from __future__ import annotations

import csv
import heapq
import json
import pickle
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from unmask.model import Finding, Record, WallClockRecord, time_fields
from unmask.parsers.registry import parser_of_kind
from unmask.report.outputs import (
    ALERTS_TIMELINE_HEADER,
    TIMELINE_HEADER,
    RecordsFile,
    csv_line,
    csv_time,
    dump_json,
    timeline_description,
)
from unmask.results import ScanResult, tool_info
from unmask.safetext import for_csv


def alerts_json(findings: list[Finding]) -> list[dict[str, Any]]:
    """The alerts.json array."""
    return [f.to_json() for f in findings]


def timeline_lines(parser: str, records: Iterable[Record]) -> Iterator[str]:
    """timeline.csv lines (:func:`csv_line` form) for every record timestamp; identical times of
    one record appear once.

    Built as strings here rather than through the csv module: a backup yields hundreds of
    thousands of rows, and lines sort and spill more cheaply than row tuples. The fixed-width
    time leads each line, so line order is time order.
    """
    plans: dict[type[Record], tuple[tuple[str, str], ...]] = {}
    clocked: set[type[Record]] = set()  # classes whose times may be inferred: their note joins the text
    plain: set[type[Record]] = set()
    stamps: dict[datetime, str] = {}
    for record in records:
        cls = type(record)
        plan = plans.get(cls)
        if plan is None:
            kind = cls.kind
            plan = plans[cls] = tuple(
                (name, f'","{parser}","{kind} {name}","') for name in time_fields(cls)
            )
        wall_clock = cls in clocked
        if wall_clock is False and cls not in plain:
            (clocked if issubclass(cls, WallClockRecord) else plain).add(cls)
            wall_clock = cls in clocked
        description: str | None = None
        seen: list[datetime] = []
        for name, middle in plan:
            ts = getattr(record, name)
            if ts is None or ts in seen:
                continue
            seen.append(ts)
            if description is None:
                text = timeline_description(record) if wall_clock else record.describe()
                description = for_csv(text).replace('"', '""') + '"\r\n'
            # Files of one app install or restore share their times: format each time once.
            stamp = stamps.get(ts)
            if stamp is None:
                stamp = stamps[ts] = csv_time(ts)
            yield '"' + stamp + middle + description


class TimelineSpool:
    """Timeline rows gathered while records stream by, written sorted with bounded memory.

    Lines are kept in memory up to ``limit``; beyond that each full buffer is sorted and spilled to
    an anonymous temporary file as pickled chunks, and :meth:`sorted_rows` merges the runs. A
    200,000-file backup yields a quarter of a million rows, which would otherwise all be held
    until the end of the scan.
    """

    CHUNK = 8192

    def __init__(self, limit: int = 50_000, folder: Path | None = None) -> None:
        self.limit = limit
        self.folder = folder
        self.count = 0
        self._rows: list[str] = []
        self._runs: list[tuple[int, int]] = []  # (offset, chunks) in the spill file
        self._spill: IO[bytes] | None = None

    def add(self, rows: Iterable[str]) -> None:
        """Add timeline lines (any order)."""
        buffer = self._rows
        before = len(buffer)
        buffer.extend(rows)
        self.count += len(buffer) - before
        if len(buffer) >= self.limit:
            self._spill_run()

    def _spill_run(self) -> None:
        rows = self._rows
        rows.sort()
        if self._spill is None:

            # the rows are evidence text
            self._spill = tempfile.TemporaryFile(prefix="unmask-timeline-", dir=self.folder)  # noqa: SIM115
        spill = self._spill
        spill.seek(0, 2)
        offset = spill.tell()
        chunks = 0
        for start in range(0, len(rows), self.CHUNK):
            pickle.dump(rows[start : start + self.CHUNK], spill, protocol=pickle.HIGHEST_PROTOCOL)
            chunks += 1
        self._runs.append((offset, chunks))
        self._rows = []

    def _run(self, offset: int, chunks: int) -> Iterator[str]:
        spill = self._spill
        assert spill is not None
        for _ in range(chunks):
            spill.seek(offset)
            chunk: list[str] = pickle.load(spill)
            offset = spill.tell()
            yield from chunk

    def sorted_rows(self) -> Iterator[str]:
        """Every line added, in order (by time first, as the time leads each line)."""
        self._rows.sort()
        if not self._runs:
            return iter(self._rows)
        runs = [self._run(offset, chunks) for offset, chunks in self._runs]
        return heapq.merge(*runs, self._rows)

    def close(self) -> None:
        """Release the spill file."""
        if self._spill is not None:
            self._spill.close()
            self._spill = None
        self._rows = []


def write_timeline(result: ScanResult, folder: Path, spool: TimelineSpool | None = None) -> None:
    """timeline.csv (all records) and alerts_timeline.csv (findings with a time), sorted by time.

    ``spool`` holds the rows of records already streamed out of memory; without it the rows come
    from ``result.records``.
    """
    if spool is None:
        spool = TimelineSpool()
        for parser, recs in result.records.items():
            spool.add(timeline_lines(parser, recs))
    try:
        with (folder / "timeline.csv").open("w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(csv_line(TIMELINE_HEADER))
            handle.writelines(spool.sorted_rows())
    finally:
        spool.close()
    parser_of = parser_of_kind() if result.findings else {}
    alert_rows = sorted(
        (
            csv_time(f.timestamp),
            parser_of.get(f.record.kind, f.source) if f.record is not None else f.source,
            f.severity.value,
            for_csv(f.rule),
            for_csv(f.message),
            json.dumps(f.record.to_json() if f.record is not None else {}, ensure_ascii=False, default=str),
        )
        for f in result.findings
        if f.timestamp is not None
    )
    with (folder / "alerts_timeline.csv").open("w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(ALERTS_TIMELINE_HEADER)
        writer.writerows(alert_rows)


def info_json(result: ScanResult) -> dict[str, Any]:
    """info.json: tool, evidence with hashes, indicator sets with hashes and counts, coverage, verdict."""
    v = result.verdict()
    return {
        "tool": tool_info(),
        "command": result.command,
        "started": result.started.isoformat(),
        "finished": result.finished.isoformat(),
        "verdict": {"level": v.level, "headline": v.headline, "families": v.families, "detail": v.detail},
        "alerts_by_severity": result.counts(),
        "evidence": {
            "path": result.evidence_path,
            "kind": result.acquisition_kind,
            "metadata": result.metadata,
            "hashes": result.evidence_hashes,
            "artefacts_read": result.artefact_hashes,
            "refused": result.refused,
            **({"with": result.acquisitions} if result.acquisitions else {}),
        },
        "indicator_sets": [s.to_json() for s in result.indicator_sets.sets],
        "indicators_loaded": len(result.indicator_sets.indicators),
        "coverage": [c.to_json() for c in result.coverage],
        "extra": {k: v for k, v in result.extra.items() if k != "screened_files"},
    }


class OutputWriter:
    """The output folder, filled while a scan runs: records and timeline rows stream in per
    parser (:meth:`add`), everything that needs the whole scan is written by :meth:`finish`.

    ``records=False`` writes no ``<parser>.json`` (a recheck rebuilds the timelines from records
    that are already saved).
    """

    def __init__(self, folder: Path, *, records: bool = True, spool_dir: Path | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.spool = TimelineSpool(folder=spool_dir)
        self.records = records
        self._files: dict[str, RecordsFile] = {}
        self._written: list[str] = []

    def add(self, parser: str, records: Sequence[Record]) -> None:
        """Write a batch of one parser's records and keep their timeline rows."""
        if not records:
            return
        if self.records:
            out = self._files.get(parser)
            if out is None:
                out = self._files[parser] = RecordsFile(self.folder, parser)
            out.write(records)
        self.spool.add(timeline_lines(parser, records))

    def end(self, parser: str) -> None:
        """A parser is done: its records file is complete."""
        out = self._files.pop(parser, None)
        if out is not None:
            out.close()
            self._written.append(out.name)

    def finish(self, result: ScanResult) -> list[str]:
        """Write alerts, timelines and info.json; returns every file name written."""
        for parser in list(self._files):
            self.end(parser)
        folder = self.folder
        written = list(self._written)
        dump_json(folder / "alerts.json", alerts_json(result.findings))
        screened = result.extra.get("screened_files")
        if screened:
            dump_json(folder / "screened_files.json", screened)
            written.append("screened_files.json")
        write_timeline(result, folder, self.spool)
        dump_json(folder / "info.json", info_json(result))
        return [*written, "alerts.json", "timeline.csv", "alerts_timeline.csv", "info.json"]

    def abort(self) -> None:
        """Remove unfinished files after a failed scan."""
        for out in self._files.values():
            out.abort()
        self._files.clear()
        self.spool.close()


def write_all(result: ScanResult, folder: Path) -> list[str]:
    """Write every output file of an in-memory result into ``folder`` (created if needed), except
    the report page, which :func:`unmask.report.html.write_report` builds from them."""
    writer = OutputWriter(folder)
    for parser, records in result.records.items():
        for start in range(0, len(records), 4096):
            writer.add(parser, records[start : start + 4096])
        writer.end(parser)
    return writer.finish(result)
