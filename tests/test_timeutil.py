from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from unmask import timeutil


def test_epochs() -> None:
    assert timeutil.unix(1700000000) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert timeutil.unix_ms(1700000000123) == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert timeutil.cocoa(0.5) == datetime(2001, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)
    assert timeutil.cocoa(726_000_000) == datetime(2024, 1, 3, 18, 40, tzinfo=UTC)
    assert timeutil.cocoa_ns(726_000_000 * 10**9) == timeutil.cocoa(726_000_000)
    assert timeutil.webkit(13_350_000_000_000_000) == datetime(2024, 1, 17, 21, 20, tzinfo=UTC)


def test_auto_units() -> None:
    assert timeutil.cocoa_auto(726_000_000) == timeutil.cocoa_auto(726_000_000 * 10**9)
    base = timeutil.unix(1_700_000_000)
    assert base == timeutil.unix_auto(1_700_000_000_000) == timeutil.unix_auto(1_700_000_000_000_000)
    assert base == timeutil.unix_auto(1_700_000_000_000_000_000)


def test_empty_and_garbage_give_none() -> None:
    for value in (None, 0, "", "abc", b"\xff", float("nan"), float("inf"), True, [], 10**30, -(10**30)):
        assert timeutil.unix(value) is None
        assert timeutil.cocoa(value) is None
        assert timeutil.webkit(value) is None


@given(st.one_of(st.integers(), st.floats(allow_nan=True), st.text(), st.binary(), st.none()))
def test_converters_never_raise_and_return_aware_utc(value: object) -> None:
    for fn in (
        timeutil.unix,
        timeutil.unix_ms,
        timeutil.unix_auto,
        timeutil.cocoa,
        timeutil.cocoa_auto,
        timeutil.webkit,
        timeutil.unix_ns,
        timeutil.unix_us,
    ):
        result = fn(value)
        assert result is None or result.tzinfo is UTC


@given(st.one_of(st.integers(), st.none(), st.floats(allow_nan=False)))
def test_int_fast_path_equals_the_general_one(value: object) -> None:
    assert timeutil.unix_int(value) == timeutil.unix(value)


def test_aware() -> None:
    assert timeutil.aware(datetime(2024, 1, 1)).tzinfo is UTC
