"""BP-VP8L: BLASTPASS (CVE-2023-4863 / CVE-2023-41064) shapes in WebP lossless prefix codes.

libwebp <= 1.3.1 wrote second-level Huffman lookup tables before checking that a code was
complete, and sized the table buffer for the worst *valid* code. An incomplete code can need more
table entries than that budget. This module walks every prefix code of every VP8L image in a
WebP (main image, transform sub-images, entropy image, colour cache, lossless ALPH, animation
frames), emulates libwebp's table-building arithmetic, and reports codes that overrun the budget
or violate the Kraft equality. Sub-images are decoded (they are small) to stay in sync; the
main image's pixels are not needed.
"""

from __future__ import annotations

import struct
from typing import Final

from unmask.model import Severity

from .disguise import trailing
from .result import Ctx

CVE = "CVE-2023-4863"
ROOT_BITS: Final = 8
MAX_LEN: Final = 15
CODE_LENGTH_ORDER: Final = (17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
# libwebp kTableSize[ccb] - FIXED_TABLE_SIZE: the green code's table budget per colour-cache size.
GREEN_BUDGET: Final = (654, 656, 658, 662, 670, 686, 718, 782, 912, 1168, 1680, 2704)
RBA_BUDGET: Final = 630
DIST_BUDGET: Final = 410
CODE_NAMES: Final = ("green", "red", "blue", "alpha", "distance")
TRANSFORM_NAMES: Final = ("predictor", "cross-colour", "subtract-green", "colour-indexing")
# (yoffset << 4) | (8 - xoffset) for the 120 short distance codes (WebP lossless spec, 4.2.2).
CODE_TO_PLANE: Final = bytes.fromhex(
    "1807171928062729161a262a38053739151b363a252b48044749141c353b464a242c58454b343c035759131d"
    "565a232d444c555b333d68026769121e666a222e545c434d656b323e78017779535d111f646c424e767a212f"
    "757b313f636d525e00747c414f1020626e30737d515f40727e616f50717f6070"
)


class _Stop(Exception):
    """The bitstream cannot be followed further; the reason was already reported."""


class _EOS(Exception):
    pass


class BitReader:
    """LSB-first bit reader over a bytes object."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, start_byte: int = 0) -> None:
        self.data = data
        self.pos = start_byte * 8
        self.end = len(data) * 8

    def read(self, n: int) -> int:
        if n == 0:
            return 0
        p = self.pos
        if p + n > self.end:
            raise _EOS
        i = p >> 3
        v = int.from_bytes(self.data[i : i + 4], "little") >> (p & 7)
        self.pos = p + n
        return v & ((1 << n) - 1)

    def peek8(self) -> int:
        p = self.pos
        i = p >> 3
        return (int.from_bytes(self.data[i : i + 3], "little") >> (p & 7)) & 0xFF


class PrefixCode:
    """A canonical prefix code ready for decoding (fast 8-bit table plus a canonical slow path)."""

    __slots__ = ("counts", "fast", "single", "symbols")

    def __init__(self, lengths: list[int]) -> None:
        counts = [0] * (MAX_LEN + 1)
        for ln in lengths:
            counts[ln] += 1
        counts[0] = 0
        self.counts = counts
        order = sorted((ln, s) for s, ln in enumerate(lengths) if ln)
        self.symbols = [s for _, s in order]
        self.single: int | None = self.symbols[0] if len(self.symbols) == 1 else None
        fast: list[tuple[int, int] | None] = [None] * 256
        code = 0
        prev_len = 0
        for ln, s in order:
            code <<= ln - prev_len
            prev_len = ln
            if ln <= 8:
                rev = int(f"{code:0{ln}b}"[::-1], 2)
                for fill in range(1 << (8 - ln)):
                    fast[rev | (fill << ln)] = (s, ln)
            code += 1
        self.fast = fast

    def decode(self, br: BitReader) -> int:
        if self.single is not None:
            return self.single
        hit = self.fast[br.peek8()]
        if hit is not None and br.pos + hit[1] <= br.end:
            br.pos += hit[1]
            return hit[0]
        code = first = index = 0
        counts = self.counts
        for ln in range(1, MAX_LEN + 1):
            code |= br.read(1)
            count = counts[ln]
            if code - count < first:
                return self.symbols[index + code - first]
            index += count
            first = (first + count) << 1
            code <<= 1
        raise _EOS  # an unassigned code: only possible for incomplete codes


def _next_key(key: int, length: int) -> int:
    step = 1 << (length - 1)
    while key & step:
        step >>= 1
    return (key & (step - 1)) + step if step else key


def _next_table_bits(count: list[int], length: int) -> int:
    left = 1 << (length - ROOT_BITS)
    while length < MAX_LEN:
        left -= count[length]
        if left <= 0:
            break
        length += 1
        left <<= 1
    return length - ROOT_BITS


def max_table_write(histogram: list[int]) -> int:
    """Highest lookup-table index libwebp's ``BuildHuffmanTable`` (root 8 bits) would write.

    ``histogram[l]`` is the number of symbols with code length ``l`` (index 0 ignored). Emulates
    the pre-1.3.2 order of operations: writes happen level by level and stop only where a level is
    over-subscribed, so an incomplete code is followed to its last write. Returns -1 if the
    decoder would reject the code before writing anything.
    """
    count = list(histogram) + [0] * (MAX_LEN + 1 - len(histogram))
    count[0] = 0
    for ln in range(1, MAX_LEN):
        if count[ln] > (1 << ln):
            return -1
    nsyms = sum(count[1:])
    if nsyms == 0:
        return -1
    if nsyms == 1:
        return (1 << ROOT_BITS) - 1
    total_size = 1 << ROOT_BITS
    table_size = total_size
    max_idx = -1
    key = 0
    num_open = 1
    step = 2
    for ln in range(1, ROOT_BITS + 1):
        num_open = (num_open << 1) - count[ln]
        if num_open < 0:
            return max_idx
        for _ in range(count[ln]):
            max_idx = max(max_idx, key + table_size - step)
            key = _next_key(key, ln)
        count[ln] = 0
        step <<= 1
    mask = total_size - 1
    low = -1
    table_off = 0
    step = 2
    for ln in range(ROOT_BITS + 1, MAX_LEN + 1):
        num_open = (num_open << 1) - count[ln]
        if num_open < 0:
            return max_idx
        while count[ln] > 0:
            if (key & mask) != low:
                table_off = total_size
                table_size = 1 << _next_table_bits(count, ln)
                total_size += table_size
                low = key & mask
            max_idx = max(max_idx, table_off + (key >> ROOT_BITS) + table_size - step)
            key = _next_key(key, ln)
            count[ln] -= 1
        step <<= 1
    return max_idx


def kraft_sum(histogram: list[int], bits: int = MAX_LEN) -> int:
    """Σ count[l]·2^(bits−l); a complete code sums to 2^bits."""
    return sum(c << (bits - ln) for ln, c in enumerate(histogram) if ln and c)


def _sub(size: int, bits: int) -> int:
    return (size + (1 << bits) - 1) >> bits


def _copy_distance(sym: int, br: BitReader) -> int:
    if sym < 4:
        return sym + 1
    extra = (sym - 2) >> 1
    return ((2 + (sym & 1)) << extra) + br.read(extra) + 1


class _Walker:
    def __init__(self, ctx: Ctx, br: BitReader, where: str) -> None:
        self.ctx = ctx
        self.br = br
        self.where = where
        self.code_index = 0

    def malformed(self, reason: str, loc: str, **ev: object) -> None:
        self.ctx.add(
            "BP-VP8L-MALFORMED",
            Severity.LOW,
            f"invalid VP8L bitstream: {reason}",
            loc,
            cve=None,
            reason=reason,
            **ev,
        )
        raise _Stop

    # -- prefix codes --------------------------------------------------------------------------
    def read_code(self, alphabet: int, kind: int, budget: int, loc: str, ccb: int) -> PrefixCode:
        br = self.br
        idx = self.code_index
        self.code_index += 1
        cloc = f"{loc} code#{idx} ({CODE_NAMES[kind]})"
        lengths = [0] * alphabet
        if br.read(1):  # simple code: one or two symbols of length 1
            nsym = br.read(1) + 1
            first_bits = 8 if br.read(1) else 1
            syms = [br.read(first_bits)]
            if nsym == 2:
                syms.append(br.read(8))
            for s in syms:
                if s >= alphabet:
                    self.malformed(
                        "simple-code symbol outside the alphabet", cloc, symbol=s, alphabet=alphabet
                    )
                lengths[s] = 1
            simple = True
        else:
            simple = False
            ncl = br.read(4) + 4
            cl_lengths = [0] * 19
            for i in range(ncl):
                cl_lengths[CODE_LENGTH_ORDER[i]] = br.read(3)
            cl_hist = [0] * 8
            for ln in cl_lengths:
                cl_hist[ln] += 1
            nz = 19 - cl_hist[0]
            if nz == 0:
                self.malformed("code-length code has no symbols", cloc)
            if nz >= 2 and kraft_sum(cl_hist, 7) != 128:
                self.ctx.add(
                    "BP-VP8L-KRAFT",
                    Severity.MEDIUM,
                    "the code-length code is not a complete prefix code (rejected by libwebp)",
                    f"{cloc} code-length code",
                    cve=CVE,
                    histogram=cl_hist,
                    kraft_sum=kraft_sum(cl_hist, 7),
                    kraft_full=128,
                )
                raise _Stop
            cl_code = PrefixCode(cl_lengths)
            if br.read(1):
                nbits = 2 + 2 * br.read(3)
                max_symbol = 2 + br.read(nbits)
                if max_symbol > alphabet:
                    self.malformed(
                        "max_symbol larger than the alphabet", cloc, max_symbol=max_symbol, alphabet=alphabet
                    )
            else:
                max_symbol = alphabet
            sym = 0
            prev = 8
            while sym < alphabet:
                if max_symbol == 0:
                    break
                max_symbol -= 1
                cl = cl_code.decode(br)
                if cl < 16:
                    lengths[sym] = cl
                    sym += 1
                    if cl:
                        prev = cl
                else:
                    extra, base = ((2, 3), (3, 3), (7, 11))[cl - 16]
                    rep = br.read(extra) + base
                    if sym + rep > alphabet:
                        self.malformed(
                            "code-length repeat runs past the alphabet",
                            cloc,
                            symbol=sym,
                            repeat=rep,
                            alphabet=alphabet,
                        )
                    val = prev if cl == 16 else 0
                    for _ in range(rep):
                        lengths[sym] = val
                        sym += 1
        hist = [0] * (MAX_LEN + 1)
        for ln in lengths:
            hist[ln] += 1
        nz = alphabet - hist[0]
        if nz == 0:
            self.malformed("prefix code with no symbols", cloc)
        hist[0] = 0
        top = max_table_write(hist)
        ksum = kraft_sum(hist)
        evidence: dict[str, object] = {
            "alphabet_size": alphabet,
            "color_cache_bits": ccb,
            "histogram": hist,
            "kraft_sum": ksum,
            "kraft_full": 1 << MAX_LEN,
            "max_write_index": top,
            "budget": budget,
        }
        if top >= budget:
            self.ctx.add(
                "BP-VP8L-BUDGET",
                Severity.HIGH,
                f"{CODE_NAMES[kind]} prefix code needs lookup-table entry {top}, past libwebp's "
                f"worst-case budget of {budget} (the BLASTPASS heap overflow)",
                cloc,
                cve=CVE,
                **evidence,
            )
        if nz >= 2 and ksum != 1 << MAX_LEN:
            self.ctx.add(
                "BP-VP8L-KRAFT",
                Severity.MEDIUM,
                "prefix code lengths are not a complete code (rejected by every libwebp)",
                cloc,
                cve=CVE,
                simple=simple,
                **evidence,
            )
            raise _Stop
        return PrefixCode(lengths)

    def read_group(self, ccb: int, loc: str) -> list[PrefixCode]:
        green = 256 + 24 + ((1 << ccb) if ccb else 0)
        return [
            self.read_code(green, 0, GREEN_BUDGET[ccb], loc, ccb),
            self.read_code(256, 1, RBA_BUDGET, loc, ccb),
            self.read_code(256, 2, RBA_BUDGET, loc, ccb),
            self.read_code(256, 3, RBA_BUDGET, loc, ccb),
            self.read_code(40, 4, DIST_BUDGET, loc, ccb),
        ]

    # -- images ------------------------------------------------------------------------------
    def image(self, xsize: int, ysize: int, level0: bool, loc: str) -> list[int] | None:
        br, ctx = self.br, self.ctx
        if level0:
            seen: set[int] = set()
            while br.read(1):
                t = br.read(2)
                if t in seen:
                    self.malformed("transform used twice", loc, transform=TRANSFORM_NAMES[t])
                seen.add(t)
                tloc = f"{loc} {TRANSFORM_NAMES[t]}"
                if t in (0, 1):
                    bits = br.read(3) + 2
                    self.image(_sub(xsize, bits), _sub(ysize, bits), False, f"{tloc} sub-image")
                elif t == 3:
                    ncolors = br.read(8) + 1
                    bits = 0 if ncolors > 16 else 1 if ncolors > 4 else 2 if ncolors > 2 else 3
                    self.image(ncolors, 1, False, f"{tloc} palette")
                    xsize = _sub(xsize, bits)
        ccb = 0
        if br.read(1):
            ccb = br.read(4)
            if not 1 <= ccb <= 11:
                self.malformed("colour-cache bits out of range", loc, color_cache_bits=ccb)
        groups = 1
        if level0 and br.read(1):
            prec = br.read(3) + 2
            entropy = self.image(_sub(xsize, prec), _sub(ysize, prec), False, f"{loc} entropy-image")
            assert entropy is not None
            groups = max(((p >> 8) & 0xFFFF) for p in entropy) + 1 if entropy else 1
            if groups > ctx.limits.max_vp8l_groups:
                ctx.hit("vp8l-groups")
                ctx.error(f"{loc}: {groups} prefix-code groups, over the limit; not all codes checked")
                raise _Stop
        codes: list[PrefixCode] = []
        for g in range(groups):
            ctx.tick(5)
            codes = self.read_group(ccb, f"{loc} group#{g}" if groups > 1 else loc)
        if level0:
            return None
        return self.pixels(xsize, ysize, codes, ccb, loc)

    def pixels(self, xsize: int, ysize: int, codes: list[PrefixCode], ccb: int, loc: str) -> list[int]:
        total = xsize * ysize
        if total > self.ctx.limits.max_vp8l_pixels:
            self.ctx.hit("vp8l-pixels")
            self.ctx.error(f"{loc}: sub-image of {xsize}x{ysize} over the decode limit")
            raise _Stop
        br = self.br
        green, red, blue, alpha, dist = codes
        pix = [0] * total
        cache = [0] * (1 << ccb) if ccb else None
        shift = 32 - ccb
        pos = 0
        tick = self.ctx.tick
        while pos < total:
            g = green.decode(br)
            if g < 256:
                r = red.decode(br)  # bitstream order: green, red, blue, alpha
                b = blue.decode(br)
                p = (alpha.decode(br) << 24) | (r << 16) | (g << 8) | b
                pix[pos] = p
                pos += 1
                if cache is not None:
                    cache[((p * 0x1E35A7BD) & 0xFFFFFFFF) >> shift] = p
            elif g < 280:
                length = _copy_distance(g - 256, br)
                code = _copy_distance(dist.decode(br), br)
                if code > 120:
                    d = code - 120
                else:
                    v = CODE_TO_PLANE[code - 1]
                    d = max(1, (v >> 4) * xsize + 8 - (v & 0xF))
                if d > pos or length > total - pos:
                    self.malformed(
                        "backward reference outside the image", loc, position=pos, distance=d, length=length
                    )
                for k in range(pos, pos + length):
                    p = pix[k - d]
                    pix[k] = p
                    if cache is not None:
                        cache[((p * 0x1E35A7BD) & 0xFFFFFFFF) >> shift] = p
                pos += length
            else:
                key = g - 280
                if cache is None or key >= len(cache):
                    self.malformed("colour-cache index without a cache", loc, index=key)
                assert cache is not None
                p = cache[key]
                pix[pos] = p
                pos += 1
                cache[((p * 0x1E35A7BD) & 0xFFFFFFFF) >> shift] = p
            tick()
        return pix


def scan_vp8l(ctx: Ctx, stream: bytes, where: str, *, headerless: tuple[int, int] | None = None) -> None:
    """Walk one VP8L bitstream (``headerless=(w, h)`` for lossless ``ALPH`` data)."""
    br = BitReader(stream)
    walker = _Walker(ctx, br, where)
    try:
        if headerless is None:
            if br.read(8) != 0x2F:
                walker.malformed("bad VP8L signature", where)
            w = br.read(14) + 1
            h = br.read(14) + 1
            br.read(1)
            if br.read(3) != 0:
                walker.malformed("unknown VP8L version", where)
        else:
            w, h = headerless
        walker.image(w, h, True, where)
    except _Stop:
        pass
    except _EOS:
        ctx.add(
            "BP-VP8L-MALFORMED",
            Severity.LOW,
            "VP8L bitstream ends early (or uses an unassigned code)",
            where,
            cve=None,
            reason="end of stream",
            bit_position=br.pos,
        )


def scan(ctx: Ctx, data: bytes, offset: int, locator: str) -> str | None:
    """Walk the RIFF chunks of a WebP and every VP8L stream inside (``VP8L``, ``ALPH``, ``ANMF``)."""
    base = f"{locator} > webp" if locator else "webp"
    riff_end = 8 + struct.unpack_from("<I", data, 4)[0]
    end = min(len(data), riff_end)
    if riff_end < len(data):
        trailing(ctx, "webp", data, riff_end + (riff_end & 1), base)
    canvas: tuple[int, int] | None = None
    _chunks(ctx, data, 12, end, base, canvas, top=True)
    return None


def _chunks(
    ctx: Ctx, data: bytes, pos: int, end: int, where: str, dims: tuple[int, int] | None, *, top: bool
) -> None:
    n = 0
    frame = 0
    while pos + 8 <= end:
        n += 1
        if n > ctx.limits.max_webp_chunks:
            ctx.hit("webp-chunks")
            return
        ctx.tick()
        fourcc = data[pos : pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8 : min(end, pos + 8 + size)]
        name = fourcc.decode("latin-1").strip()
        if fourcc == b"VP8L":
            scan_vp8l(ctx, body, f"{where} VP8L")
        elif fourcc == b"VP8X" and len(body) >= 10 and top:
            dims = (1 + int.from_bytes(body[4:7], "little"), 1 + int.from_bytes(body[7:10], "little"))
        elif fourcc == b"ALPH" and body:
            if body[0] & 3 == 1:
                if dims is None:
                    ctx.error(f"{where} ALPH: lossless alpha without canvas size; not checked")
                else:
                    scan_vp8l(ctx, body[1:], f"{where} ALPH", headerless=dims)
        elif fourcc == b"ANMF" and len(body) >= 16 and top:
            fdims = (1 + int.from_bytes(body[6:9], "little"), 1 + int.from_bytes(body[9:12], "little"))
            _chunks(
                ctx, data, pos + 8 + 16, min(end, pos + 8 + size), f"{where} ANMF#{frame}", fdims, top=False
            )
            frame += 1
        del name
        pos += 8 + size + (size & 1)
