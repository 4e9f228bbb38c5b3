"""The one place where raw numbers become datetimes.

Every converter returns an aware UTC datetime, or ``None`` for empty, zero, non-numeric or
out-of-range input: device databases hold NULLs, zeros, sentinel values and garbage, and a bad
timestamp must never stop a parser.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

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
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str | bytes):
        try:
            number = float(value)
        except ValueError:
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
