from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
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
    # 2**1100: an integer past float range (a binary plist holds integers of up to 2^15 bytes).
    for value in (None, 0, "", "abc", b"\xff", float("nan"), float("inf"), True, [], 10**30, -(10**30), 2**1100):
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


# --- local wall-clock times -----------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SYSLOG = ["%b %d %H:%M:%S"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "offset"),
    [
        ("+0100", timedelta(hours=1)),
        ("-05:30", timedelta(hours=-5, minutes=-30)),
        ("+05:45", timedelta(hours=5, minutes=45)),
        ("UTC+2", timedelta(hours=2)),
        ("GMT-03:00", timedelta(hours=-3)),
        ("utc +01:00", timedelta(hours=1)),
        ("+14", timedelta(hours=14)),
        ("-0000", timedelta(0)),
    ],
)
def test_zone_fixed_offsets(name: str, offset: timedelta) -> None:
    tz = timeutil.zone(name)
    assert tz is not None
    assert tz.utcoffset(None) == offset


def test_zone_names() -> None:
    for name in ("UTC", "GMT", "Z", "z", " UTC "):
        assert timeutil.zone(name) is UTC
    assert timeutil.zone("Europe/Berlin") == BERLIN
    assert timeutil.zone("America/New_York") == NEW_YORK
    assert timeutil.zone("Etc/GMT-2").utcoffset(None) == timedelta(hours=2)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "name",
    [
        None,
        "",
        "garbage",
        "Europe",
        "europe/berlin",
        "CEST",
        "+25",
        "+01:60",
        "UTC+",
        "../etc/passwd",
        "/etc/localtime",
        "localtime",
        "right/UTC",
        "a\x00b",
        "x" * 1000,
        "Europe/Berlin/x",
    ],
)
def test_zone_unknown_is_none(name: str | None) -> None:
    assert timeutil.zone(name) is None


@given(st.text())
def test_zone_never_raises(name: str) -> None:
    result = timeutil.zone(name)
    assert result is None or datetime(2024, 1, 1, tzinfo=result).utcoffset() is not None


def test_parse_wall_explicit_offset_wins() -> None:
    got = timeutil.parse_wall("2024-03-01 10:00:00 +0100", ["%Y-%m-%d %H:%M:%S %z"], zone=NEW_YORK)
    assert got == timeutil.WallTime(utc(2024, 3, 1, 9), "")


def test_parse_wall_zone_flags() -> None:
    fmt = ["%Y-%m-%d %H:%M:%S"]
    assert timeutil.parse_wall("2024-03-01 10:00:00", fmt, zone=BERLIN) == timeutil.WallTime(
        utc(2024, 3, 1, 9), "zone"
    )
    assert timeutil.parse_wall("2024-03-01 10:00:00", fmt) == timeutil.WallTime(
        utc(2024, 3, 1, 10), "zone-unknown"
    )
    # The first format that matches is used.
    assert timeutil.parse_wall("01/03/2024 10:00", ["%Y-%m-%d", "%d/%m/%Y %H:%M"]) is not None


@pytest.mark.parametrize(
    ("tz", "text", "expected"),
    [
        # Spring forward: 02:00-03:00 does not exist; fold=0 reads it with the winter offset.
        (BERLIN, "2024-03-31 02:30", utc(2024, 3, 31, 1, 30)),
        (NEW_YORK, "2024-03-10 02:30", utc(2024, 3, 10, 7, 30)),
        # Fall back: 02:00-03:00 (Berlin) and 01:00-02:00 (New York) happen twice; fold=0 is the
        # first time, with the summer offset.
        (BERLIN, "2024-10-27 02:30", utc(2024, 10, 27, 0, 30)),
        (NEW_YORK, "2024-11-03 01:30", utc(2024, 11, 3, 5, 30)),
    ],
)
def test_dst_gaps_and_overlaps_are_flagged(tz: ZoneInfo, text: str, expected: datetime) -> None:
    assert timeutil.parse_wall(text, ["%Y-%m-%d %H:%M"], zone=tz) == timeutil.WallTime(
        expected, "zone,ambiguous"
    )


