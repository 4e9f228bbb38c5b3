"""A binary plist (bplist00) writer with the freedoms the format allows and encoders use.

plistlib writes one layout only: objects in traversal order, minimal widths, equal scalars shared.
Apple's CFBinaryPlist writes another, and the format allows more: any object order in the file,
any object numbering, wider offsets, references and integers than needed, lengths and counts in
the long form, UTF-16 text, duplicate dictionary keys. Readers of evidence must handle them all,
so the tests write them all with :func:`write`.
"""

from __future__ import annotations

import plistlib
import random
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_COCOA_EPOCH = datetime(2001, 1, 1)


@dataclass(frozen=True)
class Pairs:
    """A dictionary written as these (key, value) pairs in this order, duplicates included."""

    items: tuple[tuple[Any, Any], ...]


@dataclass(frozen=True)
class Int:
    """An integer written with at least ``2 ** code`` bytes (code 0-4; 5 and up are wider than
    CoreFoundation reads, but plistlib reads them)."""

    value: int
    code: int = 0


@dataclass(frozen=True)
class Utf16:
    """A string written as UTF-16 even if it is ASCII."""

    text: str


@dataclass
class Options:
    """How to write: each default is plistlib's choice."""

    unique: bool = True  # share one object between equal scalars
    offset_size: int = 0  # 0: the minimal width
    ref_size: int = 0
    long_lengths: bool = False  # every length and count after the marker, as an int object
    order_seed: int | None = None  # shuffle object numbers and the order of objects in the file


def _min_width(value: int) -> int:
    return 1 if value < 1 << 8 else 2 if value < 1 << 16 else 4 if value < 1 << 32 else 8


def _int(value: int, code: int = 0) -> bytes:
    if value < 0:
        code = max(code, 3 if value >= -(2**63) else 4)
    else:
        code = max(code, {1: 0, 2: 1, 4: 2, 8: 3}[_min_width(value)] if value < 1 << 64 else 4)
    width = 1 << code
    if code >= 3 and not 0 <= value < 1 << 64:
        data = value.to_bytes(width, "big", signed=True)
    else:
        data = value.to_bytes(width, "big", signed=False)  # plistlib writes 2**63..2**64-1 unsigned
    return bytes([0x10 | code]) + data


def _count(marker: int, n: int, long: bool) -> bytes:
    if n < 15 and not long:
        return bytes([marker | n])
    return bytes([marker | 0xF]) + _int(n)


def write(root: Any, options: Options | None = None) -> bytes:
    """Encode ``root`` (dict, list, str, bytes, int, float, bool, None, datetime, plistlib.UID, and
    the wrappers of this module) as a bplist00."""
    opts = options or Options()
    objects: list[Any] = []
    scalar_ids: dict[tuple[type, Any], int] = {}

    def flatten(value: Any) -> int:
        if isinstance(value, dict):
            value = Pairs(tuple(value.items()))
        scalar = not isinstance(value, Pairs | list)
        key = (type(value), value) if scalar else None
        if scalar and opts.unique and key in scalar_ids:
            return scalar_ids[key]  # type: ignore[index]
        index = len(objects)
        objects.append(value)
        if scalar and opts.unique:
            scalar_ids[key] = index  # type: ignore[index]
        if isinstance(value, Pairs):
            # Keys, then values, each flattened where first met: CoreFoundation's and plistlib's way.
            refs = [flatten(k) for k, _ in value.items] + [flatten(v) for _, v in value.items]
            objects[index] = (value, refs)
        elif isinstance(value, list):
            objects[index] = (value, [flatten(v) for v in value])
        return index

    top = flatten(root)
    n = len(objects)
    numbers = list(range(n))
    placement = list(range(n))
    if opts.order_seed is not None:
        rng = random.Random(opts.order_seed)
        rng.shuffle(numbers)  # object i is numbered numbers[i] in the offset table
        rng.shuffle(placement)  # and written placement-th in the file
    ref_size = max(opts.ref_size, _min_width(n))

    def ref(i: int) -> bytes:
        return numbers[i].to_bytes(ref_size, "big")

    def encode(i: int) -> bytes:
        value = objects[i]
        if isinstance(value, tuple):
            container, refs = value
            if isinstance(container, Pairs):
                return _count(0xD0, len(container.items), opts.long_lengths) + b"".join(map(ref, refs))
            return _count(0xA0, len(container), opts.long_lengths) + b"".join(map(ref, refs))
        if value is None:
            return b"\x00"
        if isinstance(value, bool):
            return b"\x09" if value else b"\x08"
        if isinstance(value, Int):
            return _int(value.value, value.code)
        if isinstance(value, int):
            return _int(value)
        if isinstance(value, float):
            return b"\x23" + struct.pack(">d", value)
        if isinstance(value, datetime):  # naive, as plistlib reads dates: UTC
            return b"\x33" + struct.pack(">d", (value.replace(tzinfo=None) - _COCOA_EPOCH).total_seconds())
        if isinstance(value, plistlib.UID):
            width = _min_width(value.data)
            return bytes([0x80 | (width - 1)]) + value.data.to_bytes(width, "big")
        if isinstance(value, bytes):
            return _count(0x40, len(value), opts.long_lengths) + value
        if isinstance(value, Utf16 | str):
            text = value.text if isinstance(value, Utf16) else value
            if isinstance(value, str) and text.isascii():
                return _count(0x50, len(text), opts.long_lengths) + text.encode("ascii")
            data = text.encode("utf-16be", "surrogatepass")  # lone surrogates as evidence can hold them
            return _count(0x60, len(data) // 2, opts.long_lengths) + data
        raise TypeError(f"cannot write {type(value).__name__}")

    body = bytearray(b"bplist00")
    offsets = [0] * n
    for i in sorted(range(n), key=lambda i: placement[i]):
        offsets[numbers[i]] = len(body)
        body += encode(i)
    table = len(body)
    offset_size = max(opts.offset_size, _min_width(table))
    for offset in offsets:
        body += offset.to_bytes(offset_size, "big")
    body += bytes(6) + bytes([offset_size, ref_size]) + struct.pack(">QQQ", n, numbers[top], table)
    return bytes(body)
