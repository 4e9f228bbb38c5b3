"""FE-JBIG2: FORCEDENTRY (CVE-2021-30860) shapes in JBIG2 segment headers.

Xpdf-lineage decoders (CoreGraphics included) add the exported symbol counts of every symbol
dictionary a text region refers to in a 32-bit unsigned integer; a sum past 2^32 - 1 wraps and
the following copy overruns a small allocation. Only segment *headers* are read here (ITU-T T.88
section 7.2), with Xpdf's field semantics where implementations disagree.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from unmask.model import Severity

from .result import Ctx

CVE = "CVE-2021-30860"
U32_MAX = 0xFFFFFFFF
_TEXT_REGIONS = frozenset({4, 6, 7})
_REFINEMENT = frozenset({40, 42, 43})
FILE_MAGIC = b"\x97JB2\r\n\x1a\n"
# Volume thresholds: real encoders emit a handful of segments per page.
VOLUME_SEGMENTS = 5_000
VOLUME_REFINEMENTS = 1_000


@dataclass
class Segment:
    number: int
    type: int
    refs: list[int]
    page: int
    length: int
    data_offset: int
    header_offset: int
    exported: int | None = None  # SDNUMEXSYMS of a symbol dictionary
    new: int | None = None
    instances: int | None = None


@dataclass
class _Walk:
    segments: dict[int, Segment] = field(default_factory=dict)
    count: int = 0
    refinements: int = 0
    volume_reported: bool = False


class _Truncated(Exception):
    pass


class _Stop(Exception):
    """The walk cannot continue; the reason was already reported."""


def _header(ctx: Ctx, buf: bytes, pos: int, where: str) -> tuple[Segment, int]:
    """Parse one segment header at ``pos``; returns the segment and the offset after the header."""
    start = pos
    if pos + 6 > len(buf):
        raise _Truncated
    number, flags, ref0 = struct.unpack_from(">IBB", buf, pos)
    pos += 6
    seg_type = flags & 0x3F
    n = ref0 >> 5
    if n == 7:
        if pos + 3 > len(buf):
            raise _Truncated
        n = struct.unpack_from(">I", buf, pos - 1)[0] & 0x1FFFFFFF
        pos += 3
        # Xpdf/poppler skip (n + 9) >> 3 retention bytes, the standard says ceil((n + 1) / 8); the
        # two disagree when n % 8 == 7, which lets one file parse differently in different readers.
        retain = (n + 9) >> 3
        if n % 8 == 7:
            ctx.add(
                "FE-JBIG2-DIFF",
                Severity.INFO,
                "long-form referred-segment count where JBIG2 readers disagree on the header length",
                f"{where} seg#{number}",
                cve=None,
                referred_count=n,
            )
        pos += retain
    elif n in (5, 6):
        ctx.add(
            "FE-JBIG2-MALFORMED",
            Severity.MEDIUM,
            f"invalid referred-segment count field {n}",
            f"{where} seg#{number}",
            cve=CVE,
            reason="invalid count field",
            count_field=n,
        )
        raise _Stop
    size = 1 if number <= 256 else 2 if number <= 65536 else 4
    if n > (len(buf) - pos) // size:
        raise _Truncated
    fmt = {1: "B", 2: "H", 4: "I"}[size]
    refs = list(struct.unpack_from(f">{n}{fmt}", buf, pos)) if n else []
    pos += n * size
    psize = 4 if flags & 0x40 else 1
    if pos + psize + 4 > len(buf):
        raise _Truncated
    page = struct.unpack_from(">I" if psize == 4 else ">B", buf, pos)[0]
    pos += psize
    length = struct.unpack_from(">I", buf, pos)[0]
    pos += 4
    return Segment(number, seg_type, refs, page, length, pos, start), pos


def _parse_data(seg: Segment, buf: bytes) -> None:
    d = seg.data_offset
    end = len(buf) if seg.length == U32_MAX else min(len(buf), d + seg.length)
    if seg.type == 0:
        if d + 2 > end:
            return
        flags = struct.unpack_from(">H", buf, d)[0]
        p = d + 2
        sdhuff, sdrefagg = flags & 1, (flags >> 1) & 1
        sdtemplate, sdrtemplate = (flags >> 10) & 3, (flags >> 12) & 1
        if not sdhuff:
            p += 8 if sdtemplate == 0 else 2
        if sdrefagg and sdrtemplate == 0:
            p += 4
        if p + 8 <= end:
            seg.exported, seg.new = struct.unpack_from(">II", buf, p)
    elif seg.type in _TEXT_REGIONS:
        p = d + 17
        if p + 2 > end:
            return
        flags = struct.unpack_from(">H", buf, p)[0]
        p += 2
        if flags & 1:
            p += 2
        if (flags >> 1) & 1 and not (flags >> 15) & 1:
            p += 4
        if p + 4 <= end:
            seg.instances = struct.unpack_from(">I", buf, p)[0]
    elif seg.type == 48 and d + 8 <= end:
        w, h = struct.unpack_from(">II", buf, d)
        seg.exported, seg.new = w, h  # reused slots: page width/height for the volume rule


def _check(ctx: Ctx, walk: _Walk, seg: Segment, where: str) -> None:
    loc = f"{where} seg#{seg.number}"
    known = walk.segments
    missing = [r for r in seg.refs if r not in known]
    if missing:
        ctx.add(
            "FE-JBIG2-MALFORMED",
            Severity.MEDIUM,
            "segment refers to segments that do not exist",
            loc,
            cve=CVE,
            reason="unknown referred segment",
            missing=missing[:16],
        )
    dicts = [known[r] for r in seg.refs if r in known and known[r].type == 0]
    total = sum(s.exported or 0 for s in dicts)  # duplicates count each time, as Xpdf does
    if seg.type in _TEXT_REGIONS:
        if total > U32_MAX:
            ctx.add(
                "FE-JBIG2-SUM",
                Severity.HIGH,
                "text region refers to symbol dictionaries whose symbol counts sum past 2^32 - 1 "
                "(32-bit overflow in Xpdf-derived decoders)",
                loc,
                cve=CVE,
                segment_type=seg.type,
                referred=seg.refs[:64],
                exported_counts=[s.exported for s in dicts][:64],
                sum=total,
            )
        if len(set(seg.refs)) != len(seg.refs):
            ctx.add(
                "FE-JBIG2-VOLUME",
                Severity.LOW,
                "text region refers to the same segment more than once",
                loc,
                cve=None,
                referred=seg.refs[:64],
            )
    elif seg.type == 0:
        own_new = seg.new or 0
        if total + own_new > U32_MAX:
            ctx.add(
                "FE-JBIG2-SDSUM",
                Severity.HIGH,
                "symbol dictionary input symbols plus new symbols sum past 2^32 - 1",
                loc,
                cve=CVE,
                referred=seg.refs[:64],
                input_symbols=total,
                new_symbols=own_new,
            )
        elif seg.exported is not None and seg.exported > total + own_new:
            ctx.add(
                "FE-JBIG2-MALFORMED",
                Severity.MEDIUM,
                "symbol dictionary exports more symbols than it has",
                loc,
                cve=CVE,
                reason="SDNUMEXSYMS > inputs + SDNUMNEWSYMS",
                exported=seg.exported,
                input_symbols=total,
                new_symbols=own_new,
            )
    elif seg.type == 48 and U32_MAX in (seg.exported, seg.new):
        ctx.add(
            "FE-JBIG2-VOLUME",
            Severity.LOW,
            "page information with width or height 0xFFFFFFFF",
            loc,
            cve=None,
            width=seg.exported,
            height=seg.new,
        )


def _account(ctx: Ctx, walk: _Walk, seg: Segment, where: str) -> bool:
    walk.count += 1
    if seg.type in _REFINEMENT:
        walk.refinements += 1
    ctx.tick()
    if not walk.volume_reported and (walk.count > VOLUME_SEGMENTS or walk.refinements > VOLUME_REFINEMENTS):
        walk.volume_reported = True
        ctx.add(
            "FE-JBIG2-VOLUME",
            Severity.LOW,
            "unusually many segments (FORCEDENTRY drove a logic-gate machine with ~70,000 segments)",
            where,
            cve=None,
            segments=walk.count,
            refinement_segments=walk.refinements,
        )
    if walk.count > ctx.limits.max_jbig2_segments:
        ctx.hit("jbig2-segments")
        return False
    return True


def walk_embedded(ctx: Ctx, walk: _Walk, buf: bytes, where: str) -> None:
    """Walk a PDF-embedded JBIG2 stream: sequential segments, no file header."""
    pos = 0
    while pos < len(buf):
        if len(buf) - pos < 11 and not buf[pos:].strip(b"\x00"):
            return  # trailing padding
        try:
            seg, pos = _header(ctx, buf, pos, where)
        except _Truncated:
            _truncated(ctx, where, pos)
            return
        except _Stop:
            return
        _parse_data(seg, buf)
        _check(ctx, walk, seg, where)
        walk.segments[seg.number] = seg
        if not _account(ctx, walk, seg, where):
            return
        if seg.length == U32_MAX:
            return  # unknown length (immediate generic region): the rest is its data
        if seg.length > len(buf) - pos:
            _truncated(ctx, where, pos, seg.number)
            return
        pos += seg.length
        if seg.type == 51:
            return


def _truncated(ctx: Ctx, where: str, pos: int, number: int | None = None) -> None:
    ctx.add(
        "FE-JBIG2-MALFORMED",
        Severity.MEDIUM,
        "truncated JBIG2 segment",
        f"{where} seg#{number}" if number is not None else f"{where} @{pos}",
        cve=CVE,
        reason="truncated",
        offset=pos,
    )


def scan_pdf_streams(ctx: Ctx, globals_data: bytes | None, image: bytes, where: str) -> None:
    """Screen one PDF ``/JBIG2Decode`` image with its optional ``JBIG2Globals``.

    Globals and image share one segment-number space, as in the decoders.
    """
    walk = _Walk()
    if globals_data is not None:
        walk_embedded(ctx, walk, globals_data, f"{where} globals")
    walk_embedded(ctx, walk, image, where)


def scan_file(ctx: Ctx, data: bytes, offset: int, locator: str) -> str | None:
    """Screen a standalone JBIG2 file (``.jb2``): header, then sequential or random-access segments."""
    where = locator + " > jbig2" if locator else "jbig2"
    if len(data) < 9:
        _truncated(ctx, where, len(data))
        return None
    flags = data[8]
    pos = 9 if flags & 2 else 13
    walk = _Walk()
    if flags & 1:
        walk_embedded(ctx, walk, data[pos:], where)
        return None
    # Random-access organisation: all headers first (up to end-of-file), then all data parts.
    headers: list[Segment] = []
    while pos < len(data):
        try:
            seg, pos = _header(ctx, data, pos, where)
        except _Truncated:
            _truncated(ctx, where, pos)
            break
        except _Stop:
            break
        headers.append(seg)
        if not _account(ctx, walk, seg, where) or seg.type == 51:
            break
    dpos = pos
    for seg in headers:
        seg.data_offset = dpos
        _parse_data(seg, data)
        _check(ctx, walk, seg, where)
        walk.segments[seg.number] = seg
        if seg.length == U32_MAX:
            break
        dpos += seg.length
    return None