@pytest.mark.parametrize(
    ("tz", "text", "expected"),
    [
        (BERLIN, "2024-03-31 01:59", utc(2024, 3, 31, 0, 59)),
        (BERLIN, "2024-03-31 03:00", utc(2024, 3, 31, 1)),
        (BERLIN, "2024-10-27 03:00", utc(2024, 10, 27, 2)),
        (NEW_YORK, "2024-11-03 02:00", utc(2024, 11, 3, 7)),
        (NEW_YORK, "2024-07-01 12:00", utc(2024, 7, 1, 16)),
    ],
)
def test_times_around_dst_changes_are_not_ambiguous(tz: ZoneInfo, text: str, expected: datetime) -> None:
    assert timeutil.parse_wall(text, ["%Y-%m-%d %H:%M"], zone=tz) == timeutil.WallTime(expected, "zone")


def test_from_wall() -> None:
    assert timeutil.from_wall(datetime(2024, 1, 1, 12), BERLIN) == timeutil.WallTime(
        utc(2024, 1, 1, 11), "zone"
    )
    assert timeutil.from_wall(datetime(2024, 1, 1, 12), None) == timeutil.WallTime(
        utc(2024, 1, 1, 12), "zone-unknown"
    )
    aware = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert timeutil.from_wall(aware, BERLIN) == timeutil.WallTime(utc(2024, 1, 1, 10), "")
    # Out of the years a phone records, as for the epoch converters; never an OverflowError.
    assert timeutil.from_wall(datetime(1970, 1, 1), None) is None
    assert timeutil.from_wall(datetime.min, timezone(timedelta(hours=5))) is None
    assert timeutil.from_wall(datetime.max, timezone(timedelta(hours=-5))) is None


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        # A December line in a log collected in January belongs to the previous year.
        ("Dec 31 23:59:59", utc(2025, 1, 2, 8), utc(2024, 12, 31, 23, 59, 59)),
        ("Jan  2 07:00:00", utc(2025, 1, 2, 8), utc(2025, 1, 2, 7)),
        # Up to two days after the hint is still the hint's year (clock skew)...
        ("Jan  4 07:00:00", utc(2025, 1, 2, 8), utc(2025, 1, 4, 7)),
        # ...more is a year earlier.
        ("Jan  4 09:00:00", utc(2025, 1, 2, 8), utc(2024, 1, 4, 9)),
        ("Jun 15 12:00:00", utc(2025, 1, 2, 8), utc(2024, 6, 15, 12)),
        # A hint on New Year's Eve: a line just after midnight is in the next year.
        ("Jan  1 00:30:00", utc(2024, 12, 31, 23), utc(2025, 1, 1, 0, 30)),
    ],
)
def test_year_from_the_hint(text: str, hint: datetime, expected: datetime) -> None:
    assert timeutil.parse_wall(text, SYSLOG, year_hint=hint) == timeutil.WallTime(
        expected, "year,zone-unknown"
    )


def test_year_is_taken_in_the_device_zone() -> None:
    # 23:30 UTC on Dec 31 is already 00:30 on Jan 1 in Berlin: the device's year is 2025.
    hint = utc(2024, 12, 31, 23, 30)
    got = timeutil.parse_wall("Jan  1 00:10:00", SYSLOG, zone=BERLIN, year_hint=hint)
    assert got == timeutil.WallTime(utc(2024, 12, 31, 23, 10), "year,zone")
    # A text offset, and no year: the year is inferred, the zone is not.
    got = timeutil.parse_wall("Mar 01 10:00:00 +0100", ["%b %d %H:%M:%S %z"], zone=NEW_YORK, year_hint=hint)
    assert got == timeutil.WallTime(utc(2024, 3, 1, 9), "year")


