"""Synthetic test vectors, built in code.

Each builder produces a tiny file that carries only the anomalous *structure* the detectors look
for (a header field out of range, a count that overflows, an incomplete prefix code). None of
them contains exploit logic; decoders either reject them or decode a blank 1x1 image.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Sequence

# ----------------------------------------------------------------------------------------------
# Simple images
# ----------------------------------------------------------------------------------------------

GIF_1X1 = bytes.fromhex("474946383961010001000000002c00000000010001000002024401003b")


def png_1x1() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def psd_1x1() -> bytes:
    return (
        b"8BPS\x00\x01"
        + b"\x00" * 6
        + b"\x00\x03"
        + struct.pack(">II", 1, 1)
        + b"\x00\x08\x00\x03"
        + b"\x00\x00\x00\x00" * 4
        + b"\x00\x00"
        + b"\x00\x00\x00"
    )


JPEG_STUB = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"

# ----------------------------------------------------------------------------------------------
# PDF
# ----------------------------------------------------------------------------------------------


def stream_obj(dictionary: bytes, data: bytes) -> bytes:
    """``<< dictionary /Length n >> stream ... endstream``."""
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def pdf_file(objects: dict[int, bytes], *, root: int = 1, header: bytes = b"%PDF-1.7\n") -> bytes:
    """A PDF with the given object bodies, a classic xref table and a trailer."""
    out = bytearray(header + b"%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for n in range(1, size):
        out += b"%010d 00000 n \n" % offsets[n] if n in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, xref)
    return bytes(out)


def jbig2_segment(
    number: int,
    seg_type: int,
    refs: Sequence[int],
    page: int,
    data: bytes,
    *,
    long_form: bool = False,
    length: int | None = None,
) -> bytes:
    """One JBIG2 segment (header + data) with the reference field in short or long form."""
    size = 1 if number <= 256 else 2 if number <= 65536 else 4
    fmt = {1: "B", 2: "H", 4: "I"}[size]
    if long_form or len(refs) > 4:
        n = len(refs)
        reffield = struct.pack(">I", 0xE0000000 | n) + b"\x00" * ((n + 9) >> 3)
    else:
        reffield = bytes([len(refs) << 5])
    return (
        struct.pack(">IB", number, seg_type)
        + reffield
        + b"".join(struct.pack(">" + fmt, r) for r in refs)
        + bytes([page])
        + struct.pack(">I", len(data) if length is None else length)
        + data
    )


def sd_data(exported: int, new: int) -> bytes:
    """Symbol-dictionary data header: arithmetic coding, template 0, nominal AT pixels, no coded data."""
    return b"\x00\x00" + bytes.fromhex("03FFFDFF02FEFEFE") + struct.pack(">II", exported, new) + b"\x00" * 4


def text_region_data(instances: int = 1) -> bytes:
    return struct.pack(">IIIIB", 1, 1, 0, 0, 0) + b"\x00\x00" + struct.pack(">I", instances) + b"\x00" * 4


PAGE_INFO = struct.pack(">IIIIBH", 1, 1, 0, 0, 0, 0)


def jbig2_globals(a: int) -> bytes:
    """Globals stream: one symbol dictionary, segment #0, exporting ``a`` symbols."""
    return jbig2_segment(0, 0, [], 0, sd_data(a, a))


def jbig2_image(
    b: int, *, region_type: int = 6, refs: Sequence[int] = (0, 2), long_form: bool = False, extra_sds: int = 0
) -> bytes:
    """Page stream: page info #1, symbol dictionary #2 (``b`` symbols), text region #3, end of page #4."""
    segs = [jbig2_segment(1, 48, [], 1, PAGE_INFO), jbig2_segment(2, 0, [], 1, sd_data(b, b))]
    refs = list(refs)
    for k in range(extra_sds):
        segs.append(jbig2_segment(10 + k, 0, [], 1, sd_data(b, b)))
        refs.append(10 + k)
    segs.append(jbig2_segment(3, region_type, refs, 1, text_region_data(), long_form=long_form))
    segs.append(jbig2_segment(4, 49, [], 1, b""))
    return b"".join(segs)


