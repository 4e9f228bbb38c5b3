"""A bounded reader of Android Binary XML (ABX), the binary form of system XML since Android 12.

Android 12 writes ``packages.xml``, the ADB key store (``adb_keys`` in ``dumpsys adb``) and other
system XML files as ABX (``frameworks/base/core/java/com/android/internal/util/BinaryXmlSerializer``):
the magic ``ABX\\0``, then tokens. Each token byte holds a command in its low 4 bits (start/end
document, start/end tag, attribute, text, CDATA, entity, comment, …) and a value type in its high 4
bits (null, string, interned string, bytes as hex or base64, int/long as decimal or hex, float,
double, true, false). Strings are a 2-byte big-endian length and UTF-8; interned strings are an
index into a table the stream builds (a new one is written as 0xFFFF then the string); numbers are
big-endian.

No well-kept Python library reads ABX (``abx2xml`` is an on-device tool), so this module does, in
about a hundred lines: it returns elements as ``(tag, attributes, text)`` in document order and
never allocates more than the input holds (lengths are checked against what is left; the intern
table and element count are capped). Damaged input raises :class:`AbxError` (an ``ArtefactError``).
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field

from unmask.errors import ArtefactError

MAGIC = b"ABX\x00"

_START_DOCUMENT, _END_DOCUMENT, _START_TAG, _END_TAG, _TEXT = 0, 1, 2, 3, 4
_CDSECT, _ENTITY_REF, _IGNORABLE_WS, _PROCESSING, _COMMENT, _DOCDECL, _ATTRIBUTE = 5, 6, 7, 8, 9, 10, 15
_NULL, _STRING, _INTERNED, _BYTES_HEX, _BYTES_B64 = 1, 2, 3, 4, 5
_INT, _INT_HEX, _LONG, _LONG_HEX, _FLOAT, _DOUBLE, _TRUE, _FALSE = 6, 7, 8, 9, 10, 11, 12, 13


class AbxError(ArtefactError):
    """The bytes are not well-formed Android Binary XML."""


@dataclass
class Element:
    """One element: its tag, attributes (values as text) and the text directly inside it."""

    tag: str
    attributes: dict[str, str] = field(default_factory=dict)
    text: str = ""
    depth: int = 0


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0
        self.interned: list[str] = []

    def take(self, n: int) -> bytes:
        if n < 0 or self.at + n > len(self.data):
            raise AbxError("the document ends inside a value")
        out = self.data[self.at : self.at + n]
        self.at += n
        return out

    def u16(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])

    def string(self) -> str:
        return self.take(self.u16()).decode("utf-8", "backslashreplace")

    def interned_string(self) -> str:
        index = self.u16()
        if index == 0xFFFF:
            value = self.string()
            if len(self.interned) >= 65_535:
                raise AbxError("too many interned strings")
            self.interned.append(value)
            return value
        if index >= len(self.interned):
            raise AbxError(f"interned string {index} was never defined")
        return self.interned[index]

    def value(self, kind: int) -> str:
        if kind == _NULL:
            return ""
        if kind == _STRING:
            return self.string()
        if kind == _INTERNED:
            return self.interned_string()
        if kind in (_BYTES_HEX, _BYTES_B64):
            raw = self.take(self.u16())
            return raw.hex() if kind == _BYTES_HEX else base64.b64encode(raw).decode("ascii")
        if kind in (_INT, _INT_HEX):
            number = struct.unpack(">i", self.take(4))[0]
            return format(number, "x") if kind == _INT_HEX else str(number)
        if kind in (_LONG, _LONG_HEX):
            number = struct.unpack(">q", self.take(8))[0]
            return format(number, "x") if kind == _LONG_HEX else str(number)
        if kind == _FLOAT:
            return repr(struct.unpack(">f", self.take(4))[0])
        if kind == _DOUBLE:
            return repr(struct.unpack(">d", self.take(8))[0])
        if kind == _TRUE:
            return "true"
        if kind == _FALSE:
            return "false"
        raise AbxError(f"unknown value type {kind}")


def elements(data: bytes, *, limit: int = 1_000_000) -> list[Element]:
    """Every element of an ABX document, in document order."""
    if not data.startswith(MAGIC):
        raise AbxError("not Android Binary XML (no ABX magic)")
    reader = _Reader(data)
    reader.at = len(MAGIC)
    out: list[Element] = []
    stack: list[Element] = []
    while reader.at < len(data):
        token = reader.take(1)[0]
        command, kind = token & 0x0F, token >> 4
        if command == _START_TAG:
            element = Element(reader.interned_string(), depth=len(stack))
            out.append(element)
            stack.append(element)
            if len(out) > limit:
                raise AbxError(f"more than {limit} elements")
        elif command == _END_TAG:
            reader.interned_string()
            if stack:
                stack.pop()
        elif command == _ATTRIBUTE:
            name = reader.interned_string()
            value = reader.value(kind)
            if stack:
                stack[-1].attributes[name] = value
        elif command in (_TEXT, _CDSECT, _ENTITY_REF, _IGNORABLE_WS, _PROCESSING, _COMMENT, _DOCDECL):
            value = reader.value(kind) if kind else ""
            if command in (_TEXT, _CDSECT) and stack:
                stack[-1].text += value
        elif command == _START_DOCUMENT:
            continue
        elif command == _END_DOCUMENT:
            break
        else:
            raise AbxError(f"unknown token command {command}")
    return out
