"""TRI-ADJUST: Operation Triangulation (CVE-2023-41990) shapes in TrueType bytecode.

The chain used the undocumented, Apple-only ``ADJUST`` instruction (bytes 0x8F/0x90). The byte is
only an instruction when it sits in *opcode position*: push instructions carry arbitrary inline
data. fontTools resolves the table directory, collections, WOFF/WOFF2 and both ``loca`` formats
(the long-``loca`` mistake that made another tool flag every DejaVu font); the glyph headers are
then read here only as far as needed to find each program, including composite glyphs.
"""

from __future__ import annotations

import contextlib
import io
import logging
import struct
from collections.abc import Iterator
from typing import Any

from unmask.model import Severity

from .result import Ctx, LimitExceeded

CVE = "CVE-2023-41990"
ADJUST = frozenset({0x8F, 0x90})
# Unassigned in the TrueType instruction set (0x91/0x92 are Apple GX GETVARIATION/GETDATA).
UNDEFINED = frozenset({0x7B, 0x83, 0x84, *range(0x93, 0xB0)})
_IDEF = 0x89
_MAX_FINDINGS_PER_FONT = 16


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # fontTools logs a warning for every oddity in a font; hostile fonts would flood the user's log.
    log = logging.getLogger("fontTools")
    old = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(old)


def walk_bytecode(code: bytes) -> tuple[list[tuple[int, int]], bool, list[int]]:
    """Return ``(opcodes_in_opcode_position as (offset, byte), truncated, pushed_values)``.

    Only opcodes of interest (ADJUST, undefined, IDEF) are returned; push data is skipped
    (NPUSHB/NPUSHW/PUSHB[n]/PUSHW[n]). ``pushed_values`` is the value pushed last before each IDEF.
    """
    out: list[tuple[int, int]] = []
    idef_targets: list[int] = []
    last_push: int | None = None
    i, n = 0, len(code)
    while i < n:
        op = code[i]
        if op == 0x40 or op == 0x41:  # NPUSHB / NPUSHW
            if i + 1 >= n:
                return out, True, idef_targets
            count = code[i + 1]
            width = 1 if op == 0x40 else 2
            data_end = i + 2 + count * width
            if data_end > n:
                return out, True, idef_targets
            if count:
                last_push = (
                    code[data_end - 1] if width == 1 else struct.unpack_from(">h", code, data_end - 2)[0]
                )
            i = data_end
            continue
        if 0xB0 <= op <= 0xBF:  # PUSHB[n] / PUSHW[n]
            width = 1 if op <= 0xB7 else 2
            count = (op & 7) + 1
            data_end = i + 1 + count * width
            if data_end > n:
                return out, True, idef_targets
            last_push = code[data_end - 1] if width == 1 else struct.unpack_from(">h", code, data_end - 2)[0]
            i = data_end
            continue
        if op == _IDEF and last_push is not None:
            idef_targets.append(last_push)
        if op in ADJUST or op in UNDEFINED:
            out.append((i, op))
        i += 1
    return out, False, idef_targets


def glyph_program(raw: bytes) -> tuple[bytes, bool]:
    """The instruction bytes of one raw ``glyf`` entry (simple or composite) and whether they were cut."""
    if len(raw) < 10:
        return b"", False
    ncont = struct.unpack_from(">h", raw, 0)[0]
    if ncont >= 0:
        p = 10 + 2 * ncont
    else:
        p = 10
        flags = 0
        for _ in range(4096):
            if p + 4 > len(raw):
                return b"", True
            flags = struct.unpack_from(">H", raw, p)[0]
            p += 4
            p += 4 if flags & 0x0001 else 2
            if flags & 0x0008:
                p += 2
            elif flags & 0x0040:
                p += 4
            elif flags & 0x0080:
                p += 8
            if not flags & 0x0020:
                break
        if not flags & 0x0100:
            return b"", False
    if p + 2 > len(raw):
        return b"", ncont >= 0 and p > len(raw)
    ilen = struct.unpack_from(">H", raw, p)[0]
    code = raw[p + 2 : p + 2 + ilen]
    return code, len(code) < ilen


