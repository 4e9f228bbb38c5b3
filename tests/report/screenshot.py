"""``python -m tests.report.screenshot [REPORT.html] [OUT_DIR]``: the screenshots in docs/img.

Without a report, builds the demo backup, scans it into a temporary folder and shoots that
report. Writes ``report-demo.png`` (the first screen a reader sees) and ``report-timeline.png``
(the timeline, zoomed on the first finding) into OUT_DIR (default ``docs/img``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.report.browser import launch


def _demo_report(work: Path) -> Path:
    from tests.builders.sample import build_sample
    from unmask import api

    sample = build_sample(work / "backup")
    api.check_backup(sample.root, output=work / "results")
    return work / "results" / "report.html"


def shoot(report: Path, out_dir: Path) -> list[Path]:
    """Screenshot the first screen and the timeline of a report; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    first, timeline = out_dir / "report-demo.png", out_dir / "report-timeline.png"
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(report.resolve().as_uri())
        page.screenshot(path=str(first))
        page.locator("#f-1 a.tl-link").click()
        page.locator("#tl-app").screenshot(path=str(timeline))
        browser.close()
    return [first, timeline]


def main(argv: list[str]) -> int:
    """Entry point; see the module docstring."""
    out_dir = Path(argv[2]) if len(argv) > 2 else Path("docs/img")
    if len(argv) > 1 and argv[1] != "-":
        written = shoot(Path(argv[1]), out_dir)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            written = shoot(_demo_report(Path(tmp)), out_dir)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
