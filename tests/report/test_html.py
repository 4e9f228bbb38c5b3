"""report.html: content, self-containment, escaping, size, and `unmask report DIR`."""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.builders.sample import Sample
from unmask.cli import main
from unmask.report import html as report_html
from unmask.report.html import (
    CONTEXT_TOTAL,
    iter_resource_urls,
    read_context,
    render_folder,
    short_label,
    write_report,
)
from unmask.report.writers import TIMELINE_HEADER, csv_time


def _load(folder: Path) -> tuple[dict, list, str]:
    info = json.loads((folder / "info.json").read_text())
    alerts = json.loads((folder / "alerts.json").read_text())
    return info, alerts, (folder / "report.html").read_text()


class _Attrs(HTMLParser):
    """Every (tag, attribute, value) of a page, and the text of its <script>/<style> blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[tuple[str, str, str]] = []
        self.blocks: list[tuple[str, dict[str, str | None], str]] = []
        self._open: tuple[str, dict[str, str | None]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs.extend((tag, k, v or "") for k, v in attrs)
        if tag in ("script", "style"):
            self._open = (tag, dict(attrs))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self.blocks.append((*self._open, data))
            self._open = None


def test_every_scan_writes_a_report_with_verdict_findings_coverage_and_provenance(scanned: Path) -> None:
    info, alerts, page = _load(scanned)
    text = html.unescape(page)
    assert info["verdict"]["level"] == "detected"
    assert info["verdict"]["headline"] in text
    # The verdict comes first: before any finding, coverage or provenance.
    assert text.index(info["verdict"]["headline"]) < text.index('id="findings"') < text.index('id="coverage"')
    for family in info["verdict"]["families"]:
        assert family in text
    assert "How sure" in text
    for i, alert in enumerate(alerts, 1):
        assert f'id="f-{i}"' in page
        assert alert["message"] in text
        assert alert["severity"].capitalize() in text
        if alert["device_path"]:
            assert alert["device_path"] in text
        if alert["indicator"]:
            assert alert["indicator"]["value"] in text
            assert alert["indicator"]["file"] in text
            assert alert["indicator"]["stix_id"] in text
        if alert["explanation"]:
            assert alert["explanation"] in text
        if alert["benign"]:
            assert alert["benign"] in text
    for cov in info["coverage"]:
        assert f"<code class=\"muted\">{cov['parser']}</code>" in page
    assert "Not in this evidence" in text and "Examined" in text
    for digest in info["evidence"]["hashes"].values():
        assert digest in text
    for digest in info["evidence"]["artefacts_read"].values():
        assert digest in text
    for indicator_set in info["indicator_sets"]:
        assert indicator_set["sha256"] in text
    assert f"unmask {info['tool']['version']}" in text


def test_a_clean_scan_says_so_and_says_it_is_no_proof(clean_scanned: Path) -> None:
    info, alerts, page = _load(clean_scanned)
    assert info["verdict"]["level"] == "clean"
    assert not [a for a in alerts if a["rule"] == "indicator"]
    text = html.unescape(page)
    assert "No known spyware indicators found" in text
    assert "not proof that the phone is clean" in text
    assert "Result: no known spyware traces found" in text


def test_the_report_loads_nothing_from_anywhere(scanned: Path) -> None:
    page = (scanned / "report.html").read_text()
    assert list(iter_resource_urls(page)) == []
    parsed = _Attrs()
    parsed.feed(page)
    for tag, attr, value in parsed.attrs:
        if re.match(r"\s*(https?:)?//", value):
            # Only plain anchors may point elsewhere: following one is the reader's choice.
            assert (tag, attr) == ("a", "href"), (tag, attr, value)
    csp = next(v for t, k, v in parsed.attrs if t == "meta" and k == "content" and "default-src" in v)
    assert "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    # The inline script and style are allowed by their hashes, and they are the only ones.
    for tag, attrs, body in parsed.blocks:
        if tag == "script" and attrs.get("type") == "application/json":
            continue
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp, tag


def test_rebuilding_gives_the_same_page(scanned: Path, tmp_path: Path) -> None:
    copy = tmp_path / "results"
    shutil.copytree(scanned, copy)
    original = (copy / "report.html").read_text()
    (copy / "report.html").unlink()
    result = CliRunner().invoke(main, ["report", str(copy)])
    assert result.exit_code == 0, result.output
    assert str(copy / "report.html") in result.output.replace("\n", "")
    assert (copy / "report.html").read_text() == original
    assert render_folder(copy) == original


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: None, "no such results folder"),
        (lambda p: p.mkdir(), "info.json is missing"),
        (lambda p: (p.mkdir(), (p / "info.json").write_text("{not json"), (p / "alerts.json").write_text("[]")),
         "cannot be read"),
        (lambda p: (p.mkdir(), (p / "info.json").write_text("[]"), (p / "alerts.json").write_text("[]")),
         "no verdict"),
    ],
)
def test_report_on_an_unusable_folder_is_a_one_line_error(tmp_path: Path, setup, message: str) -> None:
    folder = tmp_path / "results"
    setup(folder)
    result = CliRunner().invoke(main, ["report", str(folder)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 2  # one line, possibly wrapped by the terminal


def test_texts_from_the_phone_are_escaped(scanned: Path, tmp_path: Path) -> None:
    copy = tmp_path / "results"
    shutil.copytree(scanned, copy)
    hostile = '</script><script>alert(1)</script><img src=x onerror="alert(2)">'
    alerts = json.loads((copy / "alerts.json").read_text())
    alerts[0]["message"] = hostile
    alerts[0]["record"]["process"] = hostile
    (copy / "alerts.json").write_text(json.dumps(alerts))
    with (copy / "timeline.csv").open("a", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerow(
            (csv_time(datetime.fromisoformat(alerts[0]["timestamp"])), "sms", "ios/sms/message sent", hostile))
    page = write_report(copy).read_text()
    assert hostile not in page
    assert "<img src=x" not in page
    assert page.count("<script") == 2  # the JSON data block and the report's own script
    assert hostile in html.unescape(page)  # shown to the reader as text


def _write_timeline(path: Path, rows: list[tuple[str, str, str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(TIMELINE_HEADER)
        writer.writerows(rows)


def test_context_keeps_the_nearest_records_within_the_window(tmp_path: Path) -> None:
    t = datetime(2024, 1, 13, 10, 0, tzinfo=UTC)
    rows = [(csv_time(t + timedelta(minutes=m)), "sms", "ios/sms/message sent", f"m{m}") for m in range(-90, 91)]
    _write_timeline(tmp_path / "timeline.csv", rows)
    ctx = read_context(tmp_path / "timeline.csv", [t], {(csv_time(t), "ios/sms/message", "m0")},
                       window=timedelta(minutes=30), per_anchor=11, total=100)
    assert ctx.in_windows == 61
    assert [r.description for r in ctx.rows] == [f"m{m}" for m in range(-5, 6)]
    assert [r.is_finding_record for r in ctx.rows].count(True) == 1
    assert ctx.parser_of_kind["ios/sms/message"] == "sms"


def test_context_reads_records_that_span_lines(tmp_path: Path) -> None:
    t = datetime(2024, 1, 13, 10, 0, tzinfo=UTC)
    far = t - timedelta(days=3)
    # A message text that looks like the start of a timeline row once split on its line breaks.
    tricky = f'hello\n"{csv_time(t)}","sms","ios/sms/message sent","forged"\nbye "quoted"'
    rows = [
        (csv_time(far), "sms", "ios/sms/message sent", tricky),
        (csv_time(t), "sms", "ios/sms/message sent", 'line one\n"two",\r\nthree'),
        (csv_time(t + timedelta(minutes=1)), "sms", "ios/sms/message sent", "plain"),
    ]
    _write_timeline(tmp_path / "timeline.csv", rows)
    ctx = read_context(tmp_path / "timeline.csv", [t], window=timedelta(minutes=30))
    assert [r.description for r in ctx.rows] == ['line one\n"two",\r\nthree', "plain"]
    assert ctx.in_windows == 2


def test_context_is_shared_fairly_between_findings(tmp_path: Path) -> None:
    t1 = datetime(2024, 1, 1, tzinfo=UTC)
    t2 = t1 + timedelta(days=5)
    rows = [(csv_time(t1 + timedelta(seconds=s)), "manifest", "ios/manifest/file modified", f"a{s}") for s in range(500)]
    rows += [(csv_time(t2 + timedelta(seconds=s)), "sms", "ios/sms/message sent", f"b{s}") for s in range(3)]
    _write_timeline(tmp_path / "timeline.csv", sorted(rows))
    ctx = read_context(tmp_path / "timeline.csv", [t1, t2], per_anchor=100, total=20)
    assert len(ctx.rows) == 20
    assert sum(r.parser == "sms" for r in ctx.rows) == 3  # the quiet finding keeps its neighbours


def test_a_huge_timeline_gives_a_small_report(scanned: Path, tmp_path: Path) -> None:
    """200,000 records: the report embeds only the findings' neighbourhoods, capped."""
    copy = tmp_path / "results"
    shutil.copytree(scanned, copy)
    alerts = json.loads((copy / "alerts.json").read_text())
    times = [datetime.fromisoformat(a["timestamp"]) for a in alerts if a["timestamp"]]
    start = min(times) - timedelta(days=30)
    rows = [(csv_time(start + timedelta(seconds=20 * i)), "manifest", "ios/manifest/file modified",
             f"file /private/var/mobile/Library/Caches/x{i}.dat (1234 bytes)") for i in range(200_000)]
    rows += [(csv_time(t), "sms", "ios/sms/message sent", "a message at the finding's time") for t in times]
    _write_timeline(copy / "timeline.csv", sorted(rows))
    page = write_report(copy).read_text()
    data = json.loads(re.search(r'<script type="application/json" id="tl-data">(.*?)</script>', page, re.S)[1])
    assert len(data["records"]) <= CONTEXT_TOTAL
    assert len(data["findings"]) == len(times)
    assert len(page.encode()) < 3_000_000
    assert "records fell in these windows" in page


