from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.detect.heuristics.base import HeuristicContext, registry
from unmask.detect.heuristics.safari_http_redirect import SafariHttpRedirect, same_site
from unmask.model import Obs, Record, Severity
from unmask.parsers.ios.safari_history import SafariHistoryParser, SafariVisit
from unmask.timeutil import to_cocoa

SCHEMA = "ios/History.db/ios11.sql"
T0 = datetime(2021, 7, 1, 10, 0, tzinfo=UTC)


def _history(backup: BackupBuilder, chains: list[tuple[str, str, float, str]]) -> list[Record]:
    """One redirect per chain: (source URL, destination URL, delay s, which columns link them)."""
    items: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    for n, (src, dst, delay, link) in enumerate(chains):
        s_id, d_id = 2 * n + 1, 2 * n + 2
        for item_id, url in ((s_id, src), (d_id, dst)):
            items.append(
                {
                    "id": item_id,
                    "url": url,
                    "visit_count": 1,
                    "daily_visit_counts": b"",
                    "should_recompute_derived_visit_counts": 0,
                    "visit_count_score": 0,
                }
            )
        start = T0 + timedelta(minutes=n)
        visits.append(
            {
                "id": s_id,
                "history_item": s_id,
                "visit_time": to_cocoa(start),
                "redirect_destination": d_id if link in ("both", "destination") else None,
            }
        )
        visits.append(
            {
                "id": d_id,
                "history_item": d_id,
                "visit_time": to_cocoa(start + timedelta(seconds=delay)),
                "redirect_source": s_id if link in ("both", "source") else None,
            }
        )
    backup.add_sqlite(
        "HomeDomain",
        "Library/Safari/History.db",
        SCHEMA,
        rows={"history_items": items, "history_visits": visits},
    )
    records, _ = run(SafariHistoryParser, backup.finish())
    return records


def _findings(records: list[Record]) -> list[tuple[str | None, str | None]]:
    by_locator = {r.locator: r for r in records if isinstance(r, SafariVisit)}
    out = []
    for f in SafariHttpRedirect().check(records, HeuristicContext()):
        src = by_locator[f.locator]
        out.append((src.url, f.observable.value if f.observable else None))
    return out


@pytest.mark.parametrize("link", ["both", "destination", "source"])
def test_http_redirect_to_another_domain_is_flagged_in_either_direction(
    backup: BackupBuilder, link: str
) -> None:
    records = _history(backup, [("http://news.example.com/a", "https://evil.example.net/x", 0.4, link)])
    findings = list(SafariHttpRedirect().check(records, HeuristicContext()))
    assert len(findings) == 1  # one pair, however many columns link it
    (finding,) = findings
    assert (finding.rule, finding.severity, finding.locator) == (
        "safari-http-redirect",
        Severity.MEDIUM,
        "history_visits.id=1",
    )
    assert finding.observable is not None
    assert (finding.observable.type, finding.observable.value) == (Obs.URL, "https://evil.example.net/x")
    assert finding.timestamp == T0
    assert "evil.example.net" in finding.message and "0.400 s" in finding.message


def test_benign_and_out_of_scope_redirects_are_not_flagged(backup: BackupBuilder) -> None:
    records = _history(
        backup,
        [
            ("http://example.com/", "https://www.example.com/", 0.1, "both"),  # http→https on a sub-domain
            ("http://www.example.org/", "https://example.org/", 0.1, "both"),  # the reverse
            ("HTTP://Example.COM/x", "https://EXAMPLE.com/x", 0.1, "both"),  # case differences
            ("https://secure.example/", "https://other.example/", 0.1, "both"),  # not plain http
            ("http://slow.example/", "https://elsewhere.example/", 3.0, "both"),  # too slow: a user click
            ("http://edge.example/", "https://edge-other.example/", 1.0, "both"),  # exactly one second
            ("http://10.0.0.1/", "https://10.0.0.1/login", 0.1, "both"),  # same IP
        ],
    )
    assert _findings(records) == []


def test_sibling_sub_domains_and_ip_destinations_count_as_different(backup: BackupBuilder) -> None:
    records = _history(
        backup,
        [
            ("http://a.example.com/", "https://b.example.com/", 0.2, "both"),
            ("http://portal.example/", "http://93.184.216.34/x", 0.9, "destination"),
            ("http://bbc.co.uk/", "https://evil.co.uk/", 0.0, "source"),
        ],
    )
    assert _findings(records) == [
        ("http://a.example.com/", "https://b.example.com/"),
        ("http://portal.example/", "http://93.184.216.34/x"),
        ("http://bbc.co.uk/", "https://evil.co.uk/"),
    ]


def test_same_site() -> None:
    assert same_site("example.com", "www.example.com") and same_site("m.example.com", "example.com")
    assert not same_site("a.example.com", "b.example.com")
    assert not same_site("example.com", "badexample.com")  # suffix only on a label boundary
    assert not same_site("example.com.evil.net", "example.com")
    assert same_site("10.0.0.1", "10.0.0.1") and not same_site("10.0.0.1", "0.0.1")


def test_visits_in_different_databases_are_not_linked() -> None:
    base = {"visit_time": T0, "load_successful": True}
    records: list[Record] = [
        SafariVisit(
            device_path="/a/History.db", url="http://x.example/", visit_id=1, redirect_destination=2, **base
        ),
        SafariVisit(
            device_path="/b/History.db", url="https://y.example/", visit_id=2, redirect_source=1, **base
        ),
    ]
    assert list(SafariHttpRedirect().check(records, HeuristicContext())) == []


def test_registered() -> None:
    assert SafariHttpRedirect in registry()
