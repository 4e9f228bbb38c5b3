"""TIFF/BigTIFF/DNG: a hand-written IFD walker with cycle detection and caps.

Generic TIFF libraries loop forever on IFD chains that point back to themselves and allocate what
hostile counts ask for; here every IFD is visited once, counts are capped, and values are read
only as far as the DNG rules (:mod:`.dng`) and the appended-data rule need them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .result import Ctx

_TYPE_SIZE = {
    1: 1,
    2: 1,
    3: 2,
    4: 4,
    5: 8,
    6: 1,
    7: 1,
    8: 2,
    9: 4,
    10: 8,
    11: 4,
    12: 8,
    13: 4,
    16: 8,
    17: 8,
    18: 8,
}
_INT_FMT = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 13: "I", 16: "Q", 17: "q", 18: "Q", 7: "B"}
_CHILD_TAGS = {0x014A: "subifd", 0x8769: "exif", 0x8825: "gps", 0xA005: "interop"}
LANDFALL_CVE = "CVE-2025-21042"


@dataclass
class Entry:
    tag: int
    type: int
    count: int
    offset: int  # absolute offset of the value bytes
    size: int


@dataclass
class IFD:
    offset: int
    label: str
    entries: dict[int, Entry] = field(default_factory=dict)


class Tiff:
    """One parsed TIFF: its IFDs (each visited once) and the byte ranges they reference."""

    def __init__(self, ctx: Ctx, data: bytes, where: str) -> None:
        self.ctx = ctx
        self.data = data
        self.where = where
        self.bo = "<" if data[:2] == b"II" else ">"
        self.big = data[2:4] in (b"+\x00", b"\x00+")
        self.ifds: list[IFD] = []
        # End of the furthest byte range any IFD references (for the appended-data rule).
        self.end = 16 if self.big else 8
        self.loop: list[str] = []
        # Shared by all IFDs: many IFDs can point at one huge offsets array.
        self.values_budget = 4 * ctx.limits.max_tiles

    def values(self, e: Entry, cap: int | None = None) -> list[int]:
        """Integer values of an entry (at most ``cap``; a longer list is a limit hit)."""
        fmt = _INT_FMT.get(e.type)
        if fmt is None:
            if e.type in (5, 10):  # rationals: numerators are enough for our tags
                n = min(e.count, (len(self.data) - e.offset) // 8)
                return (
                    list(
                        struct.unpack_from(
                            f"{self.bo}{2 * n}{'I' if e.type == 5 else 'i'}", self.data, e.offset
                        )[::2]
                    )
                    if n > 0
                    else []
                )
            return []
        limit = self.ctx.limits.max_tiles if cap is None else cap
        n = e.count
        if n > limit:
            if cap is None:  # only a cut list of offsets is a lost check; first() wants one value
                self.ctx.hit("tiff-values")
            n = limit
        if n > self.values_budget:
            self.ctx.hit("tiff-values")
            n = self.values_budget
        self.values_budget -= n
        width = _TYPE_SIZE[e.type]
        n = min(n, max(0, (len(self.data) - e.offset) // width))
        if n <= 0:
            return []
        return list(struct.unpack_from(f"{self.bo}{n}{fmt}", self.data, e.offset))

    def first(self, ifd: IFD, tag: int, default: int | None = None) -> int | None:
        e = ifd.entries.get(tag)
        if e is None:
            return default
        v = self.values(e, 1)
        return v[0] if v else default

    def raw(self, e: Entry) -> bytes:
        return self.data[e.offset : e.offset + e.size]

    def walk(self) -> None:
        data, bo, ctx = self.data, self.bo, self.ctx
        if self.big:
            if len(data) < 16:
                return
            first = struct.unpack_from(f"{bo}Q", data, 8)[0]
        else:
            if len(data) < 8:
                return
            first = struct.unpack_from(f"{bo}I", data, 4)[0]
        queue: list[tuple[int, str, bool]] = [(first, "ifd0", True)]
        visited: set[int] = set()
        chain = 0
        while queue:
            off, label, is_chain = queue.pop(0)
            ctx.tick()
            if off in visited:
                self.loop.append(label)
                continue
            if len(visited) >= ctx.limits.max_ifds:
                ctx.hit("ifds")
                ctx.error(f"{self.where}: more than {ctx.limits.max_ifds} IFDs; the rest not examined")
                return
            head = 8 if self.big else 2
            if off < 8 or off + head > len(data):
                if off:
                    ctx.error(f"{self.where} {label}: IFD offset {off} outside the file")
                continue
            visited.add(off)
            ifd = self._read_ifd(off, label)
            if ifd is None:
                continue
            self.ifds.append(ifd)
            for tag, kind in _CHILD_TAGS.items():
                e = ifd.entries.get(tag)
                if e is None:
                    continue
                for i, child in enumerate(self.values(e, ctx.limits.max_ifds)):
                    queue.append((child, f"{label}/{kind}#{i}", False))
            if is_chain:
                nxt = self._next(ifd)
                if nxt:
                    chain += 1
                    queue.append((nxt, f"ifd{chain}", True))

    def _read_ifd(self, off: int, label: str) -> IFD | None:
        data, bo, ctx = self.data, self.bo, self.ctx
        if self.big:
            count = struct.unpack_from(f"{bo}Q", data, off)[0]
            esize, inline, p = 20, 8, off + 8
        else:
            count = struct.unpack_from(f"{bo}H", data, off)[0]
            esize, inline, p = 12, 4, off + 2
        if count > ctx.limits.max_ifd_entries:
            ctx.hit("ifd-entries")
            count = ctx.limits.max_ifd_entries
        count = min(count, (len(data) - p) // esize)
        ifd = IFD(off, label)
        self.end = max(self.end, p + count * esize + inline)
        for i in range(count):
            q = p + i * esize
            if self.big:
                tag, typ, n = struct.unpack_from(f"{bo}HHQ", data, q)
                vpos = q + 12
            else:
                tag, typ, n = struct.unpack_from(f"{bo}HHI", data, q)
                vpos = q + 8
            size = _TYPE_SIZE.get(typ, 1) * n
            if size <= inline:
                voff = vpos
            else:
                voff = struct.unpack_from(f"{bo}Q" if self.big else f"{bo}I", data, vpos)[0]
                if voff + size <= len(data):
                    self.end = max(self.end, voff + size)
            ifd.entries[tag] = Entry(tag, typ, n, voff, size)
        self._data_ranges(ifd)
        return ifd

    def _next(self, ifd: IFD) -> int:
        data, bo = self.data, self.bo
        if self.big:
            count = min(struct.unpack_from(f"{bo}Q", data, ifd.offset)[0], self.ctx.limits.max_ifd_entries)
            q = ifd.offset + 8 + 20 * count
            return int(struct.unpack_from(f"{bo}Q", data, q)[0]) if q + 8 <= len(data) else 0
        count = min(struct.unpack_from(f"{bo}H", data, ifd.offset)[0], self.ctx.limits.max_ifd_entries)
        q = ifd.offset + 2 + 12 * count
        return int(struct.unpack_from(f"{bo}I", data, q)[0]) if q + 4 <= len(data) else 0

    def _data_ranges(self, ifd: IFD) -> None:
        for off_tag, cnt_tag in ((0x0111, 0x0117), (0x0144, 0x0145), (0x0201, 0x0202)):
            oe, ce = ifd.entries.get(off_tag), ifd.entries.get(cnt_tag)
            if oe is None or ce is None:
                continue
            for o, c in zip(self.values(oe), self.values(ce), strict=False):
                if 0 < o < len(self.data):
                    self.end = max(self.end, min(len(self.data), o + c))


def zip_after(data: bytes, end: int) -> int | None:
    """Offset of a plausible ZIP local header or end-of-central-directory at or after ``end``."""
    pos = end
    while True:
        p = data.find(b"PK", pos)
        if p < 0:
            return None
        sig = data[p : p + 4]
        if sig == b"PK\x03\x04" and p + 30 <= len(data):
            (method,) = struct.unpack_from("<H", data, p + 8)
            (name_len,) = struct.unpack_from("<H", data, p + 26)
            if method in (0, 1, 6, 8, 9, 12, 14, 93, 95, 98, 99) and 0 < name_len <= 1024:
                return p
        elif sig == b"PK\x05\x06" and p + 22 <= len(data):
            return p
        pos = p + 2
