"""Firefox for iOS: browser.db visits and favicons, places.db visits (source-derived DDL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings

from tests.builders.fuzz import assert_tolerated, run_file
from tests.builders.fuzz import db_bytes as fuzz_db
from tests.builders.fuzz import rows as fuzz_rows
from tests.builders.ios_backup import BackupBuilder
from tests.builders.ios_fs import DumpBuilder
from tests.builders.run import run, run_evidence
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.firefox_history import FirefoxFavicon, FirefoxHistoryParser, FirefoxVisit

GROUP = "AppDomainGroup-group.org.mozilla.ios.Firefox"
BROWSER = "firefox-ios/browser.db/schema-v39-source.sql"
PLACES = "firefox-ios/places.db/appservices-shared-schema.sql"
WHEN = datetime(2023, 9, 9, 9, 9, 9, tzinfo=UTC)
US = int(WHEN.timestamp() * 1_000_000)
BROWSER_ROWS: dict[str, list[dict[str, Any]]] = {
    "history": [{"id": 1, "guid": "g1", "url": "https://candiru-domain.example/x", "title": "t", "is_deleted": 0,
                 "should_upload": 0}],
    "visits": [{"id": 1, "siteID": 1, "date": US, "type": 1, "is_local": 1}],
    "favicons": [{"id": 1, "url": "https://candiru-domain.example/favicon.ico", "width": 16, "height": 16, "type": 1,
                  "date": WHEN.timestamp()}],
    "favicon_sites": [{"id": 1, "siteID": 1, "faviconID": 1}],
}


def test_browser_db_visits_and_favicons(backup: BackupBuilder) -> None:
    backup.add_sqlite(GROUP, "profile.profile/browser.db", BROWSER, BROWSER_ROWS)
    records, cov = run(FirefoxHistoryParser, backup.finish())
    assert cov.status is Status.PARSED
    visit, favicon = records
    assert isinstance(visit, FirefoxVisit) and isinstance(favicon, FirefoxFavicon)
    assert (visit.url, visit.visit_time, visit.is_local) == ("https://candiru-domain.example/x", WHEN, True)
    assert (favicon.url, favicon.page_url, favicon.stored) == (
        "https://candiru-domain.example/favicon.ico", "https://candiru-domain.example/x", WHEN)
    assert (Obs.DOMAIN, "candiru-domain.example") in {(o.type, o.value) for o in observables_of(favicon)}


def test_places_db_on_a_dump_and_mvts_path(dump: DumpBuilder) -> None:
    group = dump.container("group", "group.org.mozilla.ios.Firefox")
    dump.add_sqlite(group + "/profile.profile/places.db", PLACES, {
        "moz_places": [{"id": 1, "url": "https://example.net/", "title": "x", "url_hash": 1, "guid": "p1"}],
        "moz_historyvisits": [{"id": 1, "place_id": 1, "visit_date": US, "visit_type": 1, "is_local": 1}],
    })
    dump.add_sqlite("/private/var/mobile/profile.profile/browser.db", BROWSER, BROWSER_ROWS)
    records, cov = run_evidence(FirefoxHistoryParser, dump.finish("zip"))
    assert cov.status is Status.PARSED and len(cov.artefacts) == 2
    assert ("https://example.net/", WHEN) in {(r.url, r.visit_time) for r in records if isinstance(r, FirefoxVisit)}


def test_another_database_is_unsupported(backup: BackupBuilder) -> None:
    backup.add_sqlite(GROUP, "profile.profile/browser.db", None, extra_sql="CREATE TABLE x (a);")
    records, cov = run(FirefoxHistoryParser, backup.finish())
    assert records == [] and cov.status is Status.UNSUPPORTED


@settings(max_examples=15, deadline=None)
@given(visits=fuzz_rows(BROWSER, "visits"), history=fuzz_rows(BROWSER, "history"), favicons=fuzz_rows(BROWSER, "favicons"))
def test_garbage_rows_never_crash(
    visits: list[dict[str, Any]], history: list[dict[str, Any]], favicons: list[dict[str, Any]]
) -> None:
    data = fuzz_db(BROWSER, {"visits": visits, "history": history, "favicons": favicons})
    records, cov = run_file(FirefoxHistoryParser, GROUP, "profile.profile/browser.db", data)
    assert_tolerated(records, cov)
