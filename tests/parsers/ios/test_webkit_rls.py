from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.fuzz import VALUES, assert_tolerated, garbage_db, run_file
from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from tests.builders.schema import db_bytes
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.webkit_rls import ObservedDomain, WebKitResourceLoadStatisticsParser, container_of

SCHEMA = "ios/observations.db/ios16.sql"
STORE = "Library/WebKit/WebsiteData/ResourceLoadStatistics/observations.db"
SVS = "SystemData/com.apple.SafariViewService/"
SEEN = datetime(2023, 1, 10, 12, 0, 0, tzinfo=UTC)
TOUCHED = datetime(2023, 1, 9, 8, 30, 15, 500000, tzinfo=UTC)


def domain(id_: int, name: str, last_seen: float, interaction: int = 0, when: float = 0.0) -> dict[str, Any]:
    return {
        "domainID": id_,
        "registrableDomain": name,
        "lastSeen": last_seen,
        "hadUserInteraction": interaction,
        "mostRecentUserInteractionTime": when,
        "grandfathered": 0,
        "isPrevalent": 1 if id_ == 2 else 0,
        "isVeryPrevalent": 0,
        "dataRecordsRemoved": 0,
        "timesAccessedAsFirstPartyDueToUserInteraction": 0,
        "timesAccessedAsFirstPartyDueToStorageAccessAPI": 0,
        "isScheduledForAllButCookieDataRemoval": 0,
    }


ROWS = {
    "ObservedDomains": [
        # WebKit stores WallTime seconds since the Unix epoch.
        domain(1, "example.com", SEEN.timestamp(), 1, TOUCHED.timestamp()),
        domain(2, "tracker.example", SEEN.timestamp()),
    ]
}


@pytest.mark.parametrize(
    ("backup_domain", "relative", "device_path", "container", "app_id", "svs"),
    [
        (
            "AppDomain-com.google.chrome.ios",
            STORE,
            "/private/var/mobile/Containers/Data/Application/com.google.chrome.ios/" + STORE,
            "com.google.chrome.ios",
            "com.google.chrome.ios",
            False,
        ),
        (
            "AppDomain-net.whatsapp.WhatsApp",
            SVS + STORE,
            "/private/var/mobile/Containers/Data/Application/net.whatsapp.WhatsApp/" + SVS + STORE,
            "net.whatsapp.WhatsApp",
            "net.whatsapp.WhatsApp",
            True,
        ),
        ("HomeDomain", STORE, "/private/var/mobile/" + STORE, None, None, False),
    ],
)
def test_observed_domains_in_any_container(
    backup: BackupBuilder,
    backup_domain: str,
    relative: str,
    device_path: str,
    container: str | None,
    app_id: str | None,
    svs: bool,
) -> None:
    backup.add_sqlite(backup_domain, relative, SCHEMA, rows=ROWS)
    records, cov = run(WebKitResourceLoadStatisticsParser, backup.finish())
    assert cov.status is Status.PARSED and [a.device_path for a in cov.artefacts] == [device_path]
    first, second = records
    assert isinstance(first, ObservedDomain) and isinstance(second, ObservedDomain)
    assert (first.domain, first.domain_id, first.locator) == ("example.com", 1, "ObservedDomains.domainID=1")
    assert (first.last_seen, first.had_user_interaction, first.most_recent_user_interaction) == (
        SEEN,
        True,
        TOUCHED,
    )
    assert first.last_seen is not None and first.last_seen.tzinfo is UTC
    assert (second.had_user_interaction, second.most_recent_user_interaction, second.is_prevalent) == (
        False,
        None,
        True,
    )
    assert (first.container, first.app_id, first.safari_view_service) == (container, app_id, svs)
    obs = {(o.type, o.value) for o in observables_of(first)}
    assert (Obs.DOMAIN, "example.com") in obs
    assert ((Obs.APP_ID, app_id.lower()) in obs) if app_id else not any(t is Obs.APP_ID for t, _ in obs)


def test_container_of_full_filesystem_paths() -> None:
    uuid = "0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9"
    assert container_of(f"/private/var/mobile/Containers/Data/Application/{uuid}/{STORE}") == (
        uuid,
        None,
        False,
    )
    assert container_of(f"/private/var/mobile/Containers/Data/Application/{uuid}/{SVS}{STORE}") == (
        uuid,
        None,
        True,
    )
    assert container_of(f"/private/var/containers/Data/System/com.apple.foo/{STORE}") == (
        "com.apple.foo",
        "com.apple.foo",
        False,
    )
    assert container_of(f"/private/var/mobile/{STORE}") == (None, None, False)


def test_missing_table_is_unsupported(backup: BackupBuilder) -> None:
    backup.add_sqlite("HomeDomain", STORE, None, extra_sql="CREATE TABLE OperatingDates (year INTEGER);")
    records, cov = run(WebKitResourceLoadStatisticsParser, backup.finish())
    assert records == [] and cov.status is Status.UNSUPPORTED and "ObservedDomains" in (cov.reason or "")


COLS = ["registrableDomain", "lastSeen", "hadUserInteraction", "mostRecentUserInteractionTime", "isPrevalent"]


@settings(max_examples=30, deadline=None)
@given(domains=st.lists(st.fixed_dictionaries({c: VALUES for c in COLS}), max_size=6))
def test_garbage_rows_never_crash(domains: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = garbage_db(
            Path(tmp), SCHEMA, {"ObservedDomains": domains}, ("ObservedDomains", "registrableDomain")
        )
        records, cov = run_file(WebKitResourceLoadStatisticsParser, "AppDomain-com.example.app", STORE, data)
    assert_tolerated(records, cov)
    assert cov.status is Status.PARSED and len(records) == len(domains)


@settings(max_examples=30, deadline=None)
@given(cut=st.floats(min_value=0.0, max_value=0.99))
def test_truncated_database_never_crashes(cut: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = db_bytes(Path(tmp) / "scratch", SCHEMA, ROWS)
        records, cov = run_file(
            WebKitResourceLoadStatisticsParser,
            "AppDomain-com.example.app",
            STORE,
            data[: int(len(data) * cut)],
        )
    assert_tolerated(records, cov)