def test_docstring_quotes_are_not_shown() -> None:
    assert short_label("System properties as ``getprop`` prints them.", "getprop") == "System properties as getprop prints them"


def test_short_labels_come_from_the_parser_descriptions() -> None:
    assert short_label("SMS and iMessage messages from sms.db, with handles.", "sms") == "SMS and iMessage messages"
    assert short_label("Calendar events (titles, notes, times) with emails.", "calendar") == "Calendar events"
    assert short_label("Handles (emails) looked up by iMessage, from the IDS cache.", "ids").startswith("Handles (")
    assert short_label("", "fallback") == "fallback"


def test_assets_cannot_break_out_of_their_blocks() -> None:
    for name in ("report.js", "report.css"):
        text = report_html._asset(name)
        assert not re.search(r"</(script|style)", text, re.I), name
        assert not re.search(r"(src|href)\s*=\s*[\"']https?:", text), name


def test_a_folder_without_timeline_still_renders_its_findings(scanned: Path, tmp_path: Path) -> None:
    copy = tmp_path / "results"
    shutil.copytree(scanned, copy)
    (copy / "timeline.csv").unlink()
    page = html.unescape(write_report(copy).read_text())
    assert "timeline.csv was missing or unreadable" in page
    for alert in json.loads((copy / "alerts.json").read_text()):
        assert alert["message"] in page