def _table_programs(font: Any) -> Iterator[tuple[str, bytes, bool]]:
    for tag in ("fpgm", "prep"):
        if tag in font:
            prog = getattr(font[tag], "program", None)
            if prog is not None:
                yield tag, bytes(prog.getBytecode()), False


def _glyph_programs(ctx: Ctx, font: Any) -> Iterator[tuple[str, bytes, bool]]:
    if "glyf" not in font:
        return
    try:
        font.getGlyphOrder()
    except Exception:
        # A broken 'post' or 'cmap' must not hide the glyph programs: name glyphs by index.
        count = font["maxp"].numGlyphs if "maxp" in font else 0
        font.setGlyphOrder([f"glyph{i:05d}" for i in range(min(count, ctx.limits.max_glyphs))])
    glyf = font["glyf"]
    order = list(getattr(glyf, "glyphOrder", []) or [])
    if len(order) > ctx.limits.max_glyphs:
        ctx.hit("glyphs")
        order = order[: ctx.limits.max_glyphs]
    glyphs = getattr(glyf, "glyphs", {})
    for name in order:
        ctx.tick()
        g = glyphs.get(name)
        if g is None:
            continue
        raw = getattr(g, "data", None)
        if raw is not None:
            code, cut = glyph_program(bytes(raw))
        else:
            prog = getattr(g, "program", None)
            code, cut = (bytes(prog.getBytecode()) if prog is not None else b""), False
        if code or cut:
            yield f"glyph {name}", code, cut


class _FontFindings:
    def __init__(self, ctx: Ctx, where: str, fpgm: bytes) -> None:
        self.ctx = ctx
        self.where = where
        self.defined = set(walk_bytecode(fpgm)[2])
        self.adjust_hits = 0
        self.undefined: list[dict[str, object]] = []
        self.truncated: list[str] = []
        # Set when glyphs are read past fontTools' refusal: the bytes may be junk rather than code.
        self.lenient = False

    def program(self, name: str, code: bytes, cut: bool) -> None:
        ops, overrun, _ = walk_bytecode(code)
        if cut or overrun:
            self.truncated.append(name)
        for off, op in ops:
            if op in ADJUST:
                self.adjust_hits += 1
                if self.adjust_hits <= _MAX_FINDINGS_PER_FONT:
                    self.ctx.add(
                        "TRI-ADJUST",
                        Severity.MEDIUM if self.lenient else Severity.HIGH,
                        f"undocumented ADJUST instruction 0x{op:02X} in opcode position "
                        "(Operation Triangulation font exploit)",
                        f"{self.where} {name} @{off}",
                        cve=CVE,
                        program=name,
                        offset=off,
                        opcode=f"0x{op:02X}",
                        idef_defined=op in self.defined,
                        damaged_glyf=self.lenient,
                    )
            elif op not in self.defined and len(self.undefined) < 64:
                self.undefined.append({"program": name, "offset": off, "opcode": f"0x{op:02X}"})

    def finish(self) -> None:
        ctx, where = self.ctx, self.where
        if self.adjust_hits > _MAX_FINDINGS_PER_FONT:
            ctx.error(f"{where}: {self.adjust_hits} ADJUST opcodes, first {_MAX_FINDINGS_PER_FONT} reported")
        if self.undefined:
            ctx.add(
                "TRI-UNDEF",
                Severity.LOW,
                "unassigned TrueType opcodes in opcode position without an IDEF defining them",
                f"{where} {self.undefined[0]['program']}",
                cve=None,
                occurrences=self.undefined[:16],
                count=len(self.undefined),
            )
        if self.truncated:
            ctx.add(
                "TRI-MALFORMED",
                Severity.LOW,
                "TrueType program whose push data or length runs past its end",
                f"{where} {self.truncated[0]}",
                cve=None,
                programs=self.truncated[:16],
                count=len(self.truncated),
            )


