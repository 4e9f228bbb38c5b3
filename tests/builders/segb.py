"""Write Biome SEGB files (versions 1 and 2) with protobuf payloads, in code.

Layout from CCL Solutions Group's reverse engineering of SEGB (as documented with plaso's
apple_biome parser): see :mod:`unmask.parsers.ios.biome`.
"""

from __future__ import annotations

import struct
import zlib
from datetime import datetime

from unmask import timeutil


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, value: bytes | str | int | float) -> bytes:
    """One protobuf field: strings and bytes length-delimited, ints as varints, floats as doubles."""
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return varint(number << 3 | 2) + varint(len(value)) + value
    if isinstance(value, float):
        return varint(number << 3 | 1) + struct.pack("<d", value)
    return varint(number << 3) + varint(value)


def segb_v1(records: list[tuple[int, datetime, bytes]]) -> bytes:
    """A version-1 file: ``(state, time, payload)`` records."""
    body = bytearray()
    for state, when, payload in records:
        cocoa = timeutil.to_cocoa(when)
        body += struct.pack("<iiddIi", len(payload), state, cocoa, cocoa + 1, zlib.crc32(payload), 0) + payload
        while (56 + len(body)) % 8:
            body += b"\x00"
    header = struct.pack("<I", 56 + len(body)) + b"\x00" * 48 + b"SEGB"
    return header + bytes(body)


def segb_v2(records: list[tuple[int, datetime, bytes]], created: datetime) -> bytes:
    """A version-2 file: frames after a 32-byte header, a trailer of 16-byte records."""
    frames = bytearray()
    trailer = bytearray()
    for state, when, payload in records:
        offset = len(frames)
        frames += struct.pack("<II", zlib.crc32(payload), 0) + payload
        while len(frames) % 4:
            frames += b"\x00"
        trailer += struct.pack("<iid", offset, state, timeutil.to_cocoa(when))
    header = b"SEGB" + struct.pack("<id", len(records), timeutil.to_cocoa(created)) + b"\x00" * 16
    return header + bytes(frames) + bytes(trailer)
