"""report.html in a real browser (Debian's Chromium driven by Playwright): verdict, findings,
the interactive timeline, no console errors, no network, the no-JavaScript fallback, print.

CI installs chromium (.ci/run); the tests skip only where it is not installed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.report.browser import chromium_path, launch

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="Debian's chromium is not installed (apt-get install chromium; .ci/run and `make setup` as root do it)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


class Watched:
    """A page with every console error, page error and request it caused."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))
        page.on("request", lambda r: self.requests.append(r.url))


def _open(browser: Browser, report: Path, **context: object) -> Watched:
    page = browser.new_context(viewport={"width": 1280, "height": 900}, **context).new_page()  # type: ignore[arg-type]
    watched = Watched(page)
    page.goto(report.resolve().as_uri())
    page.wait_for_load_state("load")
    return watched


def _marks(page: Page) -> int:
    return page.locator("#tl-chart svg .mark").count()


def test_report_in_a_real_browser(browser: Browser, scanned: Path, tmp_path: Path) -> None:
    info = json.loads((scanned / "info.json").read_text())
    alerts = json.loads((scanned / "alerts.json").read_text())
    timed = [a for a in alerts if a["timestamp"]]
    w = _open(browser, scanned / "report.html")
    page = w.page

    # The verdict, first and in words.
    assert page.locator("#verdict-title").inner_text() == info["verdict"]["headline"]
    assert page.locator("#verdict").bounding_box()["y"] < 200  # type: ignore[index]
    for family in info["verdict"]["families"]:
        assert family in page.locator("#verdict").inner_text()

    # Every finding, with severity, indicator and place.
    cards = page.locator("article.finding")
    assert cards.count() == len(alerts)
    first = cards.first.inner_text()
    assert alerts[0]["severity"].capitalize() in first
    assert alerts[0]["indicator"]["value"] in first
    assert alerts[0]["device_path"] in first

    # The timeline renders: the JS took over, one marker per timed finding, context records around them.
    assert page.locator("html.js").count() == 1
    assert page.locator("#tl-fallback").is_hidden()
    assert page.locator("#tl-chart svg").count() == 1
    assert _marks(page) == len(timed)
    assert page.locator("#tl-chart svg .rec").count() > 0
    assert page.locator("#tl-table tbody tr").count() > len(timed)

    # Filter by severity: hiding "high" leaves the others.
    high = sum(a["severity"] == "high" for a in timed)
    page.locator("#tl-sev input[data-sev=high]").uncheck()
    assert _marks(page) == len(timed) - high
    assert page.locator("#tl-chart svg .m-high").count() == 0
    page.locator("#tl-sev input[data-sev=high]").check()
    assert _marks(page) == len(timed)

    # Filter by source.
    page.locator("#tl-src input[data-src=sms]").uncheck()
    assert page.locator("#tl-chart svg .lane-label", has_text="sms").count() == 0
    page.locator("#tl-src input[data-src=sms]").check()

    # Search narrows the chart and the table to what matches.
    page.locator("#tl-q").fill("weather4free")
    assert _marks(page) == 1
    rows = page.locator("#tl-table tbody tr")
    assert rows.count() >= 1
    assert all("weather4free" in rows.nth(i).inner_text() for i in range(rows.count()))
    page.locator("#tl-q").fill("")

    # Zoom: the visible span shrinks, "Show all" brings everything back.
    span = page.evaluate("window.unmaskTimeline.state.t1 - window.unmaskTimeline.state.t0")
    page.get_by_role("button", name="Zoom in").click()
    assert page.evaluate("window.unmaskTimeline.state.t1 - window.unmaskTimeline.state.t0") == pytest.approx(span / 2)
    page.get_by_role("button", name="Show all").click()
    assert _marks(page) == len(timed)

    # "Show on the timeline" from a finding zooms to it and explains it.
    page.locator("#f-1 a.tl-link").click()
    assert alerts[0]["message"] in page.locator("#tl-detail").inner_text()
    assert page.locator("#tl-chart svg .mark.sel").count() == 1

    # Clicking a marker shows its details.
    page.get_by_role("button", name="Show all").click()
    page.locator("#tl-chart svg .mark").first.dispatch_event("click")
    assert "Read finding" in page.locator("#tl-detail").inner_text()

    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    assert w.errors == []
    assert [u for u in w.requests if not u.startswith("file:")] == []


