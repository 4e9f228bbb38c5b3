"""The output folder: records per parser, alerts.json, timeline.csv, alerts_timeline.csv, info.json.

``alerts.json`` is a contract other tools parse; see docs/alerts.md.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unmask.model import Finding, Record

if TYPE_CHECKING:
    from unmask.api import ScanResult

TIMELINE_HEADER = ("UTC Timestamp", "Plugin", "Event", "Description")
ALERTS_TIMELINE_HEADER = ("Event Time", "Module", "Severity", "Rule", "Message", "Event")


def csv_time(value: datetime) -> str:
    """Timestamps in the CSV timelines: UTC, sortable, MVT's ``YYYY-MM-DD HH:MM:SS.ffffff`` form."""
    return value.isoformat(" ", "microseconds")[:26]


def dump_json(path: Path, value: Any) -> None:
    """Write JSON atomically (a .part file renamed into place), indented for people."""
    tmp = path.with_suffix(path.suffix + ".part")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(value, handle, ensure_ascii=False, indent=1, default=str)
        handle.write("\n")
    tmp.replace(path)


def read_json(path: Path) -> Any:
    """Read a JSON file of a saved output folder; a missing or broken file is a one-line UsageError."""
    from unmask.errors import UsageError

    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise UsageError(f"{path.parent}: not an unmask output folder ({path.name} is missing)") from None
    except (OSError, UnicodeDecodeError, RecursionError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from None


def write_records(result: ScanResult, folder: Path) -> list[str]:
    """One ``<parser>.json`` per parser that yielded records; returns the file names."""
    written: list[str] = []
    for parser, records in result.records.items():
        if not records:
            continue
        name = f"{parser}.json"
        tmp = folder / (name + ".part")
        encoder = json.JSONEncoder(ensure_ascii=False, default=str)
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write("[\n")
            for start in range(0, len(records), 4096):
                # One C-encoded chunk per few thousand records, one record per line for readers.
                chunk = [encoder.encode(r.to_json()) for r in records[start : start + 4096]]
                if start:
                    handle.write(",\n")
                handle.write(",\n".join(chunk))
            handle.write("\n]\n")
        tmp.replace(folder / name)
        written.append(name)
    return written


def alerts_json(findings: list[Finding]) -> list[dict[str, Any]]:
    """The alerts.json array."""
    return [f.to_json() for f in findings]


def timeline_rows(records: dict[str, list[Record]]) -> Iterator[tuple[str, str, str, str]]:
    """Every record timestamp as a timeline row; identical times of one record appear once."""
    for parser, recs in records.items():
        for record in recs:
            stamps = list(record.timestamps())
            if not stamps:
                continue
            description = record.describe()
            kind = record.kind
            seen: set[datetime] = set()
            for name, ts in stamps:
                if ts not in seen:
                    seen.add(ts)
                    yield csv_time(ts), parser, f"{kind} {name}", description


def write_timeline(result: ScanResult, folder: Path) -> None:
    """timeline.csv (all records) and alerts_timeline.csv (findings with a time), sorted by time."""
    rows = sorted(timeline_rows(result.records))
    with (folder / "timeline.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(TIMELINE_HEADER)
        writer.writerows(rows)
    parser_of = {id(r): p for p, recs in result.records.items() for r in recs} if result.findings else {}
    alert_rows = sorted(
        (
            csv_time(f.timestamp),
            parser_of.get(id(f.record), f.source),
            f.severity.value,
            f.rule,
            f.message,
            json.dumps(f.record.to_json() if f.record is not None else {}, ensure_ascii=False, default=str),
        )
        for f in result.findings
        if f.timestamp is not None
    )
    with (folder / "alerts_timeline.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(ALERTS_TIMELINE_HEADER)
        writer.writerows(alert_rows)


def info_json(result: ScanResult) -> dict[str, Any]:
    """info.json: tool, evidence with hashes, indicator sets with hashes and counts, coverage, verdict."""
    from unmask.api import tool_info

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
        },
        "indicator_sets": [s.to_json() for s in result.indicator_sets.sets],
        "indicators_loaded": len(result.indicator_sets.indicators),
        "coverage": [c.to_json() for c in result.coverage],
        "extra": {k: v for k, v in result.extra.items() if k != "screened_files"},
    }


def write_all(result: ScanResult, folder: Path) -> list[str]:
    """Write every output file into ``folder`` (created if needed); returns the names written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = write_records(result, folder)
    dump_json(folder / "alerts.json", alerts_json(result.findings))
    screened = result.extra.get("screened_files")
    if screened:
        dump_json(folder / "screened_files.json", screened)
        written.append("screened_files.json")
    write_timeline(result, folder)
    dump_json(folder / "info.json", info_json(result))
    from unmask.report.html import write_report  # last: the report is built from the files above

    write_report(folder)
    return [*written, "alerts.json", "timeline.csv", "alerts_timeline.csv", "info.json", "report.html"]
