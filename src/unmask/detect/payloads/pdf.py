"""PDF: a bounded object scanner that finds every stream a FORCEDENTRY/Triangulation payload could use.

Objects are found by scanning for ``N G obj`` headers rather than trusting the cross-reference
table, so unreferenced objects, incremental-update leftovers and damaged files are all covered;
object streams are expanded. Preceding filters of a ``/JBIG2Decode`` chain are undone here with
output caps; the JBIG2 data itself is only walked at the segment-header level (:mod:`.jbig2`),
embedded TrueType programs go to :mod:`.font`, embedded files back through the engine.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from dataclasses import dataclass
from typing import Any

from .result import Ctx, LimitExceeded, join

WS = b"\x00\t\n\x0c\r "
_DELIMS = b"()<>[]{}/%"
_REGULAR = rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]"
_OBJ_RE = re.compile(
    rb"(?<![0-9])(\d{1,10})[\x00\t\n\x0c\r ]+(\d{1,5})[\x00\t\n\x0c\r ]+obj(?!" + _REGULAR + rb")"
)
_WS_RE = re.compile(rb"(?:[\x00\t\n\x0c\r ]+|%[^\r\n]*)*")
_NUM_RE = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)")
_REF_RE = re.compile(rb"(\d{1,10})[\x00\t\n\x0c\r ]+(\d{1,5})[\x00\t\n\x0c\r ]+R(?!" + _REGULAR + rb")")
_NAME_RE = re.compile(rb"/(" + _REGULAR + rb"*)")
_KW_RE = re.compile(_REGULAR + rb"+")
_HEX_RE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM_RE = re.compile(rb"[\x00\t\n\x0c\r ]*stream(?:\r\n|\n|\r)?")
_MAX_NESTING = 64


class Name(str):
    """A PDF name object (``/JBIG2Decode`` -> ``Name("JBIG2Decode")``)."""


@dataclass(frozen=True)
class Ref:
    num: int
    gen: int


@dataclass
class Obj:
    num: int
    gen: int
    value: Any
    stream: tuple[int, int] | None = None  # start, end of raw stream bytes in the file
    container: bytes | None = None  # the buffer the stream bytes live in (file data)


class ParseError(Exception):
    pass


class _Parser:
    def __init__(self, buf: bytes) -> None:
        self.buf = buf

    def ws(self, pos: int) -> int:
        m = _WS_RE.match(self.buf, pos)
        return m.end() if m else pos

    def value(self, pos: int, depth: int = 0) -> tuple[Any, int]:
        if depth > _MAX_NESTING:
            raise ParseError("nesting too deep")
        buf = self.buf
        pos = self.ws(pos)
        if pos >= len(buf):
            raise ParseError("end of data")
        c = buf[pos]
        if c == 0x2F:  # /
            m = _NAME_RE.match(buf, pos)
            assert m is not None
            raw = m.group(1)
            if b"#" in raw:
                raw = _HEX_RE.sub(lambda h: bytes([int(h.group(1), 16)]), raw)
            return Name(raw.decode("latin-1")), m.end()
        if c == 0x3C and buf[pos + 1 : pos + 2] == b"<":  # <<
            pos += 2
            d: dict[str, Any] = {}
            while True:
                pos = self.ws(pos)
                if buf[pos : pos + 2] == b">>":
                    return d, pos + 2
                if pos >= len(buf):
                    raise ParseError("unterminated dictionary")
                key, pos = self.value(pos, depth + 1)
                if not isinstance(key, Name):
                    raise ParseError("dictionary key is not a name")
                val, pos = self.value(pos, depth + 1)
                d[str(key)] = val
        if c == 0x5B:  # [
            pos += 1
            arr: list[Any] = []
            while True:
                pos = self.ws(pos)
                if pos >= len(buf):
                    raise ParseError("unterminated array")
                if buf[pos] == 0x5D:
                    return arr, pos + 1
                v, pos = self.value(pos, depth + 1)
                arr.append(v)
                if len(arr) > 1_000_000:
                    raise ParseError("array too long")
        if c == 0x28:  # (
            return self._literal(pos)
        if c == 0x3C:  # <hex>
            end = buf.find(b">", pos)
            if end < 0:
                raise ParseError("unterminated hex string")
            hexdigits = bytes(b for b in buf[pos + 1 : end] if b not in WS)
            if len(hexdigits) % 2:
                hexdigits += b"0"
            try:
                return binascii.unhexlify(hexdigits), end + 1
            except (binascii.Error, ValueError):
                return b"", end + 1
        if c in b"0123456789":
            m = _REF_RE.match(buf, pos)
            if m:
                return Ref(int(m.group(1)), int(m.group(2))), m.end()
        if c in b"+-.0123456789":
            m = _NUM_RE.match(buf, pos)
            if m:
                t = m.group(0)
                try:
                    return (float(t) if b"." in t else int(t)), m.end()
                except ValueError:
                    return 0, m.end()
        m = _KW_RE.match(buf, pos)
        if m:
            kw = m.group(0)
            if kw == b"true":
                return True, m.end()
            if kw == b"false":
                return False, m.end()
            if kw == b"null":
                return None, m.end()
            raise ParseError(f"unexpected keyword {kw[:20]!r}")
        raise ParseError(f"unexpected byte 0x{c:02x}")

    def _literal(self, pos: int) -> tuple[bytes, int]:
        buf = self.buf
        depth = 0
        i = pos
        out = bytearray()
        n = len(buf)
        while i < n:
            c = buf[i]
            if c == 0x5C:  # backslash: keep escapes raw, names and filenames only need approximate text
                if i + 1 < n:
                    out += buf[i + 1 : i + 2]
                i += 2
                continue
            if c == 0x28:
                depth += 1
                if depth > 1:
                    out.append(c)
            elif c == 0x29:
                depth -= 1
                if depth == 0:
                    return bytes(out), i + 1
                out.append(c)
            else:
                out.append(c)
            i += 1
        raise ParseError("unterminated string")


class Document:
    """The objects of one PDF, found by scanning, with reference resolution and stream decoding."""

    def __init__(self, ctx: Ctx, data: bytes, locator: str) -> None:
        self.ctx = ctx
        self.data = data
        self.locator = locator
        self.objects: list[Obj] = []
        self.by_num: dict[int, Obj] = {}
        self.encrypted = False
        self._parser = _Parser(data)
        # num -> offset after its last "N G obj" header, for /Length references to later objects.
        self._headers: dict[int, int] = {}

    # -- discovery ---------------------------------------------------------------------------
    def scan(self) -> None:
        data, ctx = self.data, self.ctx
        matches = list(_OBJ_RE.finditer(data))
        for m in matches:
            self._headers[int(m.group(1))] = m.end()
        skip_until = 0
        for m in matches:
            if m.start() < skip_until:
                continue
            ctx.tick(8)
            if len(self.objects) >= ctx.limits.max_pdf_objects:
                ctx.hit("pdf-objects")
                break
            num, gen = int(m.group(1)), int(m.group(2))
            try:
                value, pos = self._parser.value(m.end())
            except (ParseError, IndexError, RecursionError):
                continue
            obj = Obj(num, gen, value)
            if isinstance(value, dict):
                sm = _STREAM_RE.match(data, pos)
                if sm:
                    start = sm.end()
                    end = self._stream_end(value, start)
                    obj.stream = (start, end)
                    obj.container = data
                    skip_until = end
            self.objects.append(obj)
            self.by_num[num] = obj
        for tm in re.finditer(rb"trailer", data):
            try:
                t, _ = self._parser.value(tm.end())
            except (ParseError, IndexError, RecursionError):
                continue
            if isinstance(t, dict) and "Encrypt" in t:
                self.encrypted = True
        for obj in self.objects:
            if isinstance(obj.value, dict) and obj.value.get("Type") == "XRef" and "Encrypt" in obj.value:
                self.encrypted = True
        if not self.encrypted:
            for obj in list(self.objects):
                if isinstance(obj.value, dict) and obj.value.get("Type") == "ObjStm" and obj.stream:
                    self._expand_objstm(obj)

    def _stream_end(self, d: dict[str, Any], start: int) -> int:
        data = self.data
        length = d.get("Length")
        if isinstance(length, Ref):
            target = self.by_num.get(length.num)
            length = target.value if target else None
            if target is None:
                length = self._lookahead_int(length_ref=d.get("Length"))
        if isinstance(length, int) and 0 <= length <= len(data) - start:
            tail = data[start + length : start + length + 32].lstrip(WS)
            if tail.startswith(b"endstream"):
                return start + length
        end = data.find(b"endstream", start)
        if end < 0:
            return len(data)
        # The EOL before endstream is not part of the data.
        if data[end - 2 : end] == b"\r\n":
            return end - 2
        if data[end - 1 : end] in (b"\n", b"\r"):
            return end - 1
        return end

    def _lookahead_int(self, length_ref: Any) -> int | None:
        # /Length pointing to an object defined later in the file (the usual layout for writers
        # that stream content): read it at its header, found in the first pass.
        if not isinstance(length_ref, Ref) or length_ref.num not in self._headers:
            return None
        try:
            value, _ = self._parser.value(self._headers[length_ref.num])
        except (ParseError, IndexError, RecursionError):
            return None
        return value if isinstance(value, int) else None

    def _expand_objstm(self, obj: Obj) -> None:
        raw = self.decoded(obj)
        if raw is None:
            return
        d = obj.value
        n, first = d.get("N"), d.get("First")
        if not isinstance(n, int) or not isinstance(first, int) or n < 0 or first < 0:
            return
        parser = _Parser(raw)
        pos = 0
        pairs: list[tuple[int, int]] = []
        try:
            for _ in range(min(n, self.ctx.limits.max_pdf_objects)):
                a, pos = parser.value(pos)
                b, pos = parser.value(pos)
                if isinstance(a, int) and isinstance(b, int):
                    pairs.append((a, b))
        except (ParseError, IndexError, RecursionError):
            pass
        for num, off in pairs:
            self.ctx.tick()
            if len(self.objects) >= self.ctx.limits.max_pdf_objects:
                self.ctx.hit("pdf-objects")
                return
            try:
                value, _ = parser.value(first + off)
            except (ParseError, IndexError, RecursionError):
                continue
            o = Obj(num, 0, value)
            self.objects.append(o)
            self.by_num.setdefault(num, o)

    # -- access ------------------------------------------------------------------------------
    def resolve(self, v: Any) -> Any:
        seen: set[int] = set()
        while isinstance(v, Ref):
            if v.num in seen or len(seen) > 32:
                return None
            seen.add(v.num)
            o = self.by_num.get(v.num)
            v = o.value if o else None
        return v

    def raw(self, obj: Obj) -> bytes:
        assert obj.stream is not None and obj.container is not None
        s, e = obj.stream
        return obj.container[s:e]

    def filters(self, d: dict[str, Any]) -> tuple[list[str], list[Any]]:
        f = self.resolve(d.get("Filter"))  # /F in a stream dictionary is a file, not a filter
        if isinstance(f, dict):
            f = None
        names = [str(self.resolve(x)) for x in (f if isinstance(f, list) else [f] if f is not None else [])]
        p = self.resolve(d.get("DecodeParms"))
        parms = [self.resolve(x) for x in p] if isinstance(p, list) else [p] * len(names)
        parms += [None] * (len(names) - len(parms))
        return names, parms

    def decoded(self, obj: Obj, upto: str | None = None) -> bytes | None:
        """The stream after its filters (or only those before ``upto``); ``None`` if undecodable."""
        if obj.stream is None or not isinstance(obj.value, dict):
            return None
        if self.encrypted:
            return None
        names, parms = self.filters(obj.value)
        data = self.raw(obj)
        for name, parm in zip(names, parms, strict=False):
            if upto is not None and name == upto:
                return data
            out = _decode(self.ctx, name, data, parm if isinstance(parm, dict) else None)
            if out is None:
                return None
            data = out
        return None if upto is not None else data


_ALIASES = {
    "Fl": "FlateDecode",
    "AHx": "ASCIIHexDecode",
    "A85": "ASCII85Decode",
    "RL": "RunLengthDecode",
    "LZW": "LZWDecode",
}


def _decode(ctx: Ctx, name: str, data: bytes, parms: dict[str, Any] | None) -> bytes | None:
    name = _ALIASES.get(name, name)
    cap = ctx.remaining_decompress()
    if name == "FlateDecode":
        d = zlib.decompressobj()
        try:
            out = d.decompress(data, cap + 1)
        except zlib.error:
            try:  # damaged streams: take what inflates before the damage, as readers do
                d = zlib.decompressobj()
                out = b""
                for i in range(0, len(data), 4096):
                    out += d.decompress(data[i : i + 4096], cap + 1 - len(out))
                    if len(out) > cap:
                        break
            except zlib.error:
                pass
        if len(out) > cap:
            raise LimitExceeded("decompressed-bytes", "PDF stream")
        out = _predict(out, parms)
    elif name == "ASCIIHexDecode":
        end = data.find(b">")
        digits = bytes(b for b in (data if end < 0 else data[:end]) if b not in WS)
        if len(digits) % 2:
            digits += b"0"
        try:
            out = binascii.unhexlify(digits)
        except (binascii.Error, ValueError):
            return None
    elif name == "ASCII85Decode":
        body = data.strip(WS)
        if body.startswith(b"<~"):
            body = body[2:]
        end = body.find(b"~>")
        body = body if end < 0 else body[:end]
        try:
            out = base64.a85decode(body, ignorechars=WS)
        except ValueError:
            return None
    elif name == "RunLengthDecode":
        out = _runlength(data, cap)
    elif name == "LZWDecode":
        early = 1 if parms is None else int(parms.get("EarlyChange", 1) or 0)
        out = _predict(_lzw(data, cap, early), parms)
    else:
        return None  # image codecs and Crypt: nothing of ours lies behind them
    ctx.charge(len(out))
    return out


def _predict(data: bytes, parms: dict[str, Any] | None) -> bytes:
    if not parms:
        return data
    pred = parms.get("Predictor", 1)
    if not isinstance(pred, int) or pred < 10:
        return data
    cols = parms.get("Columns", 1)
    colors = parms.get("Colors", 1)
    bpc = parms.get("BitsPerComponent", 8)
    if not all(isinstance(x, int) and 0 < x < 1 << 16 for x in (cols, colors, bpc)):
        return data
    bpp = max(1, colors * bpc // 8)
    row = (cols * colors * bpc + 7) // 8
    out = bytearray()
    prev = bytearray(row)
    for i in range(0, len(data) - row, row + 1):
        ftype = data[i]
        cur = bytearray(data[i + 1 : i + 1 + row])
        for x in range(len(cur)):
            a = cur[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                cur[x] = (cur[x] + a) & 0xFF
            elif ftype == 2:
                cur[x] = (cur[x] + b) & 0xFF
            elif ftype == 3:
                cur[x] = (cur[x] + ((a + b) >> 1)) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                cur[x] = (cur[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        out += cur
        prev = cur
    return bytes(out)


def _runlength(data: bytes, cap: int) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data):
        n = data[i]
        if n == 128:
            break
        if n < 128:
            out += data[i + 1 : i + 2 + n]
            i += n + 2
        else:
            out += data[i + 1 : i + 2] * (257 - n)
            i += 2
        if len(out) > cap:
            raise LimitExceeded("decompressed-bytes", "PDF RunLength stream")
    return bytes(out)


def _lzw(data: bytes, cap: int, early: int) -> bytes:
    out = bytearray()
    table: list[bytes] = [bytes([i]) for i in range(256)] + [b"", b""]
    bits = 9
    prev: bytes | None = None
    buf = 0
    nbits = 0
    for byte in data:
        buf = (buf << 8) | byte
        nbits += 8
        while nbits >= bits:
            nbits -= bits
            code = (buf >> nbits) & ((1 << bits) - 1)
            if code == 256:
                table = table[:258]
                bits = 9
                prev = None
                continue
            if code == 257:
                return bytes(out)
            if code < len(table):
                entry = table[code]
                if prev is not None:
                    table.append(prev + entry[:1])
            elif prev is not None and code == len(table):
                entry = prev + prev[:1]
                table.append(entry)
            else:
                return bytes(out)
            out += entry
            if len(out) > cap:
                raise LimitExceeded("decompressed-bytes", "PDF LZW stream")
            prev = entry
            if len(table) + early >= (1 << bits) and bits < 12:
                bits += 1
    return bytes(out)


def scan(ctx: Ctx, data: bytes, offset: int, locator: str) -> str | None:
    """Screen a PDF: every JBIG2 image (with globals), embedded TrueType programs, embedded files."""
    from . import font, jbig2

    doc = Document(ctx, data, locator)
    doc.scan()
    if doc.encrypted:
        ctx.error("encrypted PDF: stream contents (JBIG2 images, fonts) not screened")
        return None
    font_refs: set[int] = set()
    embedded_names: dict[int, str] = {}
    for obj in doc.objects:
        v = obj.value
        if not isinstance(v, dict):
            continue
        for key in ("FontFile2", "FontFile3"):
            r = v.get(key)
            if isinstance(r, Ref):
                font_refs.add(r.num)
        ef = doc.resolve(v.get("EF"))
        if isinstance(ef, dict):
            fname = doc.resolve(v.get("UF", v.get("F")))
            for r in ef.values():
                if isinstance(r, Ref) and isinstance(fname, bytes):
                    embedded_names[r.num] = _pdf_text(fname)
    for obj in doc.objects:
        ctx.tick(16)
        if obj.stream is None or not isinstance(obj.value, dict):
            continue
        names, parms = doc.filters(obj.value)
        where = join(locator, f"pdf obj {obj.num} {obj.gen}")
        if "JBIG2Decode" in names:
            i = names.index("JBIG2Decode")
            image = doc.decoded(obj, upto="JBIG2Decode")
            if image is None:
                ctx.error(f"{where}: cannot undo filters {names[:i]} before /JBIG2Decode")
                continue
            globals_data = None
            parm = parms[i]
            if isinstance(parm, dict) and parm.get("JBIG2Globals") is not None:
                gref = parm["JBIG2Globals"]
                gobj = doc.by_num.get(gref.num) if isinstance(gref, Ref) else None
                globals_data = doc.decoded(gobj) if gobj is not None else None
                if globals_data is None:
                    ctx.error(f"{where}: JBIG2Globals {gref} missing or undecodable")
            jbig2.scan_pdf_streams(ctx, globals_data, image, f"{where} /JBIG2Decode")
        elif obj.num in font_refs or obj.value.get("Type") == "EmbeddedFile" or obj.num in embedded_names:
            content = doc.decoded(obj)
            if content is None:
                continue
            if obj.num in font_refs:
                font.scan_embedded(ctx, content, f"{where} /FontFile")
            else:
                ctx.scan_nested(content, embedded_names.get(obj.num), f"{where} /EmbeddedFile")
    return None


def _pdf_text(s: bytes) -> str:
    if s.startswith(b"\xfe\xff"):
        return s[2:].decode("utf-16-be", "replace")
    return s.decode("latin-1")
