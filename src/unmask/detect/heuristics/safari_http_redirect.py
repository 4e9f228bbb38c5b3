"""An ``http://`` Safari visit redirected to another site within a second (network injection)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

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
    kinds = ("ios/safari_history/visit",)
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

    def check(self, records: Sequence[Record], ctx: HeuristicContext) -> Iterator[Finding]:
        """Per History.db, link visits by both redirect columns and check each pair once."""
        by_db: dict[str, dict[int, SafariVisit]] = {}
        for record in records:
            if isinstance(record, SafariVisit) and record.visit_id is not None:
                by_db.setdefault(record.device_path, {})[record.visit_id] = record
        for visits in by_db.values():
            pairs: dict[tuple[int, int], None] = {}
            for visit_id, visit in visits.items():
                if visit.redirect_destination is not None:
                    pairs[(visit_id, visit.redirect_destination)] = None
                if visit.redirect_source is not None:
                    pairs[(visit.redirect_source, visit_id)] = None
            for source_id, destination_id in pairs:
                source, destination = visits.get(source_id), visits.get(destination_id)
                if source is not None and destination is not None:
                    finding = self._check_pair(source, destination)
                    if finding is not None:
                        yield finding

    def _check_pair(self, source: SafariVisit, destination: SafariVisit) -> Finding | None:
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
