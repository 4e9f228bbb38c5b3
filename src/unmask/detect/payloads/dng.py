"""DNG rules: lossless-JPEG sample counts (CVE-2025-43300) and opcode lists (CVE-2025-21043).

The Adobe DNG SDK sizes a tile's buffer from the TIFF tags and requires the lossless JPEG inside
to decode to exactly that many samples; Apple's RawCamera trusted the JPEG's component count
instead, so a tile whose SOF3 promises fewer samples than the tags (``SamplesPerPixel = 2`` but
``Nf = 1``) overran. Samsung's Quram parser accepted opcode counts far larger than the tag.
"""

from __future__ import annotations

import struct

from unmask.model import Severity

from .disguise import trailing
from .result import Ctx
from .tiff import IFD, LANDFALL_CVE, Tiff, zip_after

CVE_RAWCAMERA = "CVE-2025-43300"
CVE_QURAM = "CVE-2025-21043"
MAX_OPCODES = 1_000_000
_OPCODE_TAGS = {0xC740: "OpcodeList1", 0xC741: "OpcodeList2", 0xC74E: "OpcodeList3"}
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def first_sof(data: bytes, off: int, count: int) -> tuple[int, int, int, int, int] | None:
    """``(marker, P, Y, X, Nf)`` of the first SOF in the JPEG at ``off``; ``None`` if there is none."""
    if data[off : off + 2] != b"\xff\xd8":
        return None
    limit = min(len(data), off + count) if count > 0 else len(data)
    p = off + 2
    for _ in range(256):
        if p + 4 > limit or data[p] != 0xFF:
            return None
        m = data[p + 1]
        if m == 0xFF:
            p += 1
            continue
        if m in _STANDALONE:
            p += 2
            continue
        if m in (0xDA, 0xD9):
            return None
        seg_len = struct.unpack_from(">H", data, p + 2)[0]
        if m in _SOF:
            if p + 10 > limit:
                return None
            prec, y, x, nf = struct.unpack_from(">BHHB", data, p + 4)
            return m, prec, y, x, nf
        p += 2 + seg_len
    return None


def _ljpeg(ctx: Ctx, t: Tiff, ifd: IFD, is_dng: bool, where: str) -> None:
    loc = f"{where} {ifd.label}"
    tiled = 0x0144 in ifd.entries
    spp = t.first(ifd, 0x0115, 1) or 1
    planar = t.first(ifd, 0x011C, 1)
    planes = 1 if planar == 2 else spp
    width = t.first(ifd, 0x0100, 0) or 0
    height = t.first(ifd, 0x0101, 0) or 0
    bps = t.first(ifd, 0x0102, None)
    if tiled:
        tw, tl = t.first(ifd, 0x0142, 0) or 0, t.first(ifd, 0x0143, 0) or 0
        oe, ce = ifd.entries.get(0x0144), ifd.entries.get(0x0145)
    else:
        tw = width
        tl = t.first(ifd, 0x0116, height) or height
        tl = min(tl, height) if height else tl
        oe, ce = ifd.entries.get(0x0111), ifd.entries.get(0x0117)
    if oe is None:
        return
    offsets = t.values(oe)
    counts = t.values(ce) if ce is not None else []
    if is_dng:
        dims = {"ImageWidth": width, "ImageLength": height, "TileWidth": tw, "TileLength": tl}
        bad = {k: v for k, v in dims.items() if not 1 <= v <= 99_999}
        if bad or len(offsets) >= 20_000:
            ctx.add(
                "DNG-DIMS",
                Severity.LOW,
                "raw image dimensions or tile count outside what RawCamera accepts",
                loc,
                cve=None,
                dimensions=dims,
                tiles=len(offsets),
            )
    short: dict[str, object] | None = None
    long: dict[str, object] | None = None
    n_short = n_long = 0
    rows_left = height
    for i, off in enumerate(offsets):
        ctx.tick()
        sof = first_sof(t.data, off, counts[i] if i < len(counts) else 0)
        full = planes * tw * tl
        if tiled or not height:
            low = full
        else:
            low = planes * tw * max(0, min(tl, rows_left))
            rows_left -= tl
        if sof is None or sof[0] != 0xC3:
            continue
        _, prec, y, x, nf = sof
        if y == 0:
            ctx.error(f"{loc} tile#{i}: SOF3 height 0 (DNL); sample count not checked")
            continue
        got = nf * x * y
        ev = {
            "tile": i,
            "offset": off,
            "sof3": {"P": prec, "Y": y, "X": x, "Nf": nf},
            "samples_per_pixel": spp,
            "tile_width": tw,
            "tile_length": tl,
            "jpeg_samples": got,
            "expected_samples": full if got < min(full, low) else max(full, low),
            "bits_per_sample": bps,
        }
        if got < min(full, low):
            n_short += 1
            short = short or ev
        elif got > max(full, low) or not 2 <= prec <= 16 or (bps is not None and bps != prec):
            n_long += 1
            long = long or ev
    if short is not None:
        shape = (
            " (SamplesPerPixel 2 with a 1-component SOF3: the public exploit shape)"
            if (
                spp == 2 and short["sof3"]["Nf"] == 1  # type: ignore[index]
            )
            else ""
        )
        ctx.add(
            "DNG-LJPEG-SAMPLES",
            Severity.HIGH if is_dng else Severity.MEDIUM,
            "lossless-JPEG tile holds fewer samples than the TIFF tags make the decoder write" + shape,
            f"{loc} tile#{short['tile']}",
            cve=CVE_RAWCAMERA,
            tiles_affected=n_short,
            **short,
        )
    if long is not None:
        ctx.add(
            "DNG-LJPEG-MISMATCH",
            Severity.MEDIUM if is_dng else Severity.LOW,
            "lossless-JPEG tile disagrees with the TIFF tags (the DNG SDK rejects it)",
            f"{loc} tile#{long['tile']}",
            cve=CVE_RAWCAMERA,
            tiles_affected=n_long,
            **long,
        )