def test_february_29_without_a_year() -> None:
    fmt = ["[%d/%b %H:%M:%S]"]
    assert timeutil.parse_wall("[29/Feb 10:00:00]", fmt, year_hint=utc(2024, 3, 10)) == timeutil.WallTime(
        utc(2024, 2, 29, 10), "year,zone-unknown"
    )
    assert timeutil.parse_wall("[29/Feb 10:00:00]", fmt, year_hint=utc(2025, 1, 10)) == timeutil.WallTime(
        utc(2024, 2, 29, 10), "year,zone-unknown"
    )
    assert timeutil.parse_wall("[29/Feb 10:00:00]", fmt, year_hint=utc(2025, 3, 10)) is None
    assert timeutil.parse_wall("[30/Feb 10:00:00]", fmt, year_hint=utc(2024, 3, 10)) is None
    assert timeutil.parse_wall("2023 Feb 29", ["%Y %b %d"]) is None


def test_parse_wall_garbage_and_missing_hint() -> None:
    assert timeutil.parse_wall("Mar  1 10:00:00", SYSLOG) is None  # no year and no hint
    for text in ("", "garbage", "Mar 1", "Foo  1 10:00:00", "Mar 32 10:00:00", "Mar  1 25:00:00"):
        assert timeutil.parse_wall(text, SYSLOG, year_hint=utc(2024, 5, 1)) is None
    assert timeutil.parse_wall("1970-01-01 00:00:05", ["%Y-%m-%d %H:%M:%S"]) is None  # a reset clock
    assert timeutil.parse_wall("anything", []) is None
    # A hint at the edge of what datetime holds, or naive (taken as UTC), never raises.
    assert timeutil.parse_wall("Mar  1 10:00:00", SYSLOG, year_hint=datetime.max.replace(tzinfo=UTC)) is None
    assert timeutil.parse_wall("Mar  1 10:00:00", SYSLOG, zone=BERLIN, year_hint=datetime.min) is None
    naive = timeutil.parse_wall("Mar  1 10:00:00", SYSLOG, year_hint=datetime(2024, 5, 1))
    assert naive == timeutil.WallTime(utc(2024, 3, 1, 10), "year,zone-unknown")


@given(
    st.text(max_size=40), st.sampled_from([SYSLOG, ["%Y-%m-%d %H:%M:%S%z"], ["%d/%m/%y %H:%M"], ["%j %H"]])
)
def test_parse_wall_never_raises(text: str, formats: list[str]) -> None:
    result = timeutil.parse_wall(text, formats, zone=BERLIN, year_hint=utc(2024, 5, 1))
    assert result is None or result.value.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T10:00:00.123456+01:00", timeutil.WallTime(utc(2024, 3, 1, 9, 0, 0, 123456), "")),
        ("2024-03-01T10:00:00Z", timeutil.WallTime(utc(2024, 3, 1, 10), "")),
        ("2024-03-01t10:00:00z", timeutil.WallTime(utc(2024, 3, 1, 10), "")),
        ("2024-03-01T10:00:00.123456789Z", timeutil.WallTime(utc(2024, 3, 1, 10, 0, 0, 123456), "")),
        ("2024-03-01 10:00:00-0500", timeutil.WallTime(utc(2024, 3, 1, 15), "")),
        ("2024-03-01 10:00:00", timeutil.WallTime(utc(2024, 3, 1, 9), "zone")),
        (" 2024-03-01 ", timeutil.WallTime(utc(2024, 2, 29, 23), "zone")),
    ],
)
def test_parse_iso(text: str, expected: timeutil.WallTime) -> None:
    assert timeutil.parse_iso(text, zone=BERLIN) == expected


