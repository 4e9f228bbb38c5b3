"""An ``http://`` Safari visit redirected to another site within a second (network injection)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Obs, Observable, Record, Severity
from unmask.observables import normalize_ip, url_parts
from unmask.parsers.ios.safari_history import SafariVisit

# The published heuristic: the redirect happened in less than a second, i.e. without the user.
MAX_SECONDS = 1.0


def same_site(a: str, b: str) -> bool:
    """Whether two normalised hosts belong together: equal, or one a sub-domain of the other.

    ``example.com`` → ``www.example.com`` (the everyday http→https upgrade) is the same site.
    Siblings such as ``a.example.com`` → ``b.example.com`` count as different: without a public
    suffix list, "same registrable domain" cannot be decided safely (``bbc.co.uk`` and
    ``evil.co.uk`` share ``co.uk``), and missing an injection is worse than a sibling redirect to
    review. IP addresses are the same site only when equal.
    """
    if a == b:
        return True
    if normalize_ip(a) is not None or normalize_ip(b) is not None:
        return False
    return a.endswith("." + b) or b.endswith("." + a)


class SafariHttpRedirect(Heuristic):
    """Flag an ``http://`` visit that Safari recorded as redirected to another site in under a second."""

    id = "safari-http-redirect"
    title = "Plain-HTTP page redirected to another site"
    severity = Severity.MEDIUM
    consumes = (SafariVisit,)
    reference = (
        "Amnesty International Security Lab, 'Forensic Methodology Report: How to catch NSO Group's "
        "Pegasus' (2021), network-injection redirects in Safari history; MVT SafariHistory redirect "
        "check (research/mvt.md §3.3)"
    )
    explanation = (
        "Network-injection attacks (Pegasus via operator equipment) wait for the phone to load any "
        "unencrypted http:// page and rewrite the answer into a redirect to an exploit server. Safari "
        "then records the http:// visit and, within a second, a visit to an unrelated domain."
    )
    benign = (
        "Many sites redirect plain-HTTP requests elsewhere legitimately: link shorteners, tracking and "
        "login redirects, captive portals, moved domains. Judge by the destination domain."
    )

    def __init__(self) -> None:
        # Per History.db, the few fields pairing needs for every visit, and the whole record only
        # for plain-HTTP visits (the only possible sources, and what a finding is about).
        self._visits: dict[str, dict[int, _Visit]] = {}
        self._http: dict[tuple[str, int], SafariVisit] = {}

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        """Remember each visit's id, URL, time and redirect links."""
        for record in records:
            if not isinstance(record, SafariVisit) or record.visit_id is None:
                continue
            self._visits.setdefault(record.device_path, {})[record.visit_id] = _Visit(
                record.url, record.visit_time, record.redirect_source, record.redirect_destination
            )
            key = (record.device_path, record.visit_id)
            parts = url_parts(record.url) if record.url else None
            if parts is not None and parts[0].startswith("http://"):
                self._http[key] = record
            else:
                self._http.pop(key, None)  # a later row with the same id replaces the earlier one
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterator[Finding]:
        """Per History.db, link visits by both redirect columns and check each pair once."""
        for db, visits in self._visits.items():
            pairs: dict[tuple[int, int], None] = {}
            for visit_id, visit in visits.items():
                if visit.redirect_destination is not None:
                    pairs[(visit_id, visit.redirect_destination)] = None
                if visit.redirect_source is not None:
                    pairs[(visit.redirect_source, visit_id)] = None
            for source_id, destination_id in pairs:
                source, destination = self._http.get((db, source_id)), visits.get(destination_id)
                if source is not None and destination is not None:
                    finding = self._check_pair(source, destination)
                    if finding is not None:
                        yield finding

    def _check_pair(self, source: SafariVisit, destination: _Visit) -> Finding | None:
        src = url_parts(source.url) if source.url else None
        dst = url_parts(destination.url) if destination.url else None
        if src is None or dst is None or not src[0].startswith("http://"):
            return None
        if source.visit_time is None or destination.visit_time is None:
            return None
        delay = abs((destination.visit_time - source.visit_time).total_seconds())
        if delay >= MAX_SECONDS or same_site(src[1], dst[1]):
            return None
        return self.finding(
            source,
            f"http:// visit {source.url} redirected to {destination.url} ({dst[1]}) after {delay:.3f} s",
            observable=Observable(Obs.URL, destination.url or "", "redirect_destination_url"),
        )


class _Visit(NamedTuple):
    url: str | None
    visit_time: datetime | None
    redirect_source: int | None
    redirect_destination: int | None