def jbig2_pdf(
    globals_data: bytes | None,
    image: bytes,
    *,
    flate: bool = False,
    objstm_parms: bool = False,
    filters_indirect: bool = False,
) -> bytes:
    """One page showing one JBIG2 image XObject, with optional JBIG2Globals and filter chain."""
    if flate:
        image = zlib.compress(image)
        filt = b"[/FlateDecode /JBIG2Decode]"
    else:
        filt = b"/JBIG2Decode"
    parms_direct = b"<< /JBIG2Globals 6 0 R >>" if globals_data is not None else b"null"
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] /Resources << /XObject << /Im0 5 0 R >> >>"
        b" /Contents 4 0 R >>",
        4: stream_obj(b"", b"q 72 0 0 72 0 0 cm /Im0 Do Q"),
    }
    parms = b"[null " + parms_direct + b"]" if flate else parms_direct
    if objstm_parms:
        # The DecodeParms dictionary lives in an object stream (object 8).
        inner = parms
        body = b"8 0 " + inner
        header = b"8 0 "
        objects[7] = stream_obj(b"/Type /ObjStm /N 1 /First %d" % len(header), header + inner)
        del body
        parms = b"8 0 R"
    if filters_indirect:
        objects[9] = filt
        filt = b"9 0 R"
    objects[5] = stream_obj(
        b"/Type /XObject /Subtype /Image /Width 1 /Height 1 /BitsPerComponent 1 /ColorSpace /DeviceGray"
        b" /Filter " + filt + b" /DecodeParms " + parms,
        image,
    )
    if globals_data is not None:
        objects[6] = stream_obj(b"", globals_data)
    return pdf_file(objects)


def jbig2_file(segments: bytes, *, sequential: bool = True) -> bytes:
    """A standalone JBIG2 file: magic, flags (page count known = 1), then the segments."""
    flags = 0x01 if sequential else 0x00
    return b"\x97JB2\r\n\x1a\n" + bytes([flags]) + struct.pack(">I", 1) + segments