def test_parse_iso_without_zone_and_garbage() -> None:
    assert timeutil.parse_iso("2024-03-01T10:00:00") == timeutil.WallTime(utc(2024, 3, 1, 10), "zone-unknown")
    for text in ("", "garbage", "2024-13-01", "2024-02-30T00:00:00", "1970-01-01T00:00:00Z", "10:00"):
        assert timeutil.parse_iso(text) is None


@given(st.text(max_size=40))
def test_parse_iso_never_raises(text: str) -> None:
    result = timeutil.parse_iso(text, zone=NEW_YORK)
    assert result is None or result.value.tzinfo is UTC


def syslog_lines(tracker: timeutil.YearTracker, texts: list[str]) -> list[datetime | None]:
    results = [tracker.parse(text, SYSLOG) for text in texts]
    return [r.value if r else None for r in results]


def test_tracker_follows_a_log_across_new_year() -> None:
    tracker = timeutil.YearTracker(utc(2025, 1, 3, 12))
    texts = ["Nov 20 08:00:00", "Dec 31 23:59:00", "Dec 31 23:58:00", "Jan  1 00:01:00", "Jan  3 11:00:00"]
    assert syslog_lines(tracker, texts) == [
        utc(2024, 11, 20, 8),
        utc(2024, 12, 31, 23, 59),
        utc(2024, 12, 31, 23, 58),  # a little out of order: same year
        utc(2025, 1, 1, 0, 1),
        utc(2025, 1, 3, 11),
    ]
    assert tracker.first_year == 2024 and tracker.wraps == 1 and not tracker.overshoot
    assert tracker.corrected_first_year() == 2024


def test_tracker_a_stray_line_from_last_year() -> None:
    # "Dec 31" after "Jan 1": nearer to the previous line in last December than next December.
    tracker = timeutil.YearTracker(utc(2025, 1, 3))
    assert syslog_lines(tracker, ["Jan  1 00:00:05", "Dec 31 23:59:59", "Jan  1 00:00:06"]) == [
        utc(2025, 1, 1, 0, 0, 5),
        utc(2024, 12, 31, 23, 59, 59),
        utc(2025, 1, 1, 0, 0, 6),
    ]


def test_tracker_flags_and_zone() -> None:
    tracker = timeutil.YearTracker(utc(2025, 1, 3), zone=BERLIN)
    assert tracker.resolve(12, 31, 23, 30) == timeutil.WallTime(utc(2024, 12, 31, 22, 30), "year,zone")
    assert tracker.resolve(1, 1, 0, 30) == timeutil.WallTime(utc(2024, 12, 31, 23, 30), "year,zone")
    assert tracker.resolve(13, 1) is None and tracker.resolve(2, 30) is None
    assert tracker.wraps == 1


def test_tracker_feb_29_and_lines_with_their_own_year() -> None:
    tracker = timeutil.YearTracker(utc(2024, 3, 5))
    assert syslog_lines(tracker, ["Feb 28 10:00:00", "Feb 29 10:00:00", "Mar  1 10:00:00"]) == [
        utc(2024, 2, 28, 10),
        utc(2024, 2, 29, 10),
        utc(2024, 3, 1, 10),
    ]
    tracker = timeutil.YearTracker(utc(2025, 3, 5))
    assert syslog_lines(tracker, ["Feb 28 10:00:00", "Feb 29 10:00:00"]) == [utc(2025, 2, 28, 10), None]
    # A line that carries its year sets the tracker's year for the lines that follow.
    tracker = timeutil.YearTracker(utc(2025, 3, 5))
    fmts = ["%Y %b %d %H:%M:%S", *SYSLOG]
    first = tracker.parse("2019 Dec 31 10:00:00", fmts)
    assert first == timeutil.WallTime(utc(2019, 12, 31, 10), "zone-unknown")
    assert tracker.parse("Jan  1 10:00:00", fmts) == timeutil.WallTime(
        utc(2020, 1, 1, 10), "year,zone-unknown"
    )


