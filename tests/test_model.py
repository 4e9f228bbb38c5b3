from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, ClassVar

import pytest

from unmask.model import Finding, Obs, Record, Severity


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
    obs = {(o.type, o.value, o.field) for o in rec.observables()}
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