# --- local time beside UTC ------------------------------------------------------------------------


def test_the_clock_writes_local_time_beside_utc_in_the_zone_the_evidence_recorded() -> None:
    clock = report_html.Clock.of({"evidence": {"metadata": {"timezone": "Europe/Paris"}}})
    summer, late = datetime(2024, 5, 2, 10, 0, tzinfo=UTC), datetime(2024, 1, 13, 23, 30, tzinfo=UTC)
    assert clock.beside(summer) == "2024-05-02 10:00:00 UTC (12:00:00 local time, Europe/Paris UTC+02:00)"
    # Winter time, and a local date that is not the UTC date: the local date is written too.
    assert clock.beside(late) == "2024-01-13 23:30:00 UTC (2024-01-14 00:30:00 local time, Europe/Paris UTC+01:00)"
    offset = report_html.Clock.of({"evidence": {"metadata": {"timezone": "-0500"}}})  # a sysdiagnose's name
    assert offset.label == "UTC-05:00"
    assert offset.beside(summer) == "2024-05-02 10:00:00 UTC (05:00:00 local time, UTC-05:00)"
    for unknown in ({"evidence": {"metadata": {"timezone": "Mars/Olympus"}}}, {"evidence": {"metadata": {}}}, {}):
        clock = report_html.Clock.of(unknown)
        assert clock.zone is None and clock.beside(summer) == "2024-05-02 10:00:00 UTC"


