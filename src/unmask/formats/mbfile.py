"""The integer fields of a Manifest.db ``MBFile`` archive, read straight from the binary plist.

Every row of an iOS backup's Manifest.db ``Files`` table carries a ``file`` blob: a ``bplist00``
NSKeyedArchiver archive whose root object is an ``MBFile`` dictionary of integers (Size, Mode,
Birth, LastModified, LastStatusChange, InodeNumber, UserID, GroupID, ProtectionClass, …). A
backup has hundreds of thousands of rows, and no library reads them fast enough: plistlib builds
the whole object graph, 50-65 µs a row, 10-13 s for a 200,000-row backup, more than the rest of a
scan together. This reader follows only the path from the trailer to those integers.

It is written for mypyc: ``i64`` arithmetic on ``bytes`` indexing, no ``struct``, no objects
but the result, so that one source runs both compiled (``hatch_build.py`` builds it as the
extension ``unmask.formats._mbfile_native`` when a C compiler is present) and interpreted.
Decoding the 200,000-row benchmark backup (blobs fetched first, decoding timed alone, 10,000-row
blocks, the best block; a 2-core machine shared with other work), in µs a row: compiled 1.1,
result tuples included; interpreted 20; the best pure-Python design measured, ``struct`` with a
shape cache verified on every blob, 6.6; plistlib 50. Interpreted, this source is slower than a
``struct``-based reader: the price of one source for both, paid only where no C compiler was at
hand at install time.

The blob is hostile, evidence-controlled input. Every position is checked against the object
area before it is read and every count against the bytes that could hold it, so no loop runs
longer than the blob is long. Widths are limited to 4 bytes, which keeps every position and count
far inside an i64 (compiled i64 arithmetic wraps around where Python's would not). Anything the
reader does not recognise as the plain encoding that Apple's and Python's encoders write (wide
offsets, a UTF-16 key, a 16-byte integer, an object outside the object area…) raises
:class:`ValueError`, and the caller falls back to plistlib, which stays the reference: whenever
plistlib decodes a blob and this reader returns, both give the same fields.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    # Compiled, i64 is a machine integer. Interpreted, local annotations are never evaluated,
    # so the name need not exist at run time and mypy_extensions is no run-time dependency.
    from mypy_extensions import i64

# One MBFile's fields in this order; None where the archive has no integer under the key.
Fields = tuple[
    int | None, int | None, int | None, int | None, int | None, int | None, int | None, int | None, int | None
]
FIELD_NAMES: Final = ("size", "mode", "birth", "modified", "changed", "inode", "uid", "gid", "protection_class")

# Key ids: 0-8 index Fields, the rest name the archive's structure.
_FIELD_COUNT: Final = 9
_OBJECTS: Final = 9
_TOP: Final = 10
_ROOT: Final = 11
_KEY_IDS: Final = 12
_OTHER: Final = -1

_MAGIC: Final = b"bplist00"
_TRAILER: Final = 32
_SIGN_BIT: Final = 1 << 63
_WRAP: Final = 1 << 64


def _u(blob: bytes, pos: i64, width: i64) -> i64:
    """Big-endian unsigned integer of 1 to 4 bytes at ``pos``; the caller checked the bounds."""
    # Bytes into i64 locals first: shifting the ints that indexing returns would take mypyc's
    # arbitrary-precision path.
    b0: i64 = blob[pos]
    if width == 1:
        return b0
    b1: i64 = blob[pos + 1]
    if width == 2:
        return (b0 << 8) | b1
    b2: i64 = blob[pos + 2]
    if width == 3:
        return (b0 << 16) | (b1 << 8) | b2
    b3: i64 = blob[pos + 3]
    return (b0 << 24) | (b1 << 16) | (b2 << 8) | b3


def _offset(blob: bytes, table: i64, width: i64, count: i64, ref: i64) -> i64:
    """Where object ``ref`` starts; it must lie in the object area, between header and table."""
    if ref < 0 or ref >= count:
        raise ValueError("object reference out of range")
    at = table + ref * width
    offset: i64
    if width == 2:  # the common case, inline
        high: i64 = blob[at]
        offset = (high << 8) | blob[at + 1]
    else:
        offset = _u(blob, at, width)
    if offset < 8 or offset >= table:
        raise ValueError("object offset outside the object area")
    return offset


def _length(blob: bytes, pos: i64, limit: i64) -> tuple[i64, i64]:
    """The count in the marker at ``pos`` (or in the int object after it when the marker's low
    nibble is 0xF), and where the object's contents start."""
    length: i64 = blob[pos] & 0xF
    pos += 1
    if length == 0xF:
        if pos >= limit:
            raise ValueError("truncated length")
        marker: i64 = blob[pos]
        # plistlib accepts any marker byte here, and 8-byte counts: those are left to it.
        if marker < 0x10 or marker > 0x12:
            raise ValueError("unusual length encoding")
        width: i64 = 1 << (marker & 0x3)
        if pos + 1 + width > limit:
            raise ValueError("truncated length")
        length = _u(blob, pos + 1, width)
        pos += 1 + width
    return length, pos


