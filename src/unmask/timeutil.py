"""The one place where raw numbers and time texts become datetimes.

Every converter returns an aware UTC datetime, or ``None`` for empty, zero, non-numeric or
out-of-range input: device databases hold NULLs, zeros, sentinel values and garbage, and a bad
timestamp must never stop a parser.

Text logs write local wall-clock times, often without a year or an offset. :func:`parse_wall`,
:func:`parse_iso`, :func:`from_wall` and :class:`YearTracker` turn them into a :class:`WallTime`:
the UTC instant and what had to be assumed to get it (the year from the collection time, the
device time zone, or UTC for want of one), which records carry so that a timeline shows it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_COCOA_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
_WEBKIT_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_COCOA_OFFSET = 978307200.0  # seconds from the Unix epoch to 2001-01-01
# Anything outside these years is a sentinel or garbage, not a time a phone recorded.
_MIN = datetime(1971, 1, 1, tzinfo=UTC)
_MAX = datetime(2100, 1, 1, tzinfo=UTC)


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | str | bytes):
        try:
            number = float(value)
        except (ValueError, OverflowError):  # OverflowError: an int past float range (plists hold them)
            return None
    else:
        return None
    if not math.isfinite(number) or number == 0:
        return None
    return number


def _from_unix_seconds(seconds: float) -> datetime | None:
    try:
        result = _UNIX_EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return None
    return result if _MIN <= result < _MAX else None


def unix(value: object) -> datetime | None:
    """Unix time in seconds (int or float)."""
    number = _number(value)
    return None if number is None else _from_unix_seconds(number)


_MIN_SECONDS = int((_MIN - _UNIX_EPOCH).total_seconds())
_MAX_SECONDS = int((_MAX - _UNIX_EPOCH).total_seconds())


def unix_int(value: object) -> datetime | None:
    """Unix seconds known to be an int (Manifest.db metadata): the same result as :func:`unix`,
    on a fast path for the common case, since a backup holds hundreds of thousands of them."""
    if type(value) is int and _MIN_SECONDS <= value < _MAX_SECONDS:
        return datetime.fromtimestamp(value, UTC)
    return unix(value)


def unix_ms(value: object) -> datetime | None:
    """Unix time in milliseconds (Java's ``System.currentTimeMillis``, Android databases)."""
    number = _number(value)
    return None if number is None else _from_unix_seconds(number / 1e3)


java = unix_ms


def unix_us(value: object) -> datetime | None:
    """Unix time in microseconds (Firefox places)."""
    number = _number(value)
    return None if number is None else _from_unix_seconds(number / 1e6)


def unix_ns(value: object) -> datetime | None:
    """Unix time in nanoseconds."""
    number = _number(value)
    return None if number is None else _from_unix_seconds(number / 1e9)


def unix_auto(value: object) -> datetime | None:
    """Unix time whose unit (s, ms, µs or ns) is inferred from its magnitude."""
    number = _number(value)
    if number is None:
        return None
    magnitude = abs(number)
    if magnitude < 1e11:
        return _from_unix_seconds(number)
    if magnitude < 1e14:
        return _from_unix_seconds(number / 1e3)
    if magnitude < 1e17:
        return _from_unix_seconds(number / 1e6)
    return _from_unix_seconds(number / 1e9)


def cocoa(value: object) -> datetime | None:
    """Mac absolute time in seconds since 2001-01-01 (Core Data ``TIMESTAMP`` columns, plists)."""
    number = _number(value)
    return None if number is None else _from_unix_seconds(number + _COCOA_OFFSET)


def cocoa_ns(value: object) -> datetime | None:
    """Mac absolute time in nanoseconds since 2001-01-01."""
    number = _number(value)
    return None if number is None else _from_unix_seconds(number / 1e9 + _COCOA_OFFSET)


def cocoa_auto(value: object) -> datetime | None:
    """Mac absolute time in seconds or nanoseconds, chosen by magnitude.

    sms.db stores seconds up to iOS 10 and nanoseconds from iOS 11; both occur in one database
    after an upgrade, so the unit is decided per value.
    """
    number = _number(value)
    if number is None:
        return None
    if abs(number) > 1e11:
        return _from_unix_seconds(number / 1e9 + _COCOA_OFFSET)
    return _from_unix_seconds(number + _COCOA_OFFSET)


def webkit(value: object) -> datetime | None:
    """Microseconds since 1601-01-01 (Chrome/Chromium ``visit_time``)."""
    number = _number(value)
    if number is None:
        return None
    try:
        result = _WEBKIT_EPOCH + timedelta(microseconds=number)
    except OverflowError:
        return None
    return result if _MIN <= result < _MAX else None


def aware(value: datetime) -> datetime:
    """A datetime from a trusted library (plistlib dates) as aware UTC; naive values are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def to_cocoa(value: datetime) -> float:
    """Inverse of :func:`cocoa`, for writers of test fixtures."""
    return (value - _COCOA_EPOCH).total_seconds()


# --- local wall-clock times -----------------------------------------------------------------------

_UTC_NAMES = frozenset({"UTC", "GMT", "UT", "Z"})
# "+0100", "-05:30", "+2", "UTC+2", "GMT-03:00", "UTC +01:00": the sign is the offset's own (east
# of Greenwich is +), as devices show it, unlike the inverted POSIX names "Etc/GMT-2".
_OFFSET = re.compile(r"(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)


def zone(name: str | None) -> tzinfo | None:
    """The time zone a device names: IANA (``Europe/Berlin``), ``UTC``/``GMT``/``Z``, or a fixed
    offset (``+0100``, ``-05:30``, ``UTC+2``, ``GMT-03:00``); ``None`` for anything else.

    Never raises: the name comes from evidence. IANA names are case-sensitive, as on the device.
    Names that resolve to the examiner's machine rather than the device (``localtime``) and the
    leap-second ``right/`` tables are refused.
    """
    return _zone(name) if name else None


# Cached: parsers ask once per file or per line, and a miss costs a file look-up.
@lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo | None:
    text = name.strip()
    if text.upper() in _UTC_NAMES:
        return UTC
    match = _OFFSET.fullmatch(text)
    if match:
        sign, hours, minutes = match.groups()
        # ±18:00 is the widest offset ISO 8601 and Java allow; real zones span -12:00 to +14:00.
        if int(hours) > 18 or int(minutes or 0) > 59:
            return None
        offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return timezone(-offset if sign == "-" else offset) if offset else UTC
    if text in ("localtime", "posixrules") or text.startswith("right/"):
        return None
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        # Not a key, a path outside the zone database, a directory ("Europe"), a file that is not
        # TZif data, or a name the file system cannot hold.
        return None


@dataclass(frozen=True, slots=True)
class WallTime:
    """A time read from text: the instant (aware UTC) and what was assumed to find it.

    ``inferred`` is ``""`` when the text carried everything, else a comma-joined subset, in this
    order, of ``date`` (only a time of day in the text: the day was taken from the collection time,
    :func:`ps_started`), ``year`` (taken from the collection time), ``zone`` (no offset in the text: the
    device time zone was applied), ``zone-unknown`` (no offset and no device zone: taken as UTC)
    and ``ambiguous`` (a local time that a DST change repeated or skipped: read with ``fold=0``,
    the offset in force before the change).
    """

    value: datetime
    inferred: str = ""


def _place(wall: datetime, where: tzinfo | None, year: bool) -> WallTime | None:
    """``wall`` (naive local, or aware with the text's own offset) as a :class:`WallTime`."""
    flags = ["year"] if year else []
    try:
        if wall.tzinfo is not None:
            value = wall.astimezone(UTC)
        elif where is None:
            flags.append("zone-unknown")
            value = wall.replace(tzinfo=UTC)
        else:
            flags.append("zone")
            local = wall.replace(tzinfo=where, fold=0)
            # fold=0 and fold=1 differ only in a repeated (autumn) or skipped (spring) hour.
            if local.utcoffset() != local.replace(fold=1).utcoffset():
                flags.append("ambiguous")
            value = local.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    if not _MIN <= value < _MAX:
        return None
    return WallTime(value, ",".join(flags))


def from_wall(wall: datetime, zone: tzinfo | None) -> WallTime | None:
    """A local wall-clock time in the device's ``zone`` (``None``: unknown, taken as UTC).

    An aware ``wall`` keeps its own offset and nothing is inferred. ``None`` when the instant is
    outside the years a phone can have recorded (1971-2099), as for the epoch converters.
    """
    return _place(wall, zone, False)


# Directives that carry a year. %c and %x are the locale's full date forms, which hold one.
_YEAR_DIRECTIVES = ("%Y", "%y", "%G", "%c", "%x")
# strptime's default year, 1900, is not a leap year, so "Feb 29" would fail before the real year
# is known; a leap placeholder parses it, and the inferred year validates it afterwards.
_LEAP = 2000
# How far after the collection time a line may be and still be taken in the collection year:
# a device clock ahead of the examiner's, or a hint taken a little before the last line.
_SLACK = timedelta(days=2)
_HALF_YEAR = timedelta(days=183)


def _strptime(text: str, fmt: str) -> tuple[datetime, bool] | None:
    """The wall time in ``text`` and whether ``fmt`` gave its year; ``None`` if it does not match."""
    has_year = any(d in fmt.replace("%%", "") for d in _YEAR_DIRECTIVES)
    try:
        if has_year:
            # DTZ007 allowed: a wall time without %z is naive on purpose; _place applies the zone.
            return datetime.strptime(text, fmt), True  # noqa: DTZ007
        # The placeholder goes last, where no field of the format can swallow it.
        return datetime.strptime(f"{text} {_LEAP}", f"{fmt} %Y"), False  # noqa: DTZ007
    except (ValueError, OverflowError, TypeError):
        return None


def _key(wall: datetime) -> tuple[int, int, int, int, int, int]:
    return wall.month, wall.day, wall.hour, wall.minute, wall.second, wall.microsecond


def _year_by_hint(wall: datetime, hint: datetime, where: tzinfo | None) -> int | None:
    """The latest year that puts ``wall`` at most :data:`_SLACK` after ``hint``, both local.

    The hint is read in the zone of the text (its own offset, else the device zone, else UTC),
    so a line is compared with the collection time as the device's clock showed it.
    """
    try:
        limit = aware(hint).astimezone(wall.tzinfo or where or UTC).replace(tzinfo=None) + _SLACK
    except (OverflowError, ValueError):  # a hint at the edge of what datetime can hold
        return None
    return limit.year if _key(wall) <= _key(limit) else limit.year - 1


def _with_year(wall: datetime, year: int | None) -> datetime | None:
    if year is None or not 1 <= year <= 9999:
        return None
    try:
        return wall.replace(year=year)
    except ValueError:  # Feb 29 in a common year
        return None


def parse_wall(
    text: str,
    formats: Sequence[str],
    *,
    zone: tzinfo | None = None,
    year_hint: datetime | None = None,
) -> WallTime | None:
    """A wall-clock time in ``text`` by the first of the ``strptime`` ``formats`` that matches.

    - An offset in the text (``%z``) wins: nothing about the zone is inferred. Otherwise the time
      is local to the device's ``zone`` (flag ``zone``), or taken as UTC (``zone-unknown``).
      (``%Z`` names are not offsets: strptime accepts only the examiner's own zone names.)
    - A format without a year takes it from ``year_hint``, the time the evidence was collected
      (flag ``year``): the hint's year, or the previous one when that would put the time more
      than two days after the hint (a December line in a log collected in January). A "Feb 29"
      that the inferred year lacks, or a missing hint, gives ``None``.
    - ``None`` when no format matches or the time is out of range; never raises.

    Logs that run over many lines without years should use a :class:`YearTracker`, which follows
    the New Year inside the log.
    """
    for fmt in formats:
        parsed = _strptime(text, fmt)
        if parsed is None:
            continue
        wall, has_year = parsed
        if has_year:
            return _place(wall, zone, False)
        if year_hint is None:
            return None
        dated = _with_year(wall, _year_by_hint(wall, year_hint, zone))
        return None if dated is None else _place(dated, zone, True)
    return None


def parse_iso(text: str, *, zone: tzinfo | None = None) -> WallTime | None:
    """An ISO 8601 / RFC 3339 time (``2024-03-01T10:00:00.123456+01:00``, ``…Z``,
    ``2024-03-01 10:00:00``, a date alone); ``None`` if it is not one or out of range.

    With an offset, nothing is inferred; without, it is local to ``zone`` (flag ``zone``) or taken
    as UTC (``zone-unknown``). Fractions beyond microseconds are cut; lower-case ``t``/``z``
    (allowed by RFC 3339) are accepted.
    """
    try:
        wall = datetime.fromisoformat(text.strip().upper())
    except (ValueError, TypeError):
        return None
    return _place(wall, zone, False)


class YearTracker:
    """Years for the lines of a log that writes none (syslog's ``Mar  1 10:00:00``), in one pass.

    Lines are met oldest first, so the year of the first cannot come from the end. The tracker
    gives the first line the latest year that puts it at most two days after ``hint`` (the
    collection time), then each later line the year (the previous line's, or one either side)
    that puts it nearest to the previous line: a December → January step moves to the next year,
    and a line a little out of order stays in its year.

    This is exact when the first line is less than a year (less the two days) before the hint and
    consecutive lines are less than six months apart: every log that crosses at most one New Year
    and ends near its collection, the common case. A log that spans more than a year is placed a
    year (or more) too late; :attr:`overshoot` tells it at the end of the pass, and a caller that
    can afford a second pass runs it with ``first_year=tracker.corrected_first_year()``.

    Every placed line is flagged ``year``; the zone is applied as by :func:`from_wall`.
    """

    def __init__(self, hint: datetime, *, zone: tzinfo | None = None, first_year: int | None = None) -> None:
        self.hint = aware(hint)
        self.zone = zone
        self._forced = first_year
        self.first_year: int | None = None
        """The year given to the first placed line."""
        self._last: datetime | None = None

    def place(self, wall: datetime) -> WallTime | None:
        """Place the next line's wall time; its year (a placeholder) is ignored.

        ``None`` for a date that no year within six months of the previous line has (Feb 29 in
        a common year), or out of range; the tracker's state is then unchanged. Build ``wall`` with a leap placeholder year (2000), as :meth:`resolve`
        and :meth:`parse` do, or "Feb 29" cannot be expressed.
        """
        if self._last is None:
            year = self._forced if self._forced is not None else _year_by_hint(wall, self.hint, self.zone)
            dated = _with_year(wall, year)
        else:
            previous = self._last.replace(tzinfo=None)
            candidates = (
                _with_year(wall, y) for y in (self._last.year, self._last.year - 1, self._last.year + 1)
            )
            # One of the three is always within half a year; only Feb 29 can find none (then the
            # nearest valid one is years away, and the date is wrong rather than the year).
            near = [
                c
                for c in candidates
                if c is not None and abs(c.replace(tzinfo=None) - previous) <= _HALF_YEAR
            ]
            dated = min(near, key=lambda c: abs(c.replace(tzinfo=None) - previous)) if near else None
        if dated is None:
            return None
        result = _place(dated, self.zone, True)
        if result is not None:
            self._remember(dated)
        return result

    def _remember(self, dated: datetime) -> None:
        if self.first_year is None:
            self.first_year = dated.year
        self._last = dated

    def resolve(
        self, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0
    ) -> WallTime | None:
        """Place the next line from its fields (as a parser's regular expression found them)."""
        try:
            # DTZ001 allowed: a wall time with a placeholder year; place() gives the year and zone.
            wall = datetime(_LEAP, month, day, hour, minute, second, microsecond)  # noqa: DTZ001
        except (ValueError, TypeError, OverflowError):
            return None
        return self.place(wall)

    def parse(self, text: str, formats: Sequence[str]) -> WallTime | None:
        """Place the next line from its text, by the first ``strptime`` format that matches.

        A format with a year gives the line its own year (no ``year`` flag), and the tracker
        follows it from there.
        """
        for fmt in formats:
            parsed = _strptime(text, fmt)
            if parsed is None:
                continue
            wall, has_year = parsed
            if not has_year:
                return self.place(wall)
            result = _place(wall, self.zone, False)
            if result is not None:
                self._remember(wall)
            return result
        return None

    @property
    def wraps(self) -> int:
        """New Years crossed so far: the last line's year less the first's."""
        if self._last is None or self.first_year is None:
            return 0
        return self._last.year - self.first_year

    @property
    def overshoot(self) -> bool:
        """Whether the last line landed more than two days after the hint: the log spans more
        than a year (or the hint is wrong), and its years are too late."""
        if self._last is None:
            return False
        last = self._last if self._last.tzinfo else self._last.replace(tzinfo=self.zone or UTC)
        return last > self.hint + _SLACK

    def corrected_first_year(self) -> int | None:
        """After a pass: the first line's year that puts the last line at most two days after
        the hint, for a second pass (``YearTracker(hint, first_year=…)``)."""
        if self._last is None or self.first_year is None:
            return None
        year = _year_by_hint(self._last, self.hint, self.zone)
        return None if year is None else year - self.wraps


# BSD ps's STARTED column (ps/print.c ``started``): the local start time, in one of three forms by
# how long ago the process started: ``7:22PM`` (less than a day), ``Tue09PM`` (less than a week),
# ``14Jan19`` (older; the day may be space-padded: `` 4Jan19``).
_PS_CLOCK = re.compile(r"(\d{1,2}):(\d{2})\s*([AaPp][Mm])\Z")
_PS_WEEKDAY = re.compile(r"([A-Za-z]{3})\s*(\d{1,2})\s*([AaPp][Mm])\Z")
_PS_DATE = re.compile(r"(\d{1,2})\s*([A-Za-z]{3})\s*(\d{2})\Z")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def ps_started(text: str, *, collected: datetime | None, zone: tzinfo | None) -> WallTime | None:
    """The start time that BSD ``ps`` prints in its STARTED column, in UTC.

    ``14Jan19`` carries its date (flag ``zone`` as for any local time). ``7:22PM`` and ``Tue09PM``
    carry only a time of day (and a weekday): the day is the latest one at or before
    ``collected`` (when ``ps`` ran) that fits, flagged ``date``; ``Tue09PM`` is precise to the
    hour only. ``None`` when the text is none of these or the collection time is unknown.
    """
    value = text.strip()
    match = _PS_DATE.fullmatch(value)
    if match:
        day, month, year = match.groups()
        parsed = _strptime(f"{int(day):02d}{month.title()}{year}", "%d%b%y")
        return None if parsed is None else _place(parsed[0], zone, False)
    if collected is None:
        return None
    local = aware(collected).astimezone(zone or UTC).replace(tzinfo=None)
    match = _PS_CLOCK.fullmatch(value)
    if match:
        hour = int(match.group(1)) % 12 + (12 if match.group(3).lower() == "pm" else 0)
        minute = int(match.group(2))
        if hour > 23 or minute > 59:
            return None
        wall = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if wall > local + _PS_SLACK:
            wall -= timedelta(days=1)
        return _flagged(_place(wall, zone, False), "date")
    match = _PS_WEEKDAY.fullmatch(value)
    if match:
        name, hour_text, half = match.groups()
        if name.lower() not in _WEEKDAYS or not 1 <= int(hour_text) <= 12:
            return None
        hour = int(hour_text) % 12 + (12 if half.lower() == "pm" else 0)
        wall = local.replace(hour=hour, minute=0, second=0, microsecond=0)
        back = (local.weekday() - _WEEKDAYS.index(name.lower())) % 7
        wall -= timedelta(days=back)
        if wall > local + _PS_SLACK:
            wall -= timedelta(days=7)
        return _flagged(_place(wall, zone, False), "date")
    return None


_PS_SLACK = timedelta(minutes=5)


def _flagged(found: WallTime | None, flag: str) -> WallTime | None:
    if found is None:
        return None
    flags = [flag, *(f for f in found.inferred.split(",") if f)]
    return WallTime(found.value, ",".join(flags))


def shifted(value: datetime | None, seconds: float | None) -> datetime | None:
    """``value`` moved by ``seconds`` (negative: earlier), in UTC; ``None`` when either is missing,
    not finite or the result is out of range (a crash report's capture time less its uptime is
    the boot it belongs to)."""
    if value is None or seconds is None or not math.isfinite(seconds):
        return None
    return unix(aware(value).timestamp() + seconds)
