"""report.html: one self-contained page that a journalist, a lawyer or a helpline can read.

The page is built only from what an output folder holds (``info.json``, ``alerts.json`` and
``timeline.csv``), so ``unmask report DIR`` rebuilds exactly the page the scan wrote, and a folder
written by an older run, or by ``unmask recheck``, renders the same way. Nothing here matches,
scores or judges: the verdict, severities and explanations come from the scan; this module only
arranges them for a human reader.

Self-contained means: CSS and JavaScript inline, no fonts, images or scripts from anywhere else,
and a Content-Security-Policy that forbids the browser from loading anything at all. The inline
script and style are allowed by their SHA-256 hashes, so even a message text crafted to look like
markup could never run as script in the report.

Size: a backup can hold hundreds of thousands of records. The report embeds the findings and only
the records close in time to them (:data:`CONTEXT_WINDOW`, at most :data:`CONTEXT_PER_FINDING` per
finding time and :data:`CONTEXT_TOTAL` overall); ``timeline.csv`` keeps everything.
"""

from __future__ import annotations

import base64
import csv
import functools
import hashlib
import heapq
import json
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from unmask import timeutil
from unmask.errors import UsageError
from unmask.model import Severity
from unmask.parsers.registry import parser_of_kind, record_from_json
from unmask.report.charts import read_history
from unmask.report.outputs import csv_time, output_file, parse_csv_time, read_json, timeline_description
from unmask.safetext import from_csv

REPORT_NAME = "report.html"
CONTEXT_WINDOW = timedelta(minutes=30)
"""Records this close in time to a finding are shown around it on the timeline."""
CONTEXT_PER_FINDING = 60
"""At most this many records (the nearest in time) around each distinct finding time."""
CONTEXT_TOTAL = 2500
"""At most this many context records in one report, shared fairly between the finding times."""

_TEMPLATES = "templates"

# What each severity means for someone who is not a forensic analyst. The levels themselves are
# decided by the detectors (see docs/alerts.md); these sentences only translate them.
SEVERITY_MEANING = {
    "critical": "A trace of the spyware itself on the phone: the strongest kind of evidence.",
    "high": "Contact with known spyware infrastructure, or a strong warning sign. Needs expert review.",
    "medium": "Suspicious; can have an innocent cause. Needs expert review.",
    "low": "Worth knowing (a setting, an old system version); not a sign of infection by itself.",
    "info": "For the record; not a sign of infection.",
}

# How sure an indicator match is, by its severity: critical matches are the spyware's own traces
# (process names, file paths, hashes, app ids), high ones contact with its infrastructure.
_CERTAINTY = {
    "critical": "Very strong evidence: a trace of the spyware itself (a program, file or app) was on the phone.",
    "high": "Strong evidence: the phone was in contact with a web address, server or account the spyware uses.",
}

# A plain title for an indicator match, by the STIX type of the observable.
_TRACE_TITLE = (
    (("process:name",), "A program known from {family} ran on the phone"),
    (("file:path", "file:name"), "A file known from {family} was on the phone"),
    (("app:cert.organization", "app:cert.common_name"), "An app signed by the maker of {family} was on the phone"),
    (("file:hashes.", "app:cert."), "A file matching a {family} fingerprint was on the phone"),
    (("app:id",), "An app linked to {family} was on the phone"),
    (("configuration-profile:id",), "A configuration profile linked to {family} was on the phone"),
    (("email-addr:value",), "An email address used by {family} appears on the phone"),
    (("domain-name:value", "url:value", "ipv4-addr:value", "ipv6-addr:value"),
     "A web address used by {family} appears on the phone"),
)

_RANK = {s.value: s.rank for s in Severity}

_STATUS_PLAIN = {
    "parsed": "Examined",
    "absent": "Not in this evidence",
    "unsupported": "Could not be read (format not recognised)",
    "failed": "Could not be read (error)",
}

_URL = re.compile(r"https?://[^\s<>\"')]+")


# --- reading the output folder ------------------------------------------------------------------