def _match(blob: bytes, start: i64, length: i64) -> i64:
    """Which of our keys the ASCII text at ``start`` is, or ``_OTHER``: dispatch on length and
    first letter, then compare the whole key once."""
    first: i64 = blob[start]
    end = start + length
    if length == 4:
        if first == 0x53:  # S
            return 0 if blob[start:end] == b"Size" else _OTHER
        if first == 0x4D:  # M
            return 1 if blob[start:end] == b"Mode" else _OTHER
        if first == 0x24:  # $
            return _TOP if blob[start:end] == b"$top" else _OTHER
        if first == 0x72:  # r
            return _ROOT if blob[start:end] == b"root" else _OTHER
        return _OTHER
    if length == 5:
        return 2 if first == 0x42 and blob[start:end] == b"Birth" else _OTHER
    if length == 12:
        return 3 if first == 0x4C and blob[start:end] == b"LastModified" else _OTHER
    if length == 16:
        return 4 if first == 0x4C and blob[start:end] == b"LastStatusChange" else _OTHER
    if length == 11:
        return 5 if first == 0x49 and blob[start:end] == b"InodeNumber" else _OTHER
    if length == 6:
        return 6 if first == 0x55 and blob[start:end] == b"UserID" else _OTHER
    if length == 7:
        return 7 if first == 0x47 and blob[start:end] == b"GroupID" else _OTHER
    if length == 15:
        return 8 if first == 0x50 and blob[start:end] == b"ProtectionClass" else _OTHER
    if length == 8:
        return _OBJECTS if first == 0x24 and blob[start:end] == b"$objects" else _OTHER
    return _OTHER


def _scan(blob: bytes, pos: i64, table: i64, ow: i64, count: i64, rw: i64, found: list[i64]) -> None:
    """Value references of our keys in the dictionary at ``pos``: ``found[key id] = ref``.

    The last of duplicate keys wins, as in the dict plistlib builds. Keys that are not strings
    cannot be ours and are skipped; a UTF-16 key could spell one of ours, and Apple's encoder
    never writes ASCII text as UTF-16, so it is left to plistlib. This loop runs for every key of
    every row, so the common widths are read inline.
    """
    marker: i64 = blob[pos]
    if marker >> 4 != 0xD:
        raise ValueError("not a dictionary")
    n, refs = _length(blob, pos, table)
    if refs + 2 * n * rw > table:
        raise ValueError("truncated dictionary")
    kp = refs
    vp = refs + n * rw
    end = vp
    # Statements rather than conditional expressions throughout: mypyc keeps i64 locals unboxed.
    ref: i64
    key_pos: i64
    while kp < end:
        if rw == 1:  # noqa: SIM108 (see above)
            ref = blob[kp]
        else:
            ref = _u(blob, kp, rw)
        if ref >= count:
            raise ValueError("object reference out of range")
        at = table + ref * ow
        if ow == 2:
            high: i64 = blob[at]
            key_pos = (high << 8) | blob[at + 1]
        else:
            key_pos = _u(blob, at, ow)
        if key_pos < 8 or key_pos >= table:
            raise ValueError("object offset outside the object area")
        marker = blob[key_pos]
        kind = marker >> 4
        if kind == 0x5:
            length: i64 = marker & 0xF
            start = key_pos + 1
            if length == 0xF:
                length, start = _length(blob, key_pos, table)
            if start + length > table:
                raise ValueError("truncated key")
            if length > 3:
                key = _match(blob, start, length)
                if key >= 0:
                    if rw == 1:
                        found[key] = blob[vp]
                    else:
                        found[key] = _u(blob, vp, rw)
        elif kind == 0x6:
            raise ValueError("UTF-16 key")
        kp += rw
        vp += rw


def _value(blob: bytes, table: i64, ow: i64, count: i64, ref: i64) -> int | None:
    """The integer object that ``ref`` points to; ``None`` for no reference (-1) or an object
    of another type (a boolean, a real, a string…: not an integer field, as in plistlib's dict).

    Widths 1, 2 and 4 are unsigned and 8 is signed, as plistlib and CoreFoundation read them;
    16-byte integers are left to plistlib.
    """
    if ref < 0:
        return None
    pos = _offset(blob, table, ow, count, ref)
    marker: i64 = blob[pos]
    if marker >> 4 != 0x1:
        return None
    code = marker & 0xF
    if code > 3:
        raise ValueError("integer wider than 8 bytes")
    width: i64 = 1 << code
    if pos + 1 + width > table:
        raise ValueError("truncated integer")
    if width < 8:
        return _u(blob, pos + 1, width)
    # Python ints from here on: the value may not fit an i64 before the sign is applied, and
    # mypyc would do int | i64 in i64.
    high: int = _u(blob, pos + 1, 4)
    low: int = _u(blob, pos + 5, 4)
    value = (high << 32) | low
    if value >= _SIGN_BIT:
        value -= _WRAP
    return value