def _scan_font(ctx: Ctx, font: Any, where: str) -> None:
    # fpgm/prep first and on their own: a damaged glyf table must not hide them.
    tables: list[tuple[str, bytes, bool]] = []
    try:
        tables = list(_table_programs(font))
    except (LimitExceeded, MemoryError):
        raise
    except Exception as exc:
        ctx.error(f"{where}: unreadable fpgm/prep: {type(exc).__name__}: {str(exc)[:200]}")
    fpgm = next((c for name, c, _ in tables if name == "fpgm"), b"")
    acc = _FontFindings(ctx, where, fpgm)
    for prog in tables:
        acc.program(*prog)
    try:
        for prog in _glyph_programs(ctx, font):
            acc.program(*prog)
    except (LimitExceeded, MemoryError):
        acc.finish()
        raise
    except Exception as exc:
        # fontTools refuses a glyf table that loca overruns; lenient rasterisers still load the
        # glyphs that are there, so read them directly (with the loca format from head).
        ctx.error(f"{where}: glyf table damaged ({type(exc).__name__}: {str(exc)[:120]}); read leniently")
        acc.lenient = True
        try:
            for prog in _lenient_glyph_programs(ctx, font):
                acc.program(*prog)
        except (LimitExceeded, MemoryError):
            acc.finish()
            raise
        except Exception as exc2:
            ctx.error(f"{where}: unreadable glyph programs: {type(exc2).__name__}: {str(exc2)[:200]}")
    acc.finish()


def _lenient_glyph_programs(ctx: Ctx, font: Any) -> Iterator[tuple[str, bytes, bool]]:
    reader = font.reader
    glyf, loca = bytes(reader["glyf"]), bytes(reader["loca"])
    long_loca = font["head"].indexToLocFormat == 1
    count = min(font["maxp"].numGlyphs, ctx.limits.max_glyphs)
    width = 4 if long_loca else 2
    n = min(count + 1, len(loca) // width)
    offsets = struct.unpack(f">{n}{'I' if long_loca else 'H'}", loca[: n * width])
    scale = 1 if long_loca else 2
    for i in range(n - 1):
        ctx.tick()
        start, end = offsets[i] * scale, min(offsets[i + 1] * scale, len(glyf))
        if start < end:
            code, cut = glyph_program(glyf[start:end])
            if code or cut:
                yield f"glyph #{i}", code, cut


def _open(data: bytes, number: int) -> Any:
    from fontTools.ttLib import TTFont

    return TTFont(
        io.BytesIO(data),
        lazy=True,
        fontNumber=number,
        checkChecksums=0,
        recalcBBoxes=False,
        recalcTimestamp=False,
    )


def scan(ctx: Ctx, data: bytes, offset: int, locator: str) -> str | None:
    """Screen a font file (TrueType, OpenType, collection, WOFF, WOFF2) for ADJUST opcodes."""
    from .magic import sniff

    kind = sniff(data)[0] or "font"
    base = f"{locator} > {kind}" if locator else kind
    count = 1
    if data[:4] == b"ttcf" and len(data) >= 12:
        count = struct.unpack_from(">I", data, 8)[0]
        if count > ctx.limits.max_fonts_per_collection:
            ctx.hit("fonts-per-collection")
            count = ctx.limits.max_fonts_per_collection
    for n in range(count):
        where = f"{base} font#{n}" if data[:4] == b"ttcf" else base
        try:
            with _quiet():
                font = _open(data, n)
                _scan_font(ctx, font, where)
        except (LimitExceeded, MemoryError):
            raise
        except ImportError as exc:
            ctx.error(f"{where}: cannot read ({exc}); install brotli for WOFF2")
        except Exception as exc:  # fontTools raises many types on broken fonts
            ctx.error(f"{where}: unreadable font: {type(exc).__name__}: {str(exc)[:200]}")
    return None


def scan_embedded(ctx: Ctx, data: bytes, locator: str) -> None:
    """Screen a font program embedded in a PDF (``/FontFile2``, ``/FontFile3``); Type 1/CFF are skipped."""
    from .magic import sniff

    kind = sniff(data)[0]
    if kind in ("ttf", "otf", "ttc", "woff", "woff2"):
        scan(ctx, data, 0, locator)