def read_results(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``info.json`` and ``alerts.json`` of an output folder, checked enough to render them.

    Raises :class:`UsageError` (one line, exit 2) when the folder is missing or is not an output
    folder.
    """
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such results folder")
    info = read_json(folder / "info.json")
    alerts = read_json(folder / "alerts.json")
    if not isinstance(info, dict) or not isinstance(info.get("verdict"), dict):
        raise UsageError(f"{folder / 'info.json'}: not an unmask info.json (no verdict)")
    if not isinstance(alerts, list) or not all(isinstance(a, dict) for a in alerts):
        raise UsageError(f"{folder / 'alerts.json'}: not an unmask alerts.json (expected a list of alerts)")
    return info, alerts


@dataclass
class ContextRow:
    """One timeline.csv row kept because it is close in time to a finding."""

    time: datetime
    parser: str
    kind: str
    field: str
    description: str
    is_finding_record: bool = False


@dataclass
class Context:
    """The records around the findings, and what was left out to keep the page small."""

    rows: list[ContextRow] = field(default_factory=list)
    in_windows: int = 0
    parser_of_kind: dict[str, str] = field(default_factory=dict)
    timeline_missing: bool = False


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_CSV_RECORD = 16 << 20


def _bounded(handle: Any) -> Iterator[str]:
    """The lines of a text file, a line longer than :data:`_MAX_CSV_RECORD` in pieces (never read whole)."""
    return iter(functools.partial(handle.readline, _MAX_CSV_RECORD), "")


def _csv_records(lines: Iterable[str]) -> Iterator[str]:
    """Whole CSV records from physical lines: a quoted field may hold line breaks, and a record
    is complete once its double quotes balance."""
    pending: list[str] = []
    pending_size = 0
    quotes = 0
    for line in lines:
        quotes += line.count('"')
        if quotes % 2:
            pending.append(line)
            pending_size += len(line)
            if pending_size > _MAX_CSV_RECORD:  # an unbalanced quote: drop it, not the memory
                pending, pending_size, quotes = [], 0, 0
            continue
        if pending:
            pending.append(line)
            line = "".join(pending)
            pending, pending_size = [], 0
        quotes = 0
        yield line
    if pending:
        yield "".join(pending)


def read_context(
    timeline: Path,
    anchors: Iterable[datetime],
    finding_rows: AbstractSet[tuple[str, str, str]] = frozenset(),
    *,
    window: timedelta = CONTEXT_WINDOW,
    per_anchor: int = CONTEXT_PER_FINDING,
    total: int = CONTEXT_TOTAL,
) -> Context:
    """Stream ``timeline.csv`` and keep the rows within ``window`` of any anchor time.

    Each distinct anchor keeps its ``per_anchor`` nearest rows (a bounded heap, so memory stays
    small however many rows fall in a window); then the anchors share ``total`` round-robin, nearest
    first, so one busy minute cannot crowd out every other finding. ``finding_rows`` holds
    ``(csv time, kind, description)`` of the findings' own records so they can be marked.
    """
    ctx = Context()
    times = sorted(set(anchors))
    try:
        output_file(timeline, None)
    except UsageError:
        ctx.timeline_missing = True
        return ctx
    keys = [csv_time(t) for t in times]
    # Timestamps in timeline.csv are fixed-width UTC strings, so string order is time order and a
    # row can be placed against the windows without parsing it.
    los = [csv_time(t - window) for t in times]
    his = [csv_time(t + window) for t in times]
    heaps: list[list[tuple[float, int, ContextRow]]] = [[] for _ in times]
    seq = 0
    ctx.parser_of_kind = parser_of_kind()
    try:
        with timeline.open(encoding="utf-8", newline="") as handle:
            handle.readline()  # header
            last_stamp, when, refused = "", _EPOCH, ""
            for text in _csv_records(_bounded(handle)) if times else ():
                # Lines written by unmask start with the quoted fixed-width time: a row is placed
                # against the windows, and against the rows each window already holds, from that
                # slice alone; only rows that will be kept are parsed as CSV.
                if text.startswith('"') and text[27:28] == '"':
                    stamp = text[1:27]
                    lo, hi = bisect_left(his, stamp), bisect_right(los, stamp)
                    if lo >= hi:
                        continue
                    if stamp != last_stamp:
                        try:
                            when = parse_csv_time(stamp)
                        except ValueError:
                            continue
                        last_stamp = stamp
                    ctx.in_windows += 1
                    # Heaps only fill up and draw nearer, so a time refused once stays refused:
                    # files of one install or restore share a time, thousands of rows in a row.
                    if stamp == refused:
                        continue
                    if not any(
                        len(heaps[a]) < per_anchor or abs((when - times[a]).total_seconds()) < -heaps[a][0][0]
                        for a in range(lo, hi)
                    ):
                        refused = stamp
                        continue
                    counted = True
                else:
                    counted = False
                row = next(csv.reader([text]), [])
                if len(row) < 4:
                    continue
                stamp, parser, event, description = row[0], row[1], row[2], from_csv(row[3])
                kind, _, fld = event.partition(" ")
                lo, hi = bisect_left(his, stamp), bisect_right(los, stamp)
                if lo >= hi:
                    continue
                try:
                    when = parse_csv_time(stamp)
                except ValueError:
                    continue
                last_stamp = stamp
                if not counted:
                    ctx.in_windows += 1
                seq += 1
                item = ContextRow(when, parser, kind, fld, description,
                                  (stamp, kind, description) in finding_rows and stamp in keys[lo:hi])
                for a in range(lo, hi):
                    distance = abs((when - times[a]).total_seconds())
                    heap = heaps[a]
                    if len(heap) < per_anchor:
                        heapq.heappush(heap, (-distance, seq, item))
                    elif distance < -heap[0][0]:
                        heapq.heapreplace(heap, (-distance, seq, item))
    except (OSError, UnicodeDecodeError, csv.Error):
        ctx.timeline_missing = True
        return ctx
    nearest = [[entry[2] for entry in sorted(heap, key=lambda e: (-e[0], e[1]))] for heap in heaps]
    chosen: dict[int, ContextRow] = {}
    depth = 0
    while len(chosen) < total and any(depth < len(n) for n in nearest):
        for rows in nearest:
            if depth < len(rows) and len(chosen) < total:
                chosen.setdefault(id(rows[depth]), rows[depth])
        depth += 1
    ctx.rows = sorted(chosen.values(), key=lambda r: (r.time, r.parser, r.field, r.description))
    return ctx


# --- the view: what the template shows -----------------------------------------------------------


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


@dataclass(frozen=True)
class Clock:
    """How the page writes a time: UTC always, and the phone's local time beside it when the
    evidence recorded the device's time zone (``evidence.metadata.timezone`` in info.json: an IANA
    name such as ``Europe/Paris`` from Android's ``persist.sys.timezone``, or a UTC offset such as
    ``-0500`` from a sysdiagnose's name). The zone is read by :func:`unmask.timeutil.zone`, like
    every device zone; a name it does not know is reported and times stay in UTC only."""

    name: str = ""
    zone: tzinfo | None = None

    @classmethod
    def of(cls, info: dict[str, Any]) -> Clock:
        """The clock of a saved scan, from its info.json."""
        meta = (info.get("evidence") or {}).get("metadata") or {}
        name = meta.get("timezone") if isinstance(meta, dict) else None
        if not isinstance(name, str) or not name.strip():
            return cls()
        name = name.strip()[:64]
        return cls(name, timeutil.zone(name))

    @property
    def label(self) -> str:
        """The zone as the page names it: the device's own name (``Europe/Paris``, ``UTC-05:00``)."""
        if self.zone is UTC:
            return "UTC"
        if isinstance(self.zone, timezone):  # a fixed offset
            return "UTC" + _offset(self.zone.utcoffset(None))
        return self.name

    def local(self, value: datetime | None) -> str:
        """The local wall-clock time of an instant (``2024-05-02 12:00:00``), or ``""``."""
        if value is None or self.zone is None:
            return ""
        return value.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def annotate(self, value: Any) -> str:
        """A value as text; a complete ISO time (with its offset) gets the local time beside it."""
        text = str(value if value is not None else "")
        if self.zone is not None and isinstance(value, str):
            found = timeutil.parse_iso(value)
            if found is not None and not found.inferred:
                return f"{text} ({self.local(found.value)} local time)"
        return text

    def beside(self, value: datetime | None) -> str:
        """UTC, and the local time beside it with the zone and its offset at that instant:
        ``2024-05-02 10:00:00 UTC (12:00:00 local time, Europe/Paris UTC+02:00)``."""
        if value is None:
            return ""
        text = _when(value)
        if self.zone is None:
            return text
        here = value.astimezone(self.zone)
        shown = here.strftime("%H:%M:%S") if here.date() == value.astimezone(UTC).date() else self.local(value)
        zone = self.label if self.label.startswith("UTC") else f"{self.label} UTC{_offset(here.utcoffset())}"
        return f"{text} ({shown} local time, {zone})"


def _offset(delta: timedelta | None) -> str:
    """``+02:00``, ``-05:30``."""
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _iso(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def plain(docstring_text: str) -> str:
    """A parser's description without the reStructuredText literal quotes of its docstring."""
    return docstring_text.replace("``", "")


def short_label(description: str, fallback: str) -> str:
    """A short plain name for a parser from the first words of its description.

    Parsers describe themselves in their docstring ("SMS and iMessage messages from sms.db, with
    …"); the part before the first parenthesis, colon or "from" is a readable name for the first
    screen (the shortest such head of at least 12 characters), and the coverage table shows the
    whole sentence. The reStructuredText quotes of docstrings (````getprop````) are dropped.
    """
    text = plain(description).strip().rstrip(".")
    heads = [text.split(cut, 1)[0].strip().rstrip(",") for cut in (" (", ":", " from ", ", with") if cut in text]
    heads = [h for h in heads if len(h) >= 12]
    if heads:
        text = min(heads, key=len)
    if len(text) > 70 and len(text.split(",", 1)[0]) >= 12:
        text = text.split(",", 1)[0]
    return text or fallback


def _linkify(text: str) -> Markup:
    """Escape ``text`` and turn its http(s) URLs into plain anchors (navigation, never a load)."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        out.append(str(Markup.escape(text[last:match.start()])))
        url = Markup.escape(match.group(0))
        out.append(f'<a href="{url}" rel="noreferrer noopener">{url}</a>')
        last = match.end()
    out.append(str(Markup.escape(text[last:])))
    return Markup("".join(out))


@dataclass
class FindingView:
    """One finding, arranged for reading."""

    number: int
    severity: str
    meaning: str
    title: str
    message: str
    family: str
    time: datetime | None
    source: str
    parser: str
    artefact: str
    device_path: str
    locator: str
    sha256: str
    observable: dict[str, Any] | None
    indicator: dict[str, Any] | None
    set_sha256: str
    explanation: str
    benign: str
    reference: Markup
    record: list[tuple[str, str]]
    rule: str
    new: bool = False

    @property
    def when(self) -> str:
        """The time in plain UTC, or an empty string."""
        return _when(self.time)


def _trace_title(alert: dict[str, Any]) -> str:
    indicator = alert.get("indicator") or {}
    family = str(indicator.get("collection") or "a spyware campaign")
    obs_type = str((alert.get("observable") or {}).get("type") or indicator.get("type") or "")
    for prefixes, title in _TRACE_TITLE:
        if obs_type.startswith(prefixes):
            return title.format(family=family)
    return f"A trace known from {family} appears on the phone"


def _record_fields(record: Any) -> list[tuple[str, str]]:
    if not isinstance(record, dict):
        return []
    shown: list[tuple[str, str]] = []
    for key, value in record.items():
        if value in (None, "", [], {}):
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        shown.append((str(key), text if len(text) <= 2000 else text[:2000] + " …"))
    return shown


def _describe(record: Any) -> str | None:
    """The record's one-line description, as timeline.csv has it, to recognise its row there."""
    if not isinstance(record, dict):
        return None
    try:
        return timeline_description(record_from_json(record))
    except (KeyError, ValueError, TypeError):
        return None


def _finding_views(
    alerts: list[dict[str, Any]], info: dict[str, Any], parser_of_kind: dict[str, str], new: set[int]
) -> list[FindingView]:
    set_hash = {str(s.get("name")): str(s.get("sha256", "")) for s in info.get("indicator_sets") or []}
    labels = {str(c.get("parser")): short_label(str(c.get("description", "")), str(c.get("parser")))
              for c in info.get("coverage") or []}
    # A record kind without timestamps never appears in timeline.csv; the file it came from then
    # names its parser, when exactly one parser read that file.
    readers: dict[str, set[str]] = {}
    for c in info.get("coverage") or []:
        for a in c.get("artefacts") or []:
            readers.setdefault(str(a.get("device_path")), set()).add(str(c.get("parser")))
    views: list[FindingView] = []
    for i, alert in enumerate(alerts):
        severity = str(alert.get("severity", "info"))
        indicator = alert.get("indicator") if isinstance(alert.get("indicator"), dict) else None
        source = str(alert.get("source", ""))
        by_file = readers.get(str(alert.get("device_path")), set())
        parser = parser_of_kind.get(source) or (next(iter(by_file)) if len(by_file) == 1 else "")
        views.append(
            FindingView(
                number=i + 1,
                severity=severity,
                meaning=SEVERITY_MEANING.get(severity, ""),
                title=_trace_title(alert) if indicator else str(alert.get("message", "")),
                message=str(alert.get("message", "")),
                family=str(indicator.get("collection", "")) if indicator else "",
                time=_iso(alert.get("timestamp")),
                source=source,
                parser=parser,
                artefact=labels.get(parser, source),
                device_path=str(alert.get("device_path") or ""),
                locator=str(alert.get("locator") or ""),
                sha256=str(alert.get("sha256") or ""),
                observable=alert.get("observable") if isinstance(alert.get("observable"), dict) else None,
                indicator=indicator,
                set_sha256=(set_hash.get(str(indicator.get("file", ""))) or "") if indicator else "",
                explanation=str(alert.get("explanation") or ""),
                benign=str(alert.get("benign") or ""),
                reference=_linkify(str(alert.get("reference") or "")),
                record=_record_fields(alert.get("record")),
                rule=str(alert.get("rule", "")),
                new=i in new,
            )
        )
    return views


@dataclass
class FamilyView:
    """One spyware family named by the verdict, with how sure the evidence is."""

    name: str
    traces: int
    certainty: str
    findings: list[FindingView]


@dataclass
class CoverageView:
    """One parser's coverage row."""

    parser: str
    label: str
    description: str
    status: str
    plain: str
    records: int
    reason: str
    warnings: list[str]
    artefacts: list[dict[str, Any]]


def _coverage(info: dict[str, Any]) -> list[CoverageView]:
    rows: list[CoverageView] = []
    for c in info.get("coverage") or []:
        status = str(c.get("status", ""))
        rows.append(
            CoverageView(
                parser=str(c.get("parser", "")),
                label=short_label(str(c.get("description", "")), str(c.get("parser", ""))),
                description=plain(str(c.get("description", ""))),
                status=status,
                plain=_STATUS_PLAIN.get(status, status),
                records=int(c.get("records") or 0),
                reason=str(c.get("reason") or ""),
                warnings=[str(w) for w in c.get("warnings") or []],
                artefacts=[a for a in c.get("artefacts") or [] if isinstance(a, dict)],
            )
        )
    return rows


def _timeline_data(findings: list[FindingView], ctx: Context, clock: Clock | None = None) -> dict[str, Any]:
    """The JSON the timeline script draws: timed findings and the records around them, each with
    its local time (``lt``) when the evidence recorded the device's zone (written here, with the
    zone database unmask reads device times with, not by the reader's browser)."""
    clock = clock or Clock()

    def ms(value: datetime) -> int:
        return int(value.timestamp() * 1000)

    def src(f: FindingView) -> str:
        return f.parser or f.source or "other"

    def lt(value: datetime) -> dict[str, str]:
        return {"lt": clock.local(value)} if clock.zone is not None else {}

    events: list[dict[str, Any]] = [
        {"n": f.number, "t": ms(f.time), "sev": f.severity, "src": src(f), "title": f.title, "msg": f.message,
         **lt(f.time)}
        for f in findings
        if f.time is not None
    ]
    records: list[dict[str, Any]] = [
        {"t": ms(r.time), "src": r.parser, "ev": r.field, "d": r.description, **({"f": 1} if r.is_finding_record else {}),
         **lt(r.time)}
        for r in ctx.rows
    ]
    sources = sorted({str(e["src"]) for e in events} | {str(r["src"]) for r in records})
    return {
        "findings": events,
        "records": records,
        "sources": sources,
        "severities": [s.value for s in reversed(Severity)],
        "window_ms": int(CONTEXT_WINDOW.total_seconds() * 1000),
        **({"zone": clock.label} if clock.zone is not None else {}),
    }


@dataclass
class FallbackRow:
    """One row of the timeline table shown when JavaScript is off: a finding or a record."""

    time: datetime
    finding: FindingView | None = None
    record: ContextRow | None = None


def _fallback_rows(findings: list[FindingView], ctx: Context) -> list[FallbackRow]:
    rows = [FallbackRow(f.time, finding=f) for f in findings if f.time is not None]
    rows.extend(FallbackRow(r.time, record=r) for r in ctx.rows)
    # A finding comes just before the records of the same instant, its own record among them.
    return sorted(rows, key=lambda r: (r.time, r.finding is None, r.finding.number if r.finding else 0))


def _families(info: dict[str, Any], findings: list[FindingView]) -> list[FamilyView]:
    names = [str(n) for n in (info.get("verdict") or {}).get("families") or []]
    out: list[FamilyView] = []
    for name in names:
        mine = [f for f in findings if f.family == name and f.rule == "indicator"]
        worst = max((f.severity for f in mine), key=lambda s: _RANK.get(s, 0), default="high")
        out.append(FamilyView(name, len(mine), _CERTAINTY.get(worst, _CERTAINTY["high"]), mine))
    return out


_KIND_NAMES = {
    "ios-backup": "iPhone backup",
    "ios-sysdiagnose": "iPhone sysdiagnose",
    "ios-fs": "iPhone full-filesystem dump",
    "androidqf": "AndroidQF acquisition",
    "bugreport": "Android bug report",
    "android-backup": "Android backup",
    "android-intrusion-logs": "Android intrusion logs",
}


def _device(info: dict[str, Any], clock: Clock | None = None) -> str:
    evidence = info.get("evidence") or {}
    meta = evidence.get("metadata") or {}
    parts = [str(meta[k]) for k in ("device_name", "product_type") if meta.get(k)]
    if meta.get("ios_version"):
        parts.append(f"iOS {meta['ios_version']}")
    if meta.get("android_version"):
        parts.append(f"Android {meta['android_version']}")
    kind = _KIND_NAMES.get(str(evidence.get("kind", "")), str(evidence.get("kind", "evidence")))
    text = kind + (f" of {', '.join(parts)}" if parts else "")
    if meta.get("backup_date"):
        made = _iso(meta["backup_date"])
        text += f", made {(clock or Clock()).beside(made) if made else str(meta['backup_date']) + ' UTC'}"
    if meta.get("sysdiagnose_date"):
        text += f", taken {meta['sysdiagnose_date']}"
    others = [w for w in evidence.get("with") or [] if isinstance(w, dict)]
    if others:
        text += ", read together with " + ", ".join(
            f"{_KIND_NAMES.get(str(w.get('kind', '')), str(w.get('kind', '')))} ({w.get('id')})" for w in others
        )
    return text


def _metadata_rows(info: dict[str, Any], clock: Clock) -> list[tuple[str, str]]:
    """The evidence's metadata for the provenance table; a value that is a complete ISO time
    (with its offset) gets the local time beside it."""
    meta = (info.get("evidence") or {}).get("metadata") or {}
    rows: list[tuple[str, str]] = []
    for key, value in meta.items() if isinstance(meta, dict) else ():
        rows.append((str(key), clock.annotate(value)))
    return rows


def build_view(info: dict[str, Any], alerts: list[dict[str, Any]], ctx: Context) -> dict[str, Any]:
    """Everything the template needs, derived from the saved results only."""
    recheck = (info.get("extra") or {}).get("recheck")
    new = set(recheck.get("new_findings") or []) if isinstance(recheck, dict) else set()
    findings = _finding_views(alerts, info, ctx.parser_of_kind, new)
    coverage = _coverage(info)
    by_status = {s: [c for c in coverage if c.status == s] for s in _STATUS_PLAIN}
    verdict = info.get("verdict") or {}
    sev_counts = Counter(f.severity for f in findings)
    untimed = [f for f in findings if f.time is None]
    clock = Clock.of(info)
    return {
        "verdict": {
            "level": str(verdict.get("level", "clean")),
            "headline": str(verdict.get("headline", "")),
            "detail": str(verdict.get("detail", "")),
        },
        "families": _families(info, findings),
        "device": _device(info, clock),
        "clock": clock,
        "metadata_rows": _metadata_rows(info, clock),
        "findings": findings,
        "notable": [f for f in findings if f.severity in ("critical", "high", "medium")],
        "severity_counts": [(s.value, sev_counts.get(s.value, 0)) for s in reversed(Severity)],
        "severity_meaning": SEVERITY_MEANING,
        "coverage": coverage,
        "by_status": by_status,
        "unreadable": by_status["failed"] + by_status["unsupported"],
        "timeline": _timeline_data(findings, ctx, clock),
        "context": ctx,
        "context_rows": ctx.rows,
        "fallback_rows": _fallback_rows(findings, ctx),
        "untimed": untimed,
        "window_minutes": int(CONTEXT_WINDOW.total_seconds() // 60),
        "limits": {"per_finding": CONTEXT_PER_FINDING, "total": CONTEXT_TOTAL},
        "info": info,
        "tool": info.get("tool") or {},
        "evidence": info.get("evidence") or {},
        "indicator_sets": info.get("indicator_sets") or [],
        "recheck": recheck if isinstance(recheck, dict) else None,
        "history": None,
        "with_evidence": [w for w in (info.get("evidence") or {}).get("with") or [] if isinstance(w, dict)],
    }


# --- rendering ---------------------------------------------------------------------------------


def _asset(name: str) -> str:
    return files("unmask.report").joinpath(_TEMPLATES, name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _environment(clock: Clock | None = None) -> jinja2.Environment:
    clock = clock or Clock()
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("unmask.report", _TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # Every time on the page goes through these two: UTC, and the local time beside it when the
    # evidence recorded the device's zone.
    env.filters["when"] = clock.beside
    env.filters["isotime"] = lambda text: clock.beside(_iso(text)) or str(text or "")
    env.filters["local"] = clock.local
    env.filters["annotate"] = clock.annotate
    env.filters["linkify"] = _linkify
    return env


def render(view: dict[str, Any]) -> str:
    """The HTML page for a view from :func:`build_view`."""
    css = _asset("report.css")
    js = _asset("report.js")
    # The assets go into <style>/<script> verbatim; a closing tag inside them would end the block.
    for name, text in (("report.css", css), ("report.js", js)):
        if re.search(r"</(script|style)", text, re.IGNORECASE):
            raise RuntimeError(f"{name} must not contain a closing </script> or </style> tag")
    csp = "; ".join((
        "default-src 'none'",
        f"script-src {_csp_hash(js)}",
        f"style-src {_csp_hash(css)}",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
    ))
    clock = view.get("clock")
    template = _environment(clock if isinstance(clock, Clock) else None).get_template("report.html.j2")
    return template.render(**view, css=Markup(css), js=Markup(js), csp=csp)


def render_folder(folder: Path) -> str:
    """The HTML report of a saved output folder."""
    info, alerts = read_results(folder)
    times = [t for t in (_iso(a.get("timestamp")) for a in alerts) if t is not None]
    own: set[tuple[str, str, str]] = set()
    for alert in alerts:
        when, description = _iso(alert.get("timestamp")), _describe(alert.get("record"))
        if when is not None and description is not None:
            own.add((csv_time(when.astimezone(UTC)), str(alert.get("source", "")), description))
    ctx = read_context(folder / "timeline.csv", (t.astimezone(UTC) for t in times), own)
    view = build_view(info, alerts, ctx)
    history = read_history(folder, alerts)
    view["history"] = None if history.empty else history
    return render(view)


def write_report(folder: Path) -> Path:
    """Write ``report.html`` into an output folder from the files already there; returns its path."""
    html = render_folder(folder)
    target = folder / REPORT_NAME
    tmp = target.with_suffix(".html.part")
    tmp.write_text(html, encoding="utf-8", errors="backslashreplace")
    tmp.replace(target)
    return target


def iter_resource_urls(html: str) -> Iterator[str]:
    """Every URL the page would *load* (src, link href, CSS url()); anchors are navigation only.

    Used by the tests to prove the report makes no network request.
    """
    for match in re.finditer(r"<(?:script|img|iframe|audio|video|source|embed|object)\b[^>]*\bsrc=[\"']?([^\"' >]+)",
                             html, re.IGNORECASE):
        yield match.group(1)
    for match in re.finditer(r"<link\b[^>]*\bhref=[\"']?([^\"' >]+)", html, re.IGNORECASE):
        yield match.group(1)
    for match in re.finditer(r"url\(\s*[\"']?([^\"')]+)", html, re.IGNORECASE):
        yield match.group(1)
    for match in re.finditer(r"@import\s+[\"']([^\"']+)", html, re.IGNORECASE):
        yield match.group(1)