def font_pdf(font: bytes) -> bytes:
    """A PDF embedding ``font`` as ``/FontFile2`` of a TrueType font descriptor."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] /Resources << /Font << /F1 6 0 R >> >> >>",
        4: b"<< /Type /FontDescriptor /FontName /Vec /Flags 32 /FontBBox [0 0 500 700] /ItalicAngle 0"
        b" /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 /FontFile2 5 0 R >>",
        5: stream_obj(b"/Filter /FlateDecode /Length1 %d" % len(font), zlib.compress(font)),
        6: b"<< /Type /Font /Subtype /TrueType /BaseFont /Vec /FontDescriptor 4 0 R >>",
    }
    return pdf_file(objects)


# ----------------------------------------------------------------------------------------------
# WebP lossless (VP8L)
# ----------------------------------------------------------------------------------------------


class BitWriter:
    """LSB-first bit writer (the VP8L bit order)."""

    def __init__(self) -> None:
        self.value = 0
        self.nbits = 0

    def bits(self, value: int, n: int) -> BitWriter:
        self.value |= (value & ((1 << n) - 1)) << self.nbits
        self.nbits += n
        return self

    def msb_code(self, code: int, length: int) -> BitWriter:
        """A prefix code as the decoder reads it: most significant code bit first."""
        for i in range(length - 1, -1, -1):
            self.bits((code >> i) & 1, 1)
        return self

    def getvalue(self) -> bytes:
        return self.value.to_bytes((self.nbits + 7) // 8, "little")


def simple_code(w: BitWriter, symbol: int = 0, second: int | None = None) -> None:
    w.bits(1, 1)
    w.bits(0 if second is None else 1, 1)
    if symbol < 2 and second is None:
        w.bits(0, 1).bits(symbol, 1)
    else:
        w.bits(1, 1).bits(symbol, 8)
    if second is not None:
        w.bits(second, 8)


def normal_code(w: BitWriter, lengths: Sequence[int]) -> None:
    """A normal prefix code: code-length code = literals 0..15 all of length 4 (complete)."""
    w.bits(0, 1)
    w.bits(19 - 4, 4)
    order = (17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    for sym in order:
        w.bits(4 if sym < 16 else 0, 3)
    w.bits(0, 1)  # no max_symbol: every symbol of the alphabet gets a length
    for ln in lengths:
        w.msb_code(ln, 4)


def lengths_from_histogram(hist: Sequence[int], alphabet: int) -> list[int]:
    """Code lengths for ``alphabet`` symbols whose histogram (index = length) is ``hist``."""
    out: list[int] = []
    for ln, count in enumerate(hist):
        if ln:
            out += [ln] * count
    assert len(out) <= alphabet
    return out + [0] * (alphabet - len(out))


# The public BLASTPASS-class test histogram: incomplete, needs table entry 412 > 410.
OVERBUDGET_HIST = (0, 1, 1, 1, 1, 1, 0, 0, 0, 11, 5, 1, 10, 4, 2, 2)
COMPLETE_DIST_HIST = (0, 0, 0, 0, 0, 24, 16)


def vp8l_bitstream(
    dist_lengths: Sequence[int] | None = None,
    *,
    green_lengths: Sequence[int] | None = None,
    header: bool = True,
    width: int = 1,
    height: int = 1,
    color_cache: int = 0,
) -> bytes:
    """A VP8L image: no transforms, optional cache; simple single-symbol codes except as given."""
    w = BitWriter()
    if header:
        w.bits(0x2F, 8).bits(width - 1, 14).bits(height - 1, 14).bits(0, 1).bits(0, 3)
    w.bits(0, 1)  # no transform
    if color_cache:
        w.bits(1, 1).bits(color_cache, 4)
    else:
        w.bits(0, 1)
    w.bits(0, 1)  # no meta prefix codes
    if green_lengths is None:
        simple_code(w)
    else:
        normal_code(w, green_lengths)
    for _ in range(3):
        simple_code(w)
    if dist_lengths is None:
        simple_code(w)
    else:
        normal_code(w, dist_lengths)
    return w.getvalue()


def vp8l_with_predictor(sub_dist_lengths: Sequence[int]) -> bytes:
    """A 4x4 VP8L whose predictor sub-image carries the given distance code."""
    w = BitWriter()
    w.bits(0x2F, 8).bits(3, 14).bits(3, 14).bits(0, 1).bits(0, 3)
    w.bits(1, 1).bits(0, 2).bits(0, 3)  # predictor transform, bits = 2 -> 1x1 sub-image
    w.bits(0, 1)  # sub-image: no colour cache
    for _ in range(4):
        simple_code(w)
    normal_code(w, sub_dist_lengths)
    w.bits(0, 1)  # main image: no transform more
    w.bits(0, 1).bits(0, 1)
    for _ in range(5):
        simple_code(w)
    return w.getvalue()


def vp8l_meta_groups(offending_group: int) -> bytes:
    """A 4x4 VP8L with meta prefix codes: the entropy image selects group 1, so 2 groups follow."""
    w = BitWriter()
    w.bits(0x2F, 8).bits(3, 14).bits(3, 14).bits(0, 1).bits(0, 3)
    w.bits(0, 1)  # no transform
    w.bits(0, 1)  # no colour cache
    w.bits(1, 1).bits(0, 3)  # meta codes, prefix bits 2 -> 1x1 entropy image
    w.bits(0, 1)  # entropy image: no colour cache
    simple_code(w, 1)  # green = 1
    for _ in range(4):
        simple_code(w)  # red 0 (group = red << 8 | green = 1), blue, alpha, distance
    for g in range(2):
        for _ in range(4):
            simple_code(w)
        if g == offending_group:
            normal_code(w, lengths_from_histogram(OVERBUDGET_HIST, 40))
        else:
            simple_code(w)
    return w.getvalue()


def vp8l_bad_backref() -> bytes:
    """A sub-image whose first pixel is a backward reference (nothing to copy from)."""
    w = BitWriter()
    w.bits(0x2F, 8).bits(3, 14).bits(3, 14).bits(0, 1).bits(0, 3)
    w.bits(1, 1).bits(0, 2).bits(0, 3)  # predictor, 1x1 sub-image
    w.bits(0, 1)
    green = [0] * 280
    green[0] = 1
    green[256] = 1
    normal_code(w, green)
    for _ in range(4):
        simple_code(w)
    w.bits(1, 1)  # pixel 0: green symbol 256 (code "1") = copy of length 1
    return w.getvalue() + b"\x00\x00"


def riff_webp(chunks: Sequence[tuple[bytes, bytes]]) -> bytes:
    body = b"WEBP"
    for fourcc, data in chunks:
        body += fourcc + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) & 1 else b"")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_lossless(stream: bytes) -> bytes:
    return riff_webp([(b"VP8L", stream)])


def vp8x(width: int = 1, height: int = 1, flags: int = 0x10) -> bytes:
    return bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")


def webp_alph(dist_lengths: Sequence[int]) -> bytes:
    """VP8X + lossless ALPH (header-less VP8L) + a VP8L image."""
    alph = b"\x01" + vp8l_bitstream(dist_lengths, header=False)
    return riff_webp([(b"VP8X", vp8x()), (b"ALPH", alph), (b"VP8L", vp8l_bitstream())])


def webp_animated(dist_lengths: Sequence[int], frame: int = 1) -> bytes:
    """VP8X + ANIM + two ANMF frames; frame ``frame`` carries the given distance code."""
    frames = []
    for i in range(2):
        stream = vp8l_bitstream(dist_lengths if i == frame else None)
        sub = b"VP8L" + struct.pack("<I", len(stream)) + stream + (b"\x00" if len(stream) & 1 else b"")
        head = (
            (0).to_bytes(3, "little") * 2
            + (0).to_bytes(3, "little") * 2
            + (100).to_bytes(3, "little")
            + b"\x00"
        )
        frames.append((b"ANMF", head + sub))
    return riff_webp([(b"VP8X", vp8x(flags=0x02)), (b"ANIM", b"\x00" * 6), *frames])


def webp_overbudget() -> bytes:
    return webp_lossless(vp8l_bitstream(lengths_from_histogram(OVERBUDGET_HIST, 40)))


def webp_complete() -> bytes:
    return webp_lossless(vp8l_bitstream(lengths_from_histogram(COMPLETE_DIST_HIST, 40)))


# ----------------------------------------------------------------------------------------------
# TrueType
# ----------------------------------------------------------------------------------------------


def ttf(
    *,
    prep: bytes | None = None,
    fpgm: bytes | None = None,
    glyph: bytes | None = None,
    composite: bytes | None = None,
) -> bytes:
    """A 3-glyph TrueType font (.notdef, A, composite B) with the given raw bytecode."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable
    from fontTools.ttLib.tables import ttProgram
    from fontTools.ttLib.tables._g_l_y_f import Glyph, GlyphComponent

    def program(code: bytes) -> ttProgram.Program:
        p = ttProgram.Program()
        p.fromBytecode(code)
        return p

    fb = FontBuilder(1000, isTTF=True)
    order = [".notdef", "A", "B"]
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap({65: "A", 66: "B"})
    pen = TTGlyphPen(None)
    pen.moveTo((100, 0))
    pen.lineTo((100, 700))
    pen.lineTo((400, 700))
    pen.lineTo((400, 0))
    pen.closePath()
    a = pen.glyph()
    if glyph is not None:
        a.program = program(glyph)
    b = Glyph()
    comp = GlyphComponent()
    comp.glyphName = "A"
    comp.x, comp.y, comp.flags = 0, 0, 0x0004
    b.components = [comp]
    b.numberOfContours = -1
    if composite is not None:
        b.program = program(composite)
    fb.setupGlyf({".notdef": Glyph(), "A": a, "B": b})
    fb.setupHorizontalMetrics({n: (500, 0) for n in order})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Vector", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    for tag, code in (("prep", prep), ("fpgm", fpgm)):
        if code is not None:
            t = newTable(tag)
            t.program = program(code)
            fb.font[tag] = t
    buf = io.BytesIO()
    fb.font.save(buf)
    return buf.getvalue()


