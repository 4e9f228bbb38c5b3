"""Heuristics stream: fed in any batching, a rule finds what it finds on all records at once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from tests.builders.sample import build_sample
from unmask import api
from unmask.detect.heuristics.base import Heuristic, HeuristicContext, Heuristics, RecordRule, registry
from unmask.model import Finding, Record, Severity
from unmask.parsers.ios.sms import SmsMessage


@pytest.fixture(scope="module")
def sample_records(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Record], dict[str, object]]:
    sample = build_sample(tmp_path_factory.mktemp("heuristics") / "backup")
    result = api.check_backup(sample.root, screen=False)
    return [r for recs in result.records.values() for r in recs], result.metadata


def _keys(findings: Iterable[Finding]) -> list[tuple[str, str, str, str]]:
    return [(f.rule, f.severity.value, f.message, f.locator) for f in findings]


@pytest.mark.parametrize("size", [1, 7, 1000])
def test_batches_of_any_size_give_the_findings_of_one_batch(
    sample_records: tuple[list[Record], dict[str, object]], size: int
) -> None:
    records, metadata = sample_records
    ctx = HeuristicContext(metadata=dict(metadata))
    whole = Heuristics()
    expected = [*whole.feed(records), *whole.finish(ctx)]
    assert expected, "the sample backup must trip some heuristics"
    streamed = Heuristics()
    found: list[Finding] = []
    for start in range(0, len(records), size):
        found.extend(streamed.feed(records[start : start + size]))
    found.extend(streamed.finish(ctx))
    assert sorted(_keys(found)) == sorted(_keys(expected))
    # within one rule, findings come in record order whatever the batching
    for rule in {f.rule for f in expected}:
        assert _keys(f for f in found if f.rule == rule) == _keys(f for f in expected if f.rule == rule)


def test_rules_see_only_the_classes_they_consume(
    sample_records: tuple[list[Record], dict[str, object]],
) -> None:
    seen: dict[str, set[type]] = {}

    def spy(cls: type[Heuristic]) -> type[Heuristic]:
        class Spy(cls):  # type: ignore[valid-type, misc]
            def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
                seen.setdefault(cls.id, set()).update(type(r) for r in records)
                return super().feed(records)

        return Spy

    rules = Heuristics([spy(cls) for cls in registry()])
    rules.feed(sample_records[0])
    for cls in registry():
        assert all(issubclass(t, cls.consumes) for t in seen.get(cls.id, ()))


def test_a_broken_rule_is_reported_once_and_the_others_go_on() -> None:
    class Broken(RecordRule):
        id = "test-broken"
        consumes = (SmsMessage,)

        def check_record(self, record: SmsMessage):  # type: ignore[no-untyped-def]
            raise ValueError("boom")

    class Counting(RecordRule):
        id = "test-counting"
        consumes = (SmsMessage,)

        def check_record(self, record: SmsMessage):  # type: ignore[no-untyped-def]
            yield self.finding(record, "seen", severity=Severity.INFO)

    message = SmsMessage(device_path="/x", text="hi")
    rules = Heuristics([Broken, Counting])
    found = [*rules.feed([message]), *rules.feed([message]), *rules.finish(HeuristicContext())]
    assert [f.rule for f in found].count("unmask-internal-error") == 1
    assert [f.rule for f in found].count("test-counting") == 2
    assert "test-broken failed: ValueError: boom" in found[0].message


def test_a_streamed_scan_keeps_only_records_to_screen(tmp_path: Path) -> None:
    sample = build_sample(tmp_path / "backup")
    result = api.check_backup(sample.root, output=tmp_path / "out", screen=False)
    kept = {type(r) for recs in result.records.values() for r in recs}
    assert kept and all(cls.content is not None for cls in kept)


def test_repeated_findings_are_kept_up_to_a_cap_and_the_rest_counted() -> None:
    from unmask.detect.indicators.index import IndicatorIndex
    from unmask.detect.pipeline import Detection
    from unmask.model import Indicator

    index = IndicatorIndex.build([Indicator("domain-name:value", "evil.example", "Test", "indicator--1", "t")])
    detection = Detection(index, max_per_kind=10)
    messages = [SmsMessage(device_path="/x", locator=f"row={i}", links=("https://evil.example/x",)) for i in range(25)]
    detection.feed(messages[:12])
    detection.feed(messages[12:])
    found = detection.finish(HeuristicContext())
    matches = [f for f in found if f.indicator is not None]
    assert len(matches) == 11
    assert [f.locator for f in matches[:10]] == [f"row={i}" for i in range(10)]
    assert matches[10].message.startswith("15 more findings of Test indicator evil.example")
    assert matches[10].severity is matches[0].severity  # the verdict is unchanged by the cut
