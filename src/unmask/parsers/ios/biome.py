"""Biome app-usage streams (SEGB files): which app was in focus when, from iOS 15 on.

iOS 15 moved much of KnowledgeC's role to Biome: each stream (``App.InFocus``,
``ScreenTime.AppUsage``, ``App.WebUsage``, ``Safari.History``…) is a folder of segment files under
``/private/var/mobile/Library/Biome/streams/{public,restricted}/<stream>/local/``. The container
format (SEGB) is documented from CCL Solutions Group's reverse engineering (and implemented by
plaso's apple_biome parser):

- version 1: a 56-byte header (end-of-data offset at 0, ``SEGB`` at 52), then records aligned to
  8 bytes: data length, state (1 written, 3 deleted), two Mac absolute timestamps, CRC-32, unknown,
  then the data;
- version 2: ``SEGB`` at 0, an entry count and a creation time in a 32-byte header, the data
  frames after it (CRC-32, unknown, data; aligned to 4 bytes), and a trailer of 16-byte records
  (offset from the end of the header, state, Mac absolute time) at the end of the file.

Each record's data is a protobuf message whose field numbers are not published and change with
iOS versions, so this parser does not guess them: it walks the protobuf wire format and keeps
the strings it holds. Strings shaped like bundle identifiers are the app (matched as app ids),
links and host names are matched as hosts. Deleted records (state 3) are kept and marked.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.model import Obs, Record
from unmask.observables import find_urls
from unmask.parsers.base import ParseContext, Parser, Source

STREAMS = ("App.InFocus", "ScreenTime.AppUsage", "App.WebUsage", "Safari.History", "App.MediaUsage")
_ROOT = "/private/var/mobile/Library/Biome/streams/"
_MAX_FILE = 64 << 20
_MAX_STRINGS = 32
_BUNDLE = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9_-]+){2,}\Z")
_STATES = {1: "written", 3: "deleted", 4: "unknown"}


@dataclass(frozen=True, slots=True, kw_only=True)
class BiomeEvent(Record):
    """One record of a Biome stream with the app and links its payload names."""

    kind: ClassVar[str] = "ios/biome/event"
    summary: ClassVar[str] = "{stream}: {bundle_ids} {hosts} ({state})"

    time: datetime | None = None
    time_2: datetime | None = None
    stream: str
    state: str
    bundle_ids: Annotated[tuple[str, ...], Obs.APP_ID] = ()
    hosts: Annotated[tuple[str, ...], Obs.HOST] = ()
    strings: tuple[str, ...] = ()
    crc_ok: bool | None = None


def protobuf_strings(data: bytes, out: list[str], depth: int = 0) -> bool:
    """Collect the UTF-8 strings of a protobuf message (nested messages walked), without a schema.
    Returns whether ``data`` parsed as a message to its end."""
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        if key is None or key >> 3 == 0:
            return False
        wire = key & 7
        if wire == 0:
            _, pos = _varint(data, pos)
            if _ is None:
                return False
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            size, pos = _varint(data, pos)
            if size is None or pos + size > end:
                return False
            chunk = data[pos : pos + size]
            pos += size
            # Printable text is a string (a nested message always holds control bytes: its keys
            # and lengths); anything else is tried as a nested message.
            try:
                text = chunk.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is not None and text.isprintable():
                if text and len(out) < _MAX_STRINGS:
                    out.append(text[:1024])
            elif depth < 8 and chunk:
                protobuf_strings(chunk, out, depth + 1)
        else:
            return False
        if pos > end:
            return False
    return True


def _varint(data: bytes, pos: int) -> tuple[int | None, int]:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
    return None, pos


def segb_records(data: bytes) -> Iterator[tuple[int, int, float | None, float | None, bytes, bool | None]]:
    """``(index, state, time, time 2, payload, CRC matches)`` of every record of a SEGB file;
    raises ArtefactError when it is not one, stops quietly at a cut record."""
    if len(data) >= 56 and data[52:56] == b"SEGB":
        (end_of_data,) = struct.unpack_from("<I", data, 0)
        end = min(len(data), end_of_data or len(data))
        pos, index = 56, 0
        while pos + 32 <= end:
            length, state, t1, t2, crc = struct.unpack_from("<iidd I", data, pos)
            if length <= 0 or pos + 32 + length > end:
                return
            payload = data[pos + 32 : pos + 32 + length]
            yield index, state, t1, t2, payload, zlib.crc32(payload) == crc
            index += 1
            pos = (pos + 32 + length + 7) & ~7
        return
    if len(data) >= 32 and data[:4] == b"SEGB":
        (count,) = struct.unpack_from("<i", data, 4)
        if count < 0 or 32 + 16 * count > len(data):
            raise ArtefactError(f"SEGB v2 header declares {count} entries, more than the file holds")
        trailer = len(data) - 16 * count
        offsets = [struct.unpack_from("<iid", data, trailer + 16 * i) for i in range(count)]
        for index, (offset, state, when) in enumerate(offsets):
            start = 32 + offset
            stop = 32 + offsets[index + 1][0] if index + 1 < count else trailer
            if not 32 <= start < stop <= trailer or stop - start < 8:
                continue
            (crc,) = struct.unpack_from("<I", data, start)
            payload = data[start + 8 : stop]  # with its padding to 4 bytes: the walk stops there
            yield index, state, when, None, payload, crc in (zlib.crc32(payload), zlib.crc32(payload.rstrip(b"\x00")))
        return
    raise ArtefactError("not a SEGB file (no SEGB magic at offset 0 or 52)")


class BiomeParser(Parser):
    """App-usage, web-usage and Safari streams of Biome (SEGB files): apps and links per record."""

    name = "biome"
    platform = "ios"
    sources = tuple(Source(f"{_ROOT}*/{stream}/local/*") for stream in STREAMS)
    records = (BiomeEvent,)

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Record]:
        """One record per SEGB record of the file."""
        with ctx.acq.open(device_path) as handle:
            data = handle.read(_MAX_FILE + 1)
        if len(data) > _MAX_FILE:
            raise ArtefactError(f"larger than {_MAX_FILE >> 20} MB")
        stream = device_path[len(_ROOT) :].split("/")[1] if device_path.startswith(_ROOT) else "?"
        for index, state, t1, t2, payload, crc_ok in segb_records(data):
            strings: list[str] = []
            protobuf_strings(payload, strings)
            bundles = [s for s in strings if _BUNDLE.match(s) and "/" not in s]
            others = [s for s in strings if s not in bundles]
            yield BiomeEvent(
                device_path=device_path,
                locator=f"record={index}",
                time=timeutil.cocoa(t1),
                time_2=timeutil.cocoa(t2),
                stream=stream,
                state=_STATES.get(state, str(state)),
                bundle_ids=tuple(dict.fromkeys(bundles)),
                hosts=find_urls(*others),
                strings=tuple(strings),
                crc_ok=crc_ok,
            )
