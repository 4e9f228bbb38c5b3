"""The report's pictures: the phone's reboot history and its crash timeline, as inline SVG.

Built only from the output folder (``shutdown_log.json``, ``crash_reports.json``,
``spindump.json`` and ``alerts.json``), like the rest of the page. The SVG is markup inside the
page (no image is loaded, no script draws it; the Content-Security-Policy stays as it is): lines
and circles with presentation attributes, each with a ``<title>`` that says what it is, and a
table beside it for readers who cannot see the picture. Every text from the evidence is escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from markupsafe import Markup

from unmask import timeutil
from unmask.errors import UsageError
from unmask.report.outputs import iter_records_file, records_file_name

MAX_POINTS = 5000
"""Reboots, boots and crashes read at most (each)."""
MAX_ROWS = 200
"""Rows of each table under the picture."""
DELAYED = 3
"""Delay notices that mark a shutdown as delayed (the rule shutdown-delayed-reboot's threshold)."""
WIDTH, LEFT, RIGHT = 960, 90, 20
LANES = ("Shutdowns", "Boots", "Crashes")


@dataclass
class Point:
    """One event on the picture."""

    time: datetime
    lane: str
    title: str
    flagged: bool = False
    detail: dict[str, str] = field(default_factory=dict)


@dataclass
class History:
    """The reboot history and the crash timeline of a results folder."""

    shutdowns: list[Point] = field(default_factory=list)
    boots: list[Point] = field(default_factory=list)
    crashes: list[Point] = field(default_factory=list)
    truncated: bool = False
    svg: Markup = field(default_factory=Markup)

    @property
    def empty(self) -> bool:
        """Whether there is nothing to draw."""
        return not (self.shutdowns or self.crashes)

    @property
    def delayed(self) -> int:
        """Shutdowns marked as delayed."""
        return sum(1 for p in self.shutdowns if p.flagged)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _rows(folder: Path, parser: str, kinds: set[str]) -> list[dict[str, Any]]:
    path = folder / records_file_name(parser)
    if not path.exists():
        return []
    out: list[dict[str, Any]] = []
    try:
        for row in iter_records_file(path):
            if row.get("kind") in kinds:
                out.append(row)
                if len(out) >= 3 * MAX_POINTS:
                    break
    except UsageError:
        return out
    return out


def read_history(folder: Path, alerts: list[dict[str, Any]]) -> History:
    """The shutdowns (delayed ones flagged), the boots the reports imply and the crashes (those a
    finding is about flagged) saved in a results folder."""
    history = History()
    flagged_reports = {
        (str(a.get("device_path")), str((a.get("record") or {}).get("acquisition", "")))
        for a in alerts
        if isinstance(a, dict) and str(a.get("source", "")).startswith("ios/crash_reports/")
        and str(a.get("severity")) in ("medium", "high", "critical")
    }
    for row in _rows(folder, "shutdown_log", {"ios/shutdown_log/reboot"}):
        when = _time(row.get("sigterm"))
        if when is None:
            continue
        notices = row["notices"] if isinstance(row.get("notices"), int) else 0
        history.shutdowns.append(Point(
            when, "Shutdowns",
            f"shutdown #{row.get('reboot')} at {when:%Y-%m-%d %H:%M} UTC: {notices} delay notice(s), "
            f"{row.get('clients')} process(es) still running",
            flagged=notices >= DELAYED,
            detail={"notices": str(notices), "clients": str(row.get("clients", "")),
                    "longest": "" if row.get("longest_delay") is None else f"{row.get('longest_delay')} s"},
        ))
    boots: set[int] = set()
    crash_rows = _rows(folder, "crash_reports", {"ios/crash_reports/report"})
    for row in crash_rows:
        when = _time(row.get("time"))
        booted = _time(row.get("booted"))
        if booted is not None:
            boots.add(int(booted.timestamp()) // 600)
        if when is None:
            continue
        process = str(row.get("process") or row.get("largest_process") or "?")
        how = " ".join(str(row[k]) for k in ("exception_type", "signal") if row.get(k))
        kind = str(row.get("report_type") or "report")
        key = (str(row.get("device_path")), str(row.get("acquisition", "")))
        history.crashes.append(Point(
            when, "Crashes", f"{kind} of {process} at {when:%Y-%m-%d %H:%M} UTC{(': ' + how) if how else ''}",
            flagged=key in flagged_reports,
            detail={"process": process, "type": kind, "how": how},
        ))
    for row in _rows(folder, "spindump", {"ios/spindump/report"}):
        booted = _time(row.get("booted"))
        if booted is not None:
            boots.add(int(booted.timestamp()) // 600)
    for slot in sorted(boots):
        when = timeutil.unix(slot * 600)
        if when is None:
            continue
        history.boots.append(Point(when, "Boots", f"boot around {when:%Y-%m-%d %H:%M} UTC (from crash reports' uptime)"))
    for name in ("shutdowns", "boots", "crashes"):
        points: list[Point] = getattr(history, name)
        points.sort(key=lambda p: p.time)
        if len(points) > MAX_POINTS:
            history.truncated = True
            del points[:-MAX_POINTS]
    history.svg = draw(history)
    return history


def draw(history: History) -> Markup:
    """The picture: one lane per kind of event over a shared time axis."""
    points = history.shutdowns + history.boots + history.crashes
    if not points:
        return Markup("")
    start = min(p.time for p in points).timestamp()
    end = max(p.time for p in points).timestamp()
    span = max(end - start, 3600.0)
    start -= span * 0.02
    span *= 1.04
    lane_h, top = 38, 10
    height = top + lane_h * len(LANES) + 34

    def x(when: datetime) -> float:
        return LEFT + (when.timestamp() - start) / span * (WIDTH - LEFT - RIGHT)

    parts = [
        f'<svg class="history-chart" role="img" aria-labelledby="history-svg-title" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">',
        '<title id="history-svg-title">Shutdowns, boots and crashes over time</title>',
    ]
    for i, lane in enumerate(LANES):
        y = top + i * lane_h + lane_h / 2
        parts.append(f'<text x="4" y="{y + 4:.1f}" font-size="12" fill="#333">{lane}</text>')
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#d0d4da"/>')
    for p in points:
        row = LANES.index(p.lane)
        y = top + row * lane_h + lane_h / 2
        px = x(p.time)
        title = f"<title>{html.escape(p.title)}</title>"
        if p.lane == "Shutdowns":
            colour, h = ("#b3261e", 14) if p.flagged else ("#4a5260", 9)
            parts.append(f'<line x1="{px:.1f}" y1="{y - h:.1f}" x2="{px:.1f}" y2="{y + h:.1f}" stroke="{colour}" '
                         f'stroke-width="{3 if p.flagged else 2}">{title}</line>')
        elif p.lane == "Boots":
            parts.append(f'<path d="M{px - 5:.1f},{y + 6:.1f} L{px:.1f},{y - 6:.1f} L{px + 5:.1f},{y + 6:.1f} Z" '
                         f'fill="#1e6b38">{title}</path>')
        else:
            colour, r = ("#b3261e", 6) if p.flagged else ("#1f5fa8", 4)
            parts.append(f'<circle cx="{px:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}" fill-opacity="0.8">{title}</circle>')
    axis_y = top + lane_h * len(LANES) + 6
    parts.append(f'<line x1="{LEFT}" y1="{axis_y}" x2="{WIDTH - RIGHT}" y2="{axis_y}" stroke="#555"/>')
    for k in range(5):
        when = timeutil.unix(start + span * (0.05 + 0.225 * k))
        if when is None:
            continue
        px = x(when)
        label = when.strftime("%Y-%m-%d") if span > 2 * 86400 else when.strftime("%m-%d %H:%M")
        parts.append(f'<line x1="{px:.1f}" y1="{axis_y}" x2="{px:.1f}" y2="{axis_y + 5}" stroke="#555"/>')
        parts.append(f'<text x="{px:.1f}" y="{axis_y + 18}" font-size="11" text-anchor="middle" fill="#333">{label}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