def fields(blob: bytes) -> Fields:
    """The MBFile integer fields of one ``Files.file`` blob, in :data:`FIELD_NAMES` order.

    Raises :class:`ValueError` for anything that is not a plainly encoded keyed archive with a
    dictionary at its root; the caller then asks plistlib.
    """
    return _fields(blob, [-1] * _KEY_IDS)


def _fields(blob: bytes, found: list[i64]) -> Fields:
    """:func:`fields`, with the caller's scratch list for key references (one per batch)."""
    size: i64 = len(blob)
    if size < len(_MAGIC) + _TRAILER or not blob.startswith(_MAGIC):
        raise ValueError("not a bplist00")
    trailer = size - _TRAILER
    ow: i64 = blob[trailer + 6]
    rw: i64 = blob[trailer + 7]
    if ow < 1 or ow > 4 or rw < 1 or rw > 4:
        raise ValueError("unusual offset or reference width")
    # Object count, top object and table offset are 8-byte fields; more than 4 GiB is no blob.
    if _u(blob, trailer + 8, 4) or _u(blob, trailer + 16, 4) or _u(blob, trailer + 24, 4):
        raise ValueError("trailer values too large")
    count = _u(blob, trailer + 12, 4)
    top = _u(blob, trailer + 20, 4)
    table = _u(blob, trailer + 28, 4)
    # The offset table lies between the objects and the trailer; objects lie in [8, table).
    if table < 9 or table > trailer or count > (trailer - table) // ow or top >= count:
        raise ValueError("inconsistent trailer")

    # archive["$objects"][archive["$top"]["root"]], indexed as plistlib's result would be.
    for i in range(_KEY_IDS):
        found[i] = -1
    _scan(blob, _offset(blob, table, ow, count, top), table, ow, count, rw, found)
    objects_ref = found[_OBJECTS]
    top_ref = found[_TOP]
    if objects_ref < 0 or top_ref < 0:
        raise ValueError("not a keyed archive")
    found[_ROOT] = -1
    _scan(blob, _offset(blob, table, ow, count, top_ref), table, ow, count, rw, found)
    if found[_ROOT] < 0:
        raise ValueError("no root")
    pos = _offset(blob, table, ow, count, found[_ROOT])
    marker: i64 = blob[pos]
    width: i64 = (marker & 0xF) + 1
    if marker >> 4 != 0x8 or width > 4 or pos + 1 + width > table:
        raise ValueError("root is not a small UID")
    uid = _u(blob, pos + 1, width)
    pos = _offset(blob, table, ow, count, objects_ref)
    if blob[pos] >> 4 != 0xA:
        raise ValueError("$objects is not an array")
    n, refs = _length(blob, pos, table)
    if uid >= n or refs + n * rw > table:
        raise ValueError("root outside $objects")
    root = _offset(blob, table, ow, count, _u(blob, refs + uid * rw, rw))

    # The MBFile dictionary: our keys' value references, then the integers they point to.
    for i in range(_FIELD_COUNT):
        found[i] = -1
    _scan(blob, root, table, ow, count, rw, found)
    # Equal values are one shared object in both encoders (the three times often are, and user
    # and group): decode each once, and share the int too.
    birth_ref = found[2]
    modified_ref = found[3]
    changed_ref = found[4]
    birth = _value(blob, table, ow, count, birth_ref)
    modified = birth if modified_ref == birth_ref else _value(blob, table, ow, count, modified_ref)
    if changed_ref == modified_ref:
        changed = modified
    elif changed_ref == birth_ref:
        changed = birth
    else:
        changed = _value(blob, table, ow, count, changed_ref)
    user = _value(blob, table, ow, count, found[6])
    group = user if found[7] == found[6] else _value(blob, table, ow, count, found[7])
    return (
        _value(blob, table, ow, count, found[0]),
        _value(blob, table, ow, count, found[1]),
        birth,
        modified,
        changed,
        _value(blob, table, ow, count, found[5]),
        user,
        group,
        _value(blob, table, ow, count, found[8]),
    )


def fields_many(
    blobs: Sequence[bytes | None], fallback: Callable[[bytes], Fields | None]
) -> list[Fields | None]:
    """:func:`fields` for each blob, ``None`` for an empty one, ``fallback(blob)`` where it raises.

    One call for a whole Manifest.db keeps the per-row loop in compiled code.
    """
    out: list[Fields | None] = []
    found: list[i64] = [-1] * _KEY_IDS
    for blob in blobs:
        if not blob:
            out.append(None)
            continue
        try:
            out.append(_fields(blob, found))
        except Exception:
            # Hostile or unusual input: whatever went wrong, the reference decoder decides.
            out.append(fallback(blob))
    return out
