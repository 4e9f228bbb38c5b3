from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, ClassVar

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.matching import INDICATORS, OBSERVATIONS, ind
from tests.builders.sample import build_sample
from unmask.acquisition import open_ios_backup
from unmask.detect.indicators.index import IndicatorIndex
from unmask.detect.indicators.match import match_records
from unmask.detect.indicators.sets import bundled_files, load_sets
from unmask.model import Finding, Indicator, Obs, Observable, Record
from unmask.observables import observables_of, record_pairs
from unmask.parsers.base import run_parser
from unmask.parsers.registry import registry


class _Remote:
    """The index behind the Matcher protocol as a remote backend uses it: every value looked up
    must have been prefetched first (a confidential matcher would pay a round trip otherwise)."""

    def __init__(self, index: IndicatorIndex) -> None:
        self.index = index
        self.prefetched: set[tuple[Obs, str]] = set()
        self.looked_up = 0

    def prefetch(self, observables: Iterable[Observable]) -> None:
        self.prefetched.update((o.type, o.value) for o in observables)

    def lookup(self, kind: Obs, value: str) -> Sequence[Indicator]:
        assert (kind, value) in self.prefetched, (kind, value)
        self.looked_up += 1
        return self.match(Observable(kind, value))

    def match(self, observable: Observable) -> Sequence[Indicator]:
        return self.index.match(observable)


@dataclass(frozen=True, slots=True, kw_only=True)
class Mixed(Record):
    kind: ClassVar[str] = "test/mixed"
    url: Annotated[str | None, Obs.URL] = None
    host: Annotated[str | None, Obs.HOST] = None
    hosts: Annotated[tuple[str, ...], Obs.HOST] = ()
    path: Annotated[str | None, Obs.FILE_PATH] = None
    process: Annotated[str | None, Obs.PROCESS] = None
    handle: Annotated[str | None, Obs.PHONE_OR_EMAIL] = None
    app: Annotated[str | None, Obs.APP_ID] = None
    sha256: Annotated[str | None, Obs.SHA256] = None
    links: Annotated[tuple[str, ...], Obs.URL] = ()
    note: str = ""


_FIELD_OF = {
    Obs.URL: "url",
    Obs.HOST: "host",
    Obs.FILE_PATH: "path",
    Obs.PROCESS: "process",
    Obs.PHONE_OR_EMAIL: "handle",
    Obs.APP_ID: "app",
    Obs.SHA256: "sha256",
}


def _record(observations: list[Observable], n: int) -> Mixed:
    values: dict[str, object] = {}
    extra_hosts: list[str] = []
    extra_links: list[str] = []
    for o in observations:
        name = _FIELD_OF[o.type]
        if name in values:  # more than one of a type: the sequence fields take the rest
            (extra_links if o.type is Obs.URL else extra_hosts).append(o.value)
        else:
            values[name] = o.value
    hosts = (*extra_hosts, "")
    return Mixed(device_path=f"/r/{n}", locator=str(n), hosts=hosts, links=tuple(extra_links), **values)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    indicators=st.lists(INDICATORS, max_size=25),
    records=st.lists(st.lists(OBSERVATIONS, max_size=6), max_size=4),
)
def test_a_remote_backend_is_asked_only_what_it_prefetched_and_answers_the_same(
    indicators: list[Indicator], records: list[list[Observable]]
) -> None:
    index = IndicatorIndex.build(indicators)
    recs = [_record(obs, n) for n, obs in enumerate(records)]
    for rec in recs:
        assert list(record_pairs(rec)) == [(o.field, o.type, o.value) for o in observables_of(rec)]
    hashes = {"/r/0": "00" * 32}
    remote = _Remote(index)
    assert match_records(recs, index, hashes) == match_records(recs, remote, hashes)
    assert remote.prefetched == {(o.type, o.value) for r in recs for o in observables_of(r)}
    assert remote.looked_up == sum(1 for r in recs for _ in observables_of(r))


def test_batches_give_the_findings_of_one_call(tmp_path: Path) -> None:
    sample = build_sample(tmp_path / "backup")
    acq = open_ios_backup(sample.root)
    records: list[Record] = []
    for parser in registry():
        got, _ = run_parser(parser(), acq)
        records.extend(got)
    index = IndicatorIndex.build(load_sets(bundled_files()).indicators)
    for rec in records:
        assert list(record_pairs(rec)) == [(o.field, o.type, o.value) for o in observables_of(rec)]
    whole = match_records(records, index)
    assert whole and whole == match_records(records, _Remote(index))
    batched: list[Finding] = []
    for start in range(0, len(records), 7):
        batched.extend(match_records(records[start : start + 7], index))
    assert batched == whole
    assert {f.indicator.value for f in whole if f.indicator} >= {"roleaccountd", "weather4free.com"}


def test_one_finding_per_record_and_indicator() -> None:
    index = IndicatorIndex.build([ind("domain-name:value", "evil.example")])
    rec = Mixed(device_path="/x", url="https://a.evil.example/p", hosts=("evil.example", "b.evil.example"))
    found = match_records([rec], index)
    assert [(f.observable.field, f.observable.value) for f in found if f.observable] == [
        ("url", "a.evil.example")
    ]
