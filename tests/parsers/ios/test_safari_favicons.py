"""Safari favicons: valid icons joined by UUID and rejected resources (SafariShared schema v1 and v4)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.fuzz import VALUES, assert_tolerated, garbage_db, run_file
from tests.builders.ios_backup import BackupBuilder
from tests.builders.ios_fs import DumpBuilder
from tests.builders.run import run, run_evidence
from unmask import timeutil
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.safari_favicons import SafariFavicon, SafariFaviconsParser

SCHEMA = "ios/Favicons.db/safarishared-v4.sql"
STORE = "Library/Image Cache/Favicons/Favicons.db"
WHEN = datetime(2024, 1, 5, 9, 30, tzinfo=UTC)
ROWS: dict[str, list[dict[str, Any]]] = {
    "page_url": [{"url": "https://news.example.com/a", "uuid": "U1"}, {"url": "https://md-news-direct.com/x", "uuid": "U2"}],
    "icon_info": [
        {"uuid": "U1", "url": "https://news.example.com/favicon.ico", "timestamp": int(timeutil.to_cocoa(WHEN))},
        {"uuid": "U2", "url": "https://md-news-direct.com/i.png", "timestamp": int(timeutil.to_cocoa(WHEN))},
    ],
    "rejected_resources": [{"page_url": "https://a.example/", "icon_url": "https://a.example/bad.ico", "timestamp": 0}],
}


def test_valid_and_rejected_icons_on_a_dump(dump: DumpBuilder) -> None:
    dump.add_sqlite("/private/var/mobile/" + STORE, SCHEMA, ROWS)
    records, cov = run_evidence(SafariFaviconsParser, dump.finish("folder"))
    assert cov.status is Status.PARSED
    favs = [r for r in records if isinstance(r, SafariFavicon)]
    assert [(f.url, f.status) for f in favs] == [
        ("https://news.example.com/a", "valid"), ("https://md-news-direct.com/x", "valid"), ("https://a.example/", "rejected"),
    ]
    assert favs[0].stored == WHEN and favs[0].icon_url == "https://news.example.com/favicon.ico"
    assert (Obs.DOMAIN, "md-news-direct.com") in {(o.type, o.value) for o in observables_of(favs[1])}


def test_the_original_schema_without_rejected_resources_in_a_safari_container(backup: BackupBuilder) -> None:
    rows = {k: v for k, v in ROWS.items() if k != "rejected_resources"}
    backup.add_sqlite("AppDomain-com.apple.mobilesafari", STORE, "ios/Favicons.db/safarishared-v1.sql", rows)
    records, cov = run(SafariFaviconsParser, backup.finish())
    assert cov.status is Status.PARSED and len(records) == 2
    assert {r.app for r in records if isinstance(r, SafariFavicon)} == {"com.apple.mobilesafari"}


def test_a_page_without_icon_info_yields_nothing(dump: DumpBuilder) -> None:
    dump.add_sqlite("/private/var/mobile/" + STORE, SCHEMA, {"page_url": [{"url": "https://x.example/", "uuid": "NONE"}]})
    records, cov = run_evidence(SafariFaviconsParser, dump.finish("tar"))
    assert records == [] and cov.status is Status.PARSED


@settings(max_examples=15, deadline=None)
@given(pages=st.lists(st.fixed_dictionaries({"url": VALUES, "uuid": st.sampled_from(["U1", "U2"])}), max_size=4),
       icons=st.lists(st.fixed_dictionaries({"uuid": st.sampled_from(["U1", "U2"]), "url": VALUES, "timestamp": VALUES}),
                      max_size=2, unique_by=lambda d: d["uuid"]))
def test_garbage_rows_never_crash(pages: list[dict[str, Any]], icons: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = garbage_db(Path(tmp), SCHEMA, {"page_url": pages, "icon_info": icons}, ("page_url", "url"))
        records, cov = run_file(SafariFaviconsParser, "HomeDomain", STORE, data)
    assert_tolerated(records, cov)