def _oplist(ctx: Ctx, t: Tiff, ifd: IFD, tag: int, where: str) -> None:
    e = ifd.entries[tag]
    raw = t.raw(e)
    name = _OPCODE_TAGS[tag]
    loc = f"{where} {ifd.label} {name}"
    nbytes = len(raw)
    if nbytes == 0:
        return
    if nbytes < 4:
        ctx.add(
            "DNG-OPLIST-FIT",
            Severity.MEDIUM,
            f"{name} too short to hold an opcode count",
            loc,
            cve=CVE_QURAM,
            byte_count=nbytes,
        )
        return
    count = struct.unpack_from(">I", raw, 0)[0]
    if count > MAX_OPCODES:
        ctx.add(
            "DNG-OPLIST-COUNT",
            Severity.HIGH,
            f"{name} declares {count} opcodes (Samsung's fix rejects more than {MAX_OPCODES})",
            loc,
            cve=CVE_QURAM,
            opcode_count=count,
            byte_count=nbytes,
        )
    p = 4
    fits = count * 16 <= nbytes - 4
    walked = 0
    for _ in range(min(count, (nbytes - 4) // 16)):
        if p + 16 > nbytes:
            fits = False
            break
        params = struct.unpack_from(">I", raw, p + 12)[0]
        p += 16 + params
        walked += 1
        if p > nbytes:
            fits = False
            break
    if fits and p != nbytes:
        fits = False
    if not fits:
        ctx.add(
            "DNG-OPLIST-FIT",
            Severity.MEDIUM,
            f"{name} opcodes do not fit the tag exactly (the DNG SDK rejects the list)",
            loc,
            cve=CVE_QURAM,
            opcode_count=count,
            byte_count=nbytes,
            walked=walked,
            walk_end=p,
        )


def check(ctx: Ctx, t: Tiff, is_dng: bool, where: str) -> None:
    """Apply the DNG rules to every IFD of a walked TIFF."""
    for ifd in t.ifds:
        if t.first(ifd, 0x0103) == 7:
            _ljpeg(ctx, t, ifd, is_dng, where)
        for tag in _OPCODE_TAGS:
            if tag in ifd.entries:
                _oplist(ctx, t, ifd, tag, where)


def scan(ctx: Ctx, data: bytes, offset: int, locator: str) -> str | None:
    """Screen a TIFF/BigTIFF (:mod:`.tiff` walks it): apply the DNG rules, and look for archives
    appended after the image data."""
    kind = "bigtiff" if data[2:4] in (b"+\x00", b"\x00+") else "tiff"
    where = f"{locator} > {kind}" if locator else kind
    t = Tiff(ctx, data, where)
    try:
        t.walk()
        is_dng = bool(t.ifds) and 0xC612 in t.ifds[0].entries
        if is_dng:
            kind = "dng"
            where = f"{locator} > dng" if locator else "dng"
            t.where = where
        if t.loop:
            ctx.add(
                "TIFF-MALFORMED",
                Severity.LOW,
                "IFD chain loops back to an IFD already read",
                where,
                cve=None,
                reason="ifd loop",
                at=t.loop[:8],
            )
        check(ctx, t, is_dng, where)
    finally:
        end = t.end
        z = zip_after(data, end)
        if z is not None:
            ctx.add(
                "DNG-APPENDED-ZIP",
                Severity.HIGH if kind == "dng" else Severity.MEDIUM,
                f"ZIP archive appended after the end of the {kind.upper()} data (LANDFALL delivery)",
                where,
                cve=LANDFALL_CVE,
                image_data_end=end,
                zip_offset=z,
                appended_bytes=len(data) - z,
            )
            ctx.scan_nested(data[z:], None, f"{where} appended@{z}")
        else:
            trailing(ctx, kind, data, end, where)
    return kind
