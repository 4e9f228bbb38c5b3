"""Every record type of every parser, filled with hostile text, goes through every later stage.

Parsers pass evidence text through as it is (they yield facts); what must never happen is that a
later stage interprets it or fails on it. For each record class a registered parser declares,
hypothesis fills every text field with console markup, escape sequences, terminal hyperlinks,
spreadsheet formulas, lone surrogates and the like, and the records go through observable
expansion, indicator matching, the heuristics, the records file, the timeline, the console and
recheck's deserialisation.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders.fuzz import HOSTILE_TEXT
from unmask.detect.heuristics.base import HeuristicContext, Heuristics
from unmask.detect.indicators.index import IndicatorIndex
from unmask.detect.indicators.match import match_records
from unmask.model import Indicator, Record
from unmask.observables import observables_of
from unmask.parsers.registry import record_from_json, registry
from unmask.report.outputs import RecordsFile, iter_records_file
from unmask.report.writers import timeline_lines
from unmask.safetext import for_console, for_csv

RECORD_TYPES = sorted({rc for p in registry() for rc in p.records}, key=lambda c: c.kind)
TEXT = st.one_of(HOSTILE_TEXT, st.text(max_size=40), st.just("\ud800 lone surrogate"))
WHEN = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def _strategy(tp: Any) -> st.SearchStrategy[Any] | None:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _strategy(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        parts = [s for a in typing.get_args(tp) if (s := _strategy(a)) is not None]
        return st.one_of(*parts) if parts else None
    if tp is type(None):
        return st.none()
    if tp is str:
        return TEXT
    if tp is int:
        return st.integers(-(2**70), 2**70)
    if tp is float:
        return st.floats(allow_nan=True)
    if tp is bool:
        return st.booleans()
    if tp is bytes:
        return st.binary(max_size=16)
    if tp is datetime:
        return st.just(WHEN)
    if origin is tuple:
        inner = _strategy(typing.get_args(tp)[0])
        return st.lists(inner, max_size=3).map(tuple) if inner is not None else None
    return None


def records_of(cls: type[Record]) -> st.SearchStrategy[Record]:
    hints = typing.get_type_hints(cls, include_extras=True)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for f in dataclasses.fields(cls):
        strategy = _strategy(hints[f.name])
        if strategy is not None:
            fields[f.name] = strategy
    return st.builds(cls, **fields)


INDEX = IndicatorIndex.build([
    Indicator("domain-name:value", "evil.example", "Test", "indicator--1", "test"),
    Indicator("process:name", "[/x]", "Test", "indicator--2", "test"),
])


@pytest.mark.parametrize("cls", RECORD_TYPES, ids=lambda c: c.kind)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_text_in_any_field_passes_every_stage(cls: type[Record], data: st.DataObject, tmp_path: Path) -> None:
    records = data.draw(st.lists(records_of(cls), min_size=1, max_size=3))
    for record in records:
        list(observables_of(record))
        shown = for_console(record.describe())
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in shown)
    findings = match_records(records, INDEX)
    for f in findings:
        for_console(f.message)
    rules = Heuristics()
    rules.feed(records)
    rules.finish(HeuristicContext(metadata={"ios_version": "[/x]"}))
    for line in timeline_lines("test", records):
        description = line.rsplit('","', 1)[-1]
        assert not description.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert for_csv(description) is not None
    out = RecordsFile(tmp_path, f"shape_{abs(hash(cls.kind))}")
    out.write(records)
    out.close()
    back = [record_from_json(row) for row in iter_records_file(out.path)]
    assert [type(r) for r in back] == [type(r) for r in records]
    json.dumps([f.to_json() for f in findings], default=str)
