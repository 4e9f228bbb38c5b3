from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, ClassVar

import pytest

from unmask.model import Finding, Obs, Record, Severity
from unmask.observables import observables_of


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample(Record):
    kind: ClassVar[str] = "test/sample"
    summary: ClassVar[str] = "{who} visited {url}"
    when: datetime | None = None
    later: datetime | None = None
    who: Annotated[str, Obs.PHONE_OR_EMAIL]
    url: Annotated[str | None, Obs.URL] = None
    hosts: Annotated[tuple[str, ...], Obs.HOST] = ()
    note: str = ""


def test_observables_and_timestamps_derive_from_declarations() -> None:
    t = datetime(2024, 1, 1, tzinfo=UTC)
    rec = Sample(
        device_path="/x",
        who="A@B.example",
        url="https://evil.example/p",
        hosts=("1.2.3.4", ""),
        when=t,
        note="https://not.declared.example",
    )
    obs = {(o.type, o.value, o.field) for o in observables_of(rec)}
    assert obs == {
        (Obs.EMAIL, "a@b.example", "who"),
        (Obs.URL, "https://evil.example/p", "url"),
        (Obs.DOMAIN, "evil.example", "url"),
        (Obs.IPV4, "1.2.3.4", "hosts"),
    }
    assert list(rec.timestamps()) == [("when", t)] and rec.timestamp == t
    assert rec.describe() == "A@B.example visited https://evil.example/p"


def test_naive_or_non_utc_timestamps_are_refused() -> None:
    with pytest.raises(ValueError):
        Sample(device_path="/x", who="a", when=datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        Sample(device_path="/x", who="a", when=datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=2))))


def test_severity_order_and_parsing() -> None:
    assert [s.rank for s in Severity] == [0, 1, 2, 3, 4]
    assert Severity.parse(" HIGH ") is Severity.HIGH
    with pytest.raises(ValueError):
        Severity.parse("severe")


def test_finding_json_has_the_contract_keys() -> None:
    f = Finding(rule="r", severity=Severity.LOW, message="m", source="test/sample")
    assert {
        "severity",
        "rule",
        "message",
        "timestamp",
        "source",
        "device_path",
        "observable",
        "indicator",
    } <= set(f.to_json())


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("", ""),
        ("{kind}: {who}", "test/summaries: a@b"),
        ("{who} {hosts} {when} {missing} {n}", "a@b x.example y.example 2024-01-01T00:00:00+00:00  7"),
        ("{{literal}} {who}", "{literal} a@b"),
        ("{who:>10}", "test/summaries"),  # format specs are not supported: the kind stands in
    ],
)
def test_summaries_format_every_kind_of_field(template: str, expected: str) -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Summarised(Record):
        kind: ClassVar[str] = "test/summaries"
        summary: ClassVar[str] = template
        who: str
        hosts: tuple[str, ...] = ()
        when: datetime | None = None
        n: int | None = None

    rec = Summarised(
        device_path="/x", who="a@b", hosts=("x.example", "y.example"), when=datetime(2024, 1, 1, tzinfo=UTC), n=7
    )
    assert rec.describe() == expected