def test_without_javascript_the_timeline_is_a_plain_table(browser: Browser, scanned: Path) -> None:
    alerts = json.loads((scanned / "alerts.json").read_text())
    w = _open(browser, scanned / "report.html", java_script_enabled=False)
    page = w.page
    assert page.locator("#verdict-title").is_visible()
    assert page.locator("#tl-app").is_hidden()
    table = page.locator("#tl-fallback table")
    assert table.is_visible()
    assert table.locator("tr.row-finding").count() == sum(1 for a in alerts if a["timestamp"])
    assert table.locator("tbody tr").count() > len(alerts)
    assert [u for u in w.requests if not u.startswith("file:")] == []


def test_a_clean_report_in_the_browser(browser: Browser, clean_scanned: Path) -> None:
    w = _open(browser, clean_scanned / "report.html")
    assert "No known spyware" in w.page.locator("#verdict").inner_text()
    assert "not proof" in w.page.locator("#verdict").inner_text()
    assert w.errors == []


def test_print_hides_the_controls(browser: Browser, scanned: Path, tmp_path: Path) -> None:
    w = _open(browser, scanned / "report.html")
    page = w.page
    page.emulate_media(media="print")
    assert page.locator(".tl-controls").is_hidden()
    assert page.locator("#verdict").is_visible()
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    assert w.errors == []


def test_local_time_beside_utc_in_the_browser(browser: Browser, android_scanned: Path, scanned: Path) -> None:
    """An acquisition that recorded the device's zone (Europe/Paris): every time the reader sees,
    in the findings, the timeline table, its tooltips and details, has the local time beside it."""
    w = _open(browser, android_scanned / "report.html")
    page = w.page
    tmp = page.locator("article.finding", has_text="/data/local/tmp/pred.so")
    assert "2024-05-01 22:30:00 UTC (2024-05-02 00:30:00 local time, Europe/Paris UTC+02:00)" in tmp.inner_text()
    heads = page.locator("#tl-table thead th").all_inner_texts()
    assert heads[:2] == ["Time (UTC)", "Local time (Europe/Paris)"]
    row = page.locator("#tl-table tbody tr", has_text="pred.so").first
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "2024-05-01 22:30:00" and cells[1] == "2024-05-02 00:30:00"
    mark = page.locator("#tl-chart svg .mark.m-high").first
    assert "2024-05-02 00:30:00 local time, Europe/Paris" in mark.locator("title").text_content()
    mark.dispatch_event("click")
    assert "(2024-05-02 00:30:00 local time, Europe/Paris)" in page.locator("#tl-detail").inner_text()
    assert "Europe/Paris" in page.locator("#tl-status").inner_text()
    assert "Device time zone" in page.locator("#provenance").inner_text()
    assert w.errors == []
    # Without JavaScript the plain table has the local column too.
    w = _open(browser, android_scanned / "report.html", java_script_enabled=False)
    fallback = w.page.locator("#tl-fallback table")
    assert fallback.locator("thead th").nth(1).inner_text() == "Local time (Europe/Paris)"
    assert "2024-05-02 00:30:00" in fallback.locator("tr.row-finding", has_text="/data/local/tmp").inner_text()
    # Evidence that recorded no zone: UTC only, four columns.
    w = _open(browser, scanned / "report.html")
    assert w.page.locator("#tl-table thead th").all_inner_texts()[0] == "Time (UTC)"
    assert w.page.locator("#tl-table thead th").count() == 4
    assert w.page.locator("#tl-table tbody tr").first.locator("td").count() == 4
    assert w.errors == []
