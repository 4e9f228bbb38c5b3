"""WebKit session resource log: origins with their redirect sources and destinations, per container."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings

from tests.builders.fuzz import assert_tolerated, plist_bytes, plist_dicts, run_file
from tests.builders.ios_backup import BackupBuilder
from tests.builders.ios_fs import DumpBuilder
from tests.builders.run import run, run_evidence
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.webkit_session_log import SessionResource, WebKitSessionLogParser

LOG = "full_browsing_session_resourceLog.plist"
SEEN = datetime(2023, 2, 2, 2, 2, 2, tzinfo=UTC)
VALUE = {"browsingStatistics": [
    {"PrevalentResourceOrigin": "weather4free.com", "lastSeen": SEEN.replace(tzinfo=None), "hadUserInteraction": False,
     "topFrameUniqueRedirectsFrom": [{"origin": "t.co"}], "topFrameUniqueRedirectsTo": [{"domain": "cdn.example.net"}],
     "subresourceUnderTopFrameOrigins": [{"origin": "static.example.org"}]},
    {"PrevalentResourceOrigin": "example.com"},
    "not a dict",
]}


def test_origins_and_redirects_in_safari_view_service(dump: DumpBuilder) -> None:
    app = dump.container("data", "net.whatsapp.WhatsApp")
    dump.add_plist(app + "/SystemData/com.apple.SafariViewService/Library/WebKit/WebsiteData/" + LOG, VALUE)
    records, cov = run_evidence(WebKitSessionLogParser, dump.finish("zip"))
    assert cov.status is Status.PARSED
    first, second = records
    assert isinstance(first, SessionResource) and isinstance(second, SessionResource)
    assert (first.origin, first.redirected_from, first.redirected_to, first.last_seen, first.app) == (
        "weather4free.com", ("t.co",), ("cdn.example.net",), SEEN, "net.whatsapp.WhatsApp")
    obs = {(o.type, o.value) for o in observables_of(first)}
    assert {(Obs.DOMAIN, "weather4free.com"), (Obs.DOMAIN, "static.example.org")} <= obs
    assert second.origin == "example.com" and second.redirected_to == ()


def test_the_itp_folder_in_a_backup(backup: BackupBuilder) -> None:
    backup.add_plist("AppDomain-com.apple.mobilesafari", "Library/WebKit/WebsiteData/ResourceLoadStatistics/" + LOG, VALUE)
    records, cov = run(WebKitSessionLogParser, backup.finish())
    assert cov.status is Status.PARSED and len(records) == 2


@settings(max_examples=20, deadline=None)
@given(value=plist_dicts())
def test_garbage_never_crashes(value: dict[str, Any]) -> None:
    rel = "Library/WebKit/WebsiteData/ResourceLoadStatistics/" + LOG
    records, cov = run_file(WebKitSessionLogParser, "AppDomain-com.example", rel, plist_bytes(value))
    assert_tolerated(records, cov)