def ttc(*fonts: bytes) -> bytes:
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.ttCollection import TTCollection

    coll = TTCollection()
    coll.fonts = [TTFont(io.BytesIO(f)) for f in fonts]
    buf = io.BytesIO()
    coll.save(buf)
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------
# TIFF / DNG
# ----------------------------------------------------------------------------------------------

SHORT, LONG, BYTE, UNDEFINED = 3, 4, 1, 7


class TiffWriter:
    """A minimal TIFF writer: data blobs and IFDs appended in the order they are added."""

    def __init__(self, bo: str = "<") -> None:
        self.bo = bo
        self.buf = bytearray((b"II*\x00" if bo == "<" else b"MM\x00*") + b"\x00\x00\x00\x00")

    def blob(self, data: bytes) -> int:
        if len(self.buf) % 2:
            self.buf += b"\x00"
        off = len(self.buf)
        self.buf += data
        return off

    def ifd(self, entries: list[tuple[int, int, Sequence[int] | bytes]], *, next_ifd: int | str = 0) -> int:
        bo = self.bo
        fmt = {SHORT: "H", LONG: "I", BYTE: "B", UNDEFINED: "B"}
        encoded = []
        for tag, typ, vals in sorted(entries, key=lambda e: e[0]):
            raw = bytes(vals) if isinstance(vals, bytes) else struct.pack(f"{bo}{len(vals)}{fmt[typ]}", *vals)
            count = len(raw) // {SHORT: 2, LONG: 4, BYTE: 1, UNDEFINED: 1}[typ]
            field = raw.ljust(4, b"\x00") if len(raw) <= 4 else struct.pack(f"{bo}I", self.blob(raw))
            encoded.append(struct.pack(f"{bo}HHI", tag, typ, count) + field)
        if len(self.buf) % 2:
            self.buf += b"\x00"
        off = len(self.buf)
        nxt = off if next_ifd == "self" else int(next_ifd)
        self.buf += struct.pack(f"{bo}H", len(encoded)) + b"".join(encoded) + struct.pack(f"{bo}I", nxt)
        return off

    def finish(self, first_ifd: int) -> bytes:
        struct.pack_into(f"{self.bo}I", self.buf, 4, first_ifd)
        return bytes(self.buf)