def test_an_android_report_shows_local_time_beside_utc_and_names_the_zone(android_scanned: Path) -> None:
    info, _, page = _load(android_scanned)
    assert info["evidence"]["metadata"]["timezone"] == "Europe/Paris"
    text = html.unescape(page)
    # The payload written at 22:30 UTC on 1 May: 00:30 on 2 May in Paris, in the finding and both tables.
    assert "2024-05-01 22:30:00 UTC (2024-05-02 00:30:00 local time, Europe/Paris UTC+02:00)" in text
    assert "Local time (Europe/Paris)" in text
    assert "<td>2024-05-01 22:30:00 UTC</td><td>2024-05-02 00:30:00</td>" in text
    assert "time zone <strong>Europe/Paris</strong>" in text
    data = json.loads(re.search(r'<script type="application/json" id="tl-data">(.*?)</script>', page, re.S).group(1))
    assert data["zone"] == "Europe/Paris"
    assert {e["lt"] for e in data["findings"]} >= {"2024-05-02 00:30:00"}
    assert all(r["lt"] for r in data["records"])
    # Provenance: the zone, and the acquisition's own times with their local time.
    assert "Device time zone</th><td>Europe/Paris: local times are shown beside UTC" in text
    assert "2024-05-02T10:09:00.5+02:00 (2024-05-02 10:09:00 local time)" in text
    assert "AndroidQF acquisition of Pixel 7, Android 14" in text


def test_a_report_without_a_recorded_zone_shows_utc_only(scanned: Path) -> None:
    info, _, page = _load(scanned)
    assert not info["evidence"]["metadata"].get("timezone")
    body = html.unescape(page.split("<script", 1)[0])
    assert "local time" not in body and "Local time (" not in body
    assert "All times are UTC" in body


def test_any_kind_of_evidence_that_knows_its_zone_gets_local_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_env: None, sample: Sample
) -> None:
    """The scan records the zone of whatever acquisition has one (a sysdiagnose gives an offset)."""
    from unmask import api
    from unmask.acquisition.ios_backup import IOSBackup

    monkeypatch.setattr(IOSBackup, "timezone", lambda self: "-0500")
    out = tmp_path / "out"
    api.check_backup(sample.root, output=out, screen=False)
    info, alerts, page = _load(out)
    assert info["evidence"]["metadata"]["timezone"] == "-0500"
    timed = next(a for a in alerts if a["timestamp"])
    when = datetime.fromisoformat(timed["timestamp"]).astimezone(UTC)
    local = (when - timedelta(hours=5)).strftime("%H:%M:%S")
    assert "local time, UTC-05:00)" in html.unescape(page) and f"{local} local time" in page
    assert "Local time (UTC-05:00)" in page
    info["evidence"]["metadata"]["timezone"] = "Not/AZone"
    (out / "info.json").write_text(json.dumps(info))
    page = render_folder(out)
    assert "local time," not in page.split("<script", 1)[0] and "which unmask does not know" in page
