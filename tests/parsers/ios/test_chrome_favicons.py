"""Chrome favicons: page → icon URL with the latest bitmap time (Chromium favicon DB, version 8)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.fuzz import VALUES, assert_tolerated, garbage_db, run_file
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.chrome_favicons import ChromeFavicon, ChromeFaviconsParser

SCHEMA = "chrome/Favicons/v8-source.sql"
REL = "Library/Application Support/Google/Chrome/Default/Favicons"
WHEN = datetime(2023, 11, 2, 7, 0, tzinfo=UTC)
WEBKIT_US = int((WHEN.timestamp() + 11_644_473_600) * 1_000_000)
ROWS: dict[str, list[dict[str, Any]]] = {
    "favicons": [{"id": 1, "url": "https://wikipedoptions.com/favicon.ico", "icon_type": 1},
                 {"id": 2, "url": "https://www.example.org/f.ico", "icon_type": 1}],
    "icon_mapping": [{"id": 1, "page_url": "https://wikipedoptions.com/login", "icon_id": 1},
                     {"id": 2, "page_url": "https://www.example.org/", "icon_id": 2},
                     {"id": 3, "page_url": "https://orphan.example/", "icon_id": 99}],
    "favicon_bitmaps": [{"id": 1, "icon_id": 1, "last_updated": WEBKIT_US - 10, "width": 16, "height": 16},
                        {"id": 2, "icon_id": 1, "last_updated": WEBKIT_US, "width": 32, "height": 32}],
}


def test_pages_and_icons_in_the_chrome_container(backup: BackupBuilder) -> None:
    backup.add_sqlite("AppDomain-com.google.chrome.ios", REL, SCHEMA, ROWS)
    records, cov = run(ChromeFaviconsParser, backup.finish())
    assert cov.status is Status.PARSED
    favs = [r for r in records if isinstance(r, ChromeFavicon)]
    assert [(f.url, f.icon_url) for f in favs] == [
        ("https://wikipedoptions.com/login", "https://wikipedoptions.com/favicon.ico"),
        ("https://www.example.org/", "https://www.example.org/f.ico"),
        ("https://orphan.example/", None),
    ]
    assert favs[0].updated == WHEN and favs[1].updated is None
    assert favs[0].app == "com.google.chrome.ios"
    assert (Obs.DOMAIN, "wikipedoptions.com") in {(o.type, o.value) for o in observables_of(favs[0])}


def test_a_history_database_is_not_favicons(backup: BackupBuilder) -> None:
    backup.add_sqlite("AppDomain-com.google.chrome.ios", REL, "chrome/History/meta70.sql")
    records, cov = run(ChromeFaviconsParser, backup.finish())
    assert records == [] and cov.status is Status.UNSUPPORTED


@settings(max_examples=15, deadline=None)
@given(maps=st.lists(st.fixed_dictionaries({"page_url": VALUES, "icon_id": VALUES}), max_size=4))
def test_garbage_rows_never_crash(maps: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = garbage_db(Path(tmp), SCHEMA, {"icon_mapping": maps, "favicons": ROWS["favicons"]}, ("icon_mapping", "page_url"))
        records, cov = run_file(ChromeFaviconsParser, "AppDomain-com.google.chrome.ios", REL, data)
    assert_tolerated(records, cov)