def ljpeg_header(x: int, y: int, nf: int, precision: int = 16) -> bytes:
    """A lossless-JPEG (SOF3) header with one DHT and an SOS; no real entropy-coded data."""
    comps = b"".join(bytes([i + 1, 0x11, 0]) for i in range(nf))
    sof = b"\xff\xc3" + struct.pack(">HBHHB", 8 + 3 * nf, precision, y, x, nf) + comps
    dht = b"\xff\xc4\x00\x14\x00\x01" + b"\x00" * 15 + b"\x00"
    sos = (
        b"\xff\xda"
        + struct.pack(">HB", 6 + 2 * nf, nf)
        + b"".join(bytes([i + 1, 0]) for i in range(nf))
        + b"\x01\x00\x00"
    )
    return b"\xff\xd8" + sof + dht + sos + b"\x00" * 8 + b"\xff\xd9"


def dng(
    *,
    spp: int = 1,
    x: int = 8,
    y: int = 16,
    nf: int = 2,
    bo: str = "<",
    strips: bool = False,
    opcode_list: bytes | None = None,
    dng_version: bool = True,
    precision: int = 16,
) -> bytes:
    """IFD0 thumbnail stub with DNGVersion and SubIFDs -> a 16x16 raw SubIFD of one lossless-JPEG tile."""
    w = TiffWriter(bo)
    tile = ljpeg_header(x, y, nf, precision)
    toff = w.blob(tile)
    raw: list[tuple[int, int, Sequence[int] | bytes]] = [
        (0x00FE, LONG, [0]),
        (0x0100, LONG, [16]),
        (0x0101, LONG, [16]),
        (0x0102, SHORT, [16] * spp),
        (0x0103, SHORT, [7]),
        (0x0106, SHORT, [32803]),
        (0x0115, SHORT, [spp]),
    ]
    if strips:
        raw += [(0x0111, LONG, [toff]), (0x0116, LONG, [16]), (0x0117, LONG, [len(tile)])]
    else:
        raw += [
            (0x0142, LONG, [16]),
            (0x0143, LONG, [16]),
            (0x0144, LONG, [toff]),
            (0x0145, LONG, [len(tile)]),
        ]
    if opcode_list is not None:
        raw.append((0xC741, UNDEFINED, opcode_list))
    sub = w.ifd(raw)
    ifd0: list[tuple[int, int, Sequence[int] | bytes]] = [
        (0x00FE, LONG, [1]),
        (0x0100, LONG, [1]),
        (0x0101, LONG, [1]),
        (0x0102, SHORT, [8]),
        (0x0103, SHORT, [1]),
        (0x0106, SHORT, [1]),
        (0x014A, LONG, [sub]),
    ]
    if dng_version:
        ifd0.append((0xC612, BYTE, b"\x01\x04\x00\x00"))
    return w.finish(w.ifd(ifd0))


