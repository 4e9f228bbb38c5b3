"""A bounded reader of the protobuf wire format, for messages unmask knows the field numbers of.

Android writes tombstones as protobuf (``/data/tombstones/tombstone_NN.pb``, Android 12+; schema
``system/core/debuggerd/proto/tombstone.proto``). Decoding a handful of fields by number does not
need generated classes: this reader walks the wire format (varint, 64-bit, length-delimited,
32-bit; groups refused) and returns ``field number → [values]``, leaving nested messages as bytes
for the caller to decode in turn. The ``protobuf`` package would need the compiled schema and
brings a C extension for no gain here. Everything is bounded: a varint is at most 10 bytes, a
length never runs past the message, and :class:`ProtobufError` (an ``ArtefactError``) reports
damaged input.
"""

from __future__ import annotations

from unmask.errors import ArtefactError


class ProtobufError(ArtefactError):
    """The bytes are not a well-formed protobuf message."""


def varint(data: bytes, at: int) -> tuple[int, int]:
    """The varint at ``at`` and the offset after it."""
    value = 0
    for shift in range(0, 70, 7):
        if at >= len(data):
            raise ProtobufError("a varint runs past the end of the message")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
    raise ProtobufError("a varint longer than 10 bytes")


def fields(data: bytes, *, limit: int = 1_000_000) -> dict[int, list[int | bytes]]:
    """Every field of one message: numbers to values (ints for varint/fixed fields, bytes for
    length-delimited ones: strings, bytes, nested messages, packed repeated fields)."""
    out: dict[int, list[int | bytes]] = {}
    at, count = 0, 0
    while at < len(data):
        key, at = varint(data, at)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("field number 0")
        value: int | bytes
        if wire == 0:
            value, at = varint(data, at)
        elif wire == 1:
            if at + 8 > len(data):
                raise ProtobufError("a 64-bit field runs past the end")
            value, at = int.from_bytes(data[at : at + 8], "little"), at + 8
        elif wire == 2:
            size, at = varint(data, at)
            if at + size > len(data):
                raise ProtobufError("a length-delimited field runs past the end")
            value, at = data[at : at + size], at + size
        elif wire == 5:
            if at + 4 > len(data):
                raise ProtobufError("a 32-bit field runs past the end")
            value, at = int.from_bytes(data[at : at + 4], "little"), at + 4
        else:
            raise ProtobufError(f"wire type {wire} is not supported")
        out.setdefault(number, []).append(value)
        count += 1
        if count > limit:
            raise ProtobufError(f"more than {limit} fields")
    return out


def text(values: list[int | bytes] | None) -> str | None:
    """The first value of a string field, decoded leniently."""
    if not values or not isinstance(values[0], bytes):
        return None
    return values[0].decode("utf-8", "backslashreplace")


def texts(values: list[int | bytes] | None) -> tuple[str, ...]:
    """Every value of a repeated string field."""
    return tuple(v.decode("utf-8", "backslashreplace") for v in values or () if isinstance(v, bytes))


def number(values: list[int | bytes] | None, signed: bool = False) -> int | None:
    """The first value of an integer field (``signed``: a two's-complement int32/int64)."""
    if not values or not isinstance(values[0], int):
        return None
    value = values[0]
    if signed and value >= 1 << 63:
        value -= 1 << 64
    return value


def message(values: list[int | bytes] | None) -> dict[int, list[int | bytes]]:
    """The first value of a nested message field, decoded (empty when absent)."""
    if not values or not isinstance(values[0], bytes):
        return {}
    return fields(values[0])