def test_tracker_log_longer_than_a_year_needs_the_second_pass() -> None:
    hint = utc(2025, 1, 10)
    texts = [
        "Jan  5 10:00:00",
        "Apr  1 10:00:00",
        "Jul  1 10:00:00",
        "Oct  1 10:00:00",
        "Dec 31 10:00:00",
        "Jan  8 10:00:00",
    ]
    one_pass = timeutil.YearTracker(hint)
    assert syslog_lines(one_pass, texts)[0] == utc(2025, 1, 5, 10)  # a year late: unknowable in one pass
    assert one_pass.overshoot
    second = timeutil.YearTracker(hint, first_year=one_pass.corrected_first_year())
    assert syslog_lines(second, texts) == [
        utc(2024, 1, 5, 10),
        utc(2024, 4, 1, 10),
        utc(2024, 7, 1, 10),
        utc(2024, 10, 1, 10),
        utc(2024, 12, 31, 10),
        utc(2025, 1, 8, 10),
    ]
    assert not second.overshoot


ZONES = st.one_of(
    st.timezones(),
    st.integers(-12 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
    st.sampled_from([BERLIN, NEW_YORK]),
)


@settings(max_examples=500, deadline=None)
@given(
    st.datetimes(min_value=datetime(1972, 1, 1), max_value=datetime(2098, 12, 1), timezones=st.just(UTC)),
    ZONES,
    st.integers(-86_400, 30 * 86_400),
)
def test_wall_time_without_year_round_trips(instant: datetime, tz: tzinfo, after: int) -> None:
    wall = instant.astimezone(tz).strftime("%b %d %H:%M:%S.%f")
    hint = instant + timedelta(seconds=after)
    got = timeutil.parse_wall(wall, ["%b %d %H:%M:%S.%f"], zone=tz, year_hint=hint)
    assert got is not None
    assert got.inferred.startswith("year,zone")
    if "ambiguous" not in got.inferred:
        assert got.value == instant
    # The tracker, given the same line alone, places it the same way.
    assert timeutil.YearTracker(hint, zone=tz).parse(wall, ["%b %d %H:%M:%S.%f"]) == got


@given(
    st.datetimes(min_value=datetime(1972, 1, 1), max_value=datetime(2098, 12, 1), timezones=st.just(UTC)),
    ZONES,
)
def test_iso_with_offset_round_trips(instant: datetime, tz: tzinfo) -> None:
    assert timeutil.parse_iso(instant.astimezone(tz).isoformat(), zone=BERLIN) == timeutil.WallTime(
        instant, ""
    )


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(1972, 1, 1), max_value=datetime(2097, 1, 1), timezones=st.just(UTC)),
    st.lists(st.integers(-3600, 150 * 86_400), max_size=12),
    st.integers(0, 2 * 86_400),
    st.sampled_from([BERLIN, NEW_YORK, UTC, timezone(timedelta(hours=-9, minutes=-30))]),
)
def test_tracker_is_exact_for_a_log_of_less_than_a_year(
    first: datetime, gaps: list[int], after: int, tz: tzinfo
) -> None:
    # Consecutive lines less than six months apart (a few out of order by up to an hour), the
    # whole log and the time to the hint less than a year less two days: the documented exact case.
    # (A first line exactly a year less two days before the hint is, by the two-day rule, this year's.)
    instants = [first]
    for gap in gaps:
        if instants[-1] + timedelta(seconds=gap + after) - first >= timedelta(days=362):
            break
        instants.append(instants[-1] + timedelta(seconds=gap))
    hint = max(instants) + timedelta(seconds=after)
    tracker = timeutil.YearTracker(hint, zone=tz)
    fmt = ["%b %d %H:%M:%S.%f"]
    for instant in instants:
        got = tracker.parse(instant.astimezone(tz).strftime(fmt[0]), fmt)
        assert got is not None
        if "ambiguous" not in got.inferred:
            assert got.value == instant
    assert not tracker.overshoot