def tiff_loop(two: bool = False) -> bytes:
    """A TIFF whose IFD chain loops (28 -> 28, or A -> B -> A)."""
    w = TiffWriter("<")
    entries: list[tuple[int, int, Sequence[int] | bytes]] = [(0x0100, LONG, [1]), (0x0101, LONG, [1])]
    if not two:
        return w.finish(w.ifd(entries, next_ifd="self"))
    first = w.ifd(entries)
    second = w.ifd(entries, next_ifd=first)
    # patch the first IFD's next pointer to the second
    n = struct.unpack_from("<H", w.buf, first)[0]
    struct.pack_into("<I", w.buf, first + 2 + 12 * n, second)
    return w.finish(first)


def zip_bytes(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def pkpass(logo: bytes) -> bytes:
    return zip_bytes(
        {
            "pass.json": b'{"formatVersion":1}',
            "manifest.json": b"{}",
            "signature": b"",
            "logo.png": logo,
        }
    )


def vp8l_entropy_channel_order() -> bytes:
    """Entropy image whose pixels need red/blue/alpha decoded in bitstream order to stay in sync.

    Blue uses a 3-symbol code with lengths 1, 2, 2 and alpha a 2-symbol code, so reading alpha
    before blue consumes different bits; only the right order finds 2 groups, and group 1 carries
    the over-budget distance code.
    """
    w = BitWriter()
    w.bits(0x2F, 8).bits(7, 14).bits(3, 14).bits(0, 1).bits(0, 3)  # 8x4
    w.bits(0, 1).bits(0, 1)  # no transform, no cache
    w.bits(1, 1).bits(0, 3)  # meta codes, bits 2 -> 2x1 entropy image
    w.bits(0, 1)  # entropy image: no cache
    simple_code(w, 0, 1)  # green: {0, 1}, one bit each
    simple_code(w)  # red: 0
    blue = [0] * 256
    blue[0], blue[1], blue[2] = 1, 2, 2
    normal_code(w, blue)  # codes: 0 -> "0", 1 -> "10", 2 -> "11"
    simple_code(w, 0, 1)  # alpha: {0, 1}
    simple_code(w)  # distance
    # pixel 0: green 0, blue 1 ("10"), alpha 0; pixel 1: green 1, blue 0, alpha 0
    w.msb_code(0, 1).msb_code(0b10, 2).msb_code(0, 1)
    w.msb_code(1, 1).msb_code(0, 1).msb_code(0, 1)
    for g in range(2):
        for _ in range(4):
            simple_code(w)
        if g == 1:
            normal_code(w, lengths_from_histogram(OVERBUDGET_HIST, 40))
        else:
            simple_code(w)
    return w.getvalue()
