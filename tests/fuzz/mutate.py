"""Mutations of evidence bytes: byte-level ones for every input, structure-aware ones per format.

:func:`mutate` applies one to six mutations, drawn from the generic ones (bit and byte flips,
interesting integers, inserted, deleted and duplicated chunks, splices with another seed,
truncation) and from those of the target's family:

* ``sqlite``: damage aligned on pages (zeroed, garbage, copied, dropped, duplicated), header
  fields (page size, reserved bytes, page count, freelist, schema cookie, encoding…), b-tree page
  headers and cell pointers, and SQL keywords written over the schema text;
* ``wal``: header and frame fields, frames dropped or duplicated, page contents changed with the
  checksums recomputed (SQLite ignores a frame whose checksum fails, so this is what reaches its
  WAL reader);
* ``plist`` and ``mbfile``: binary plist trailer fields (widths, object count, top object, table
  offset), offset table entries, object markers and object references; XML elements inserted;
* ``text``: line endings, NULs, byte order marks, invalid UTF-8, section headers, long lines,
  and compressed text decompressed, changed and compressed again;
* ``zip``: local and central header fields and end-of-central-directory counts, central entries
  duplicated (the shape of an overlapping-member bomb).

Everything is drawn from the ``random.Random`` passed in, so a seed gives the same inputs.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
from collections.abc import Callable, Sequence

import zstandard

MAX_SIZE = 1 << 20

Op = Callable[[random.Random, bytearray, Sequence[bytes]], None]

INTERESTING = (
    0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 100, 127, 128, 255, 256, 512, 1000, 1024, 4096,
    32767, 32768, 65535, 65536, 100_000, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1,
)  # fmt: skip


def _value(rng: random.Random, width: int) -> bytes:
    value = rng.choice(INTERESTING) if rng.random() < 0.85 else rng.getrandbits(8 * width)
    if rng.random() < 0.2:
        value = -value
    value %= 1 << (8 * width)
    return value.to_bytes(width, rng.choice(("big", "little")))


def _pos(rng: random.Random, buf: bytearray) -> int:
    return rng.randrange(len(buf) + 1)


def _span(rng: random.Random, buf: bytearray) -> tuple[int, int]:
    if not buf:
        return 0, 0
    start = rng.randrange(len(buf))
    size = rng.choice((1, 2, 4, 8, 16, 64, 256, 1024, 4096))
    return start, min(len(buf), start + rng.randint(1, size))


def _other(rng: random.Random, corpus: Sequence[bytes]) -> bytes:
    return rng.choice(corpus) if corpus else b""


# --- generic --------------------------------------------------------------------------------------


def flip_bit(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    if buf:
        buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)


def set_byte(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    if buf:
        buf[rng.randrange(len(buf))] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))


def interesting(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    width = rng.choice((1, 2, 4, 8))
    at = rng.randrange(max(1, len(buf)))
    buf[at : at + width] = _value(rng, width)


def insert_bytes(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    at = _pos(rng, buf)
    buf[at:at] = rng.randbytes(rng.randint(1, 32))


def insert_run(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    at = _pos(rng, buf)
    buf[at:at] = bytes([rng.choice((0, 0xFF, 0x41, 0x0A, 0x20, rng.randrange(256)))]) * rng.choice(
        (3, 16, 255, 4096, 65537)
    )


def delete_chunk(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    start, end = _span(rng, buf)
    del buf[start:end]


def duplicate_chunk(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    start, end = _span(rng, buf)
    at = _pos(rng, buf)
    buf[at:at] = buf[start:end] * rng.choice((1, 1, 2, 8))


def copy_chunk(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    start, end = _span(rng, buf)
    if buf:
        at = rng.randrange(len(buf))
        buf[at : at + end - start] = buf[start:end]


def splice(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    other = _other(rng, corpus)
    if other:
        buf[_pos(rng, buf) :] = other[rng.randrange(len(other)) :]


def crossover(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    other = _other(rng, corpus)
    if other and buf:
        start, end = _span(rng, bytearray(other))
        at = min(start, len(buf) - 1)
        buf[at : at + end - start] = other[start:end]


def truncate(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    if buf:
        del buf[rng.randrange(len(buf)) :]


GENERIC: list[tuple[Op, int]] = [
    (flip_bit, 6), (set_byte, 5), (interesting, 6), (insert_bytes, 2), (insert_run, 1), (delete_chunk, 3),
    (duplicate_chunk, 2), (copy_chunk, 2), (splice, 1), (crossover, 2), (truncate, 1),
]  # fmt: skip


# --- SQLite ---------------------------------------------------------------------------------------

# (offset, width) of the database header fields (the SQLite file format, section 1.3).
SQLITE_HEADER = (
    (16, 2), (18, 1), (19, 1), (20, 1), (21, 1), (22, 1), (23, 1), (24, 4), (28, 4), (32, 4), (36, 4),
    (40, 4), (44, 4), (48, 4), (52, 4), (56, 4), (60, 4), (64, 4), (68, 4), (92, 4), (96, 4),
)  # fmt: skip
SQL_TOKENS = (
    b"VIEW", b"WITHOUT ROWID", b"AS SELECT", b"RECURSIVE", b"(", b")", b",", b"'", b'"', b"--", b"/*",
    b"INTEGER PRIMARY KEY", b"GENERATED ALWAYS AS (1)", b"COLLATE NOCASE", b"UNIQUE", b"CHECK(0)",
    b"DEFAULT", b"\x00", b"TEMP", b"VIRTUAL", b"USING fts5", b"INDEX", b"TRIGGER", b"BLOB", b"TEXT",
)  # fmt: skip


def page_size(buf: bytes | bytearray) -> int:
    """The page size a SQLite header announces (1024 when it announces nonsense)."""
    if len(buf) < 18:
        return 1024
    size = int.from_bytes(buf[16:18], "big")
    if size == 1:
        return 65536
    return size if 512 <= size <= 32768 and size & (size - 1) == 0 else 1024


def sqlite_header(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    offset, width = rng.choice(SQLITE_HEADER)
    if len(buf) < offset + width:
        return
    if rng.random() < 0.3:
        value = (int.from_bytes(buf[offset : offset + width], "big") + rng.randint(-3, 3)) % (1 << (8 * width))
        buf[offset : offset + width] = value.to_bytes(width, "big")
    else:
        buf[offset : offset + width] = _value(rng, width)


def sqlite_page(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    size = page_size(buf)
    pages = len(buf) // size
    if pages < 1:
        return
    p = rng.randrange(pages)
    start, end = p * size, (p + 1) * size
    action = rng.randrange(7)
    if action == 0:
        buf[start:end] = bytes(size)
    elif action == 1:
        buf[start:end] = rng.randbytes(size)
    elif action == 2:
        q = rng.randrange(pages)
        buf[start:end] = buf[q * size : (q + 1) * size]
    elif action == 3 and p > 0:
        del buf[start:end]
    elif action == 4:
        buf[end:end] = buf[start:end]
    elif action == 5:
        del buf[end:]
    else:
        # garbage over part of a page: a torn write
        half = rng.randrange(size)
        buf[start + half : end] = rng.randbytes(size - half)


def sqlite_btree(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    size = page_size(buf)
    pages = len(buf) // size
    if pages < 1:
        return
    p = rng.randrange(pages)
    header = 100 if p == 0 else p * size
    if header + 12 > len(buf):
        return
    kind = buf[header]
    choice = rng.randrange(6)
    if choice == 0:
        buf[header] = rng.choice((2, 5, 10, 13, 0, 1, 0xFF))
    elif choice == 1:  # first freeblock, cell count, cell content start
        at = header + rng.choice((1, 3, 5))
        buf[at : at + 2] = _value(rng, 2)[:2] if rng.random() < 0.5 else rng.randbytes(2)
    elif choice == 2:
        buf[header + 7] = rng.randrange(256)  # fragmented free bytes
    elif choice == 3 and kind in (2, 5):
        buf[header + 8 : header + 12] = _value(rng, 4)  # right-most child page
    else:
        cells = int.from_bytes(buf[header + 3 : header + 5], "big")
        array = header + (12 if kind in (2, 5) else 8)
        k = rng.randrange(max(1, min(cells, (size - 12) // 2)))
        at = array + 2 * k
        if at + 2 <= len(buf):
            if rng.random() < 0.5 and cells > 1:
                other = array + 2 * rng.randrange(min(cells, (size - 12) // 2))
                buf[at : at + 2] = buf[other : other + 2]
            else:
                buf[at : at + 2] = _value(rng, 2)


def sqlite_sql(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    """A keyword written over the text of a CREATE statement (same length: the record stays framed)."""
    starts = []
    at = buf.find(b"CREATE ")
    while at >= 0 and len(starts) < 64:
        starts.append(at)
        at = buf.find(b"CREATE ", at + 1)
    if not starts:
        return
    start = rng.choice(starts) + rng.randrange(7, 120)
    token = rng.choice(SQL_TOKENS)
    if start + len(token) <= len(buf):
        buf[start : start + len(token)] = token


SQLITE: list[tuple[Op, int]] = [(sqlite_header, 4), (sqlite_page, 3), (sqlite_btree, 5), (sqlite_sql, 2)]


# --- WAL ------------------------------------------------------------------------------------------

WAL_HEADER = 32
FRAME_HEADER = 24


def _wal_page_size(buf: bytes | bytearray) -> int:
    size = int.from_bytes(buf[8:12], "big") if len(buf) >= 12 else 0
    return size if 512 <= size <= 65536 and size & (size - 1) == 0 else 512


def wal_checksum(data: bytes | bytearray, s0: int, s1: int, big: bool) -> tuple[int, int]:
    """The WAL checksum (the SQLite file format, section 4.1) of ``data`` continuing from (s0, s1)."""
    order = "big" if big else "little"
    for i in range(0, len(data) - 7, 8):
        s0 = (s0 + int.from_bytes(data[i : i + 4], order) + s1) & 0xFFFFFFFF
        s1 = (s1 + int.from_bytes(data[i + 4 : i + 8], order) + s0) & 0xFFFFFFFF
    return s0, s1


def fix_wal_checksums(buf: bytearray) -> None:
    """Make every frame's salts and checksums valid again, as a writer would have."""
    if len(buf) < WAL_HEADER:
        return
    big = bool(int.from_bytes(buf[0:4], "big") & 1)
    s0, s1 = wal_checksum(buf[:24], 0, 0, big)
    buf[24:28], buf[28:32] = s0.to_bytes(4, "big"), s1.to_bytes(4, "big")
    size = _wal_page_size(buf)
    at = WAL_HEADER
    while at + FRAME_HEADER + size <= len(buf):
        buf[at + 8 : at + 16] = buf[16:24]
        s0, s1 = wal_checksum(buf[at : at + 8], s0, s1, big)
        s0, s1 = wal_checksum(buf[at + FRAME_HEADER : at + FRAME_HEADER + size], s0, s1, big)
        buf[at + 16 : at + 20], buf[at + 20 : at + 24] = s0.to_bytes(4, "big"), s1.to_bytes(4, "big")
        at += FRAME_HEADER + size


def _frames(buf: bytearray) -> list[int]:
    size = _wal_page_size(buf)
    return list(range(WAL_HEADER, len(buf) - FRAME_HEADER - size + 1, FRAME_HEADER + size))


def wal_fields(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    frames = _frames(buf)
    if frames and rng.random() < 0.7:
        at = rng.choice(frames) + rng.choice((0, 4))  # page number, database size after commit
    else:
        at = rng.choice((0, 4, 8, 12, 16, 20))
    if at + 4 <= len(buf):
        buf[at : at + 4] = _value(rng, 4)[:4] if rng.random() < 0.6 else rng.randbytes(4)
    if rng.random() < 0.7:
        fix_wal_checksums(buf)


def wal_frames(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    frames = _frames(buf)
    if not frames:
        return
    size = FRAME_HEADER + _wal_page_size(buf)
    at = rng.choice(frames)
    action = rng.randrange(4)
    if action == 0:
        del buf[at : at + size]
    elif action == 1:
        buf[at:at] = buf[at : at + size] * rng.choice((1, 2, 50))
    elif action == 2:
        del buf[at + rng.randrange(size) :]
    else:
        other = rng.choice(frames)
        buf[at : at + size] = buf[other : other + size]
    fix_wal_checksums(buf)


def wal_page(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    """Change a frame's page (as SQLITE's b-tree mutations do), then make the checksums valid."""
    frames = _frames(buf)
    if not frames:
        return
    size = _wal_page_size(buf)
    at = rng.choice(frames) + FRAME_HEADER
    page = bytearray(buf[at : at + size])
    for _ in range(rng.randint(1, 4)):
        rng.choice((flip_bit, set_byte, interesting, copy_chunk))(rng, page, corpus)
    buf[at : at + size] = page[:size].ljust(size, b"\x00")
    fix_wal_checksums(buf)


WAL: list[tuple[Op, int]] = [(wal_fields, 4), (wal_frames, 3), (wal_page, 6)]


# --- binary and XML plists -------------------------------------------------------------------------


def _trailer(buf: bytearray) -> tuple[int, int, int, int, int] | None:
    if len(buf) < 40 or not buf.startswith(b"bplist"):
        return None
    t = len(buf) - 32
    return (buf[t + 6], buf[t + 7], int.from_bytes(buf[t + 8 : t + 16], "big"),
            int.from_bytes(buf[t + 16 : t + 24], "big"), int.from_bytes(buf[t + 24 : t + 32], "big"))  # fmt: skip


def _offsets(buf: bytearray) -> list[int]:
    trailer = _trailer(buf)
    if trailer is None:
        return []
    width, _, count, _, table = trailer
    if not 1 <= width <= 8:
        return []
    out = []
    for i in range(min(count, 4096)):
        at = table + i * width
        if at + width > len(buf) - 32:
            break
        out.append(int.from_bytes(buf[at : at + width], "big"))
    return [o for o in out if 8 <= o < len(buf)]


def bplist_trailer(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    trailer = _trailer(buf)
    if trailer is None:
        return
    t = len(buf) - 32
    field = rng.randrange(5)
    if field < 2:
        buf[t + 6 + field] = rng.choice((0, 1, 2, 3, 4, 5, 8, 16, 255))
    else:
        at = t + 8 * field
        current = int.from_bytes(buf[at : at + 8], "big")
        value = (current + rng.randint(-2, 2)) % (1 << 64) if rng.random() < 0.5 else int.from_bytes(_value(rng, 8), "big")
        buf[at : at + 8] = value.to_bytes(8, "big")


def bplist_offset(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    trailer = _trailer(buf)
    offsets = _offsets(buf)
    if trailer is None or not offsets:
        return
    width, _, _, _, table = trailer
    i = rng.randrange(len(offsets))
    choice = rng.random()
    if choice < 0.5:
        value = rng.choice(offsets)  # two numbers for one object, or an object moved
    elif choice < 0.8:
        value = rng.randrange(table + 1)  # somewhere in the object area, mid-object
    else:
        value = int.from_bytes(_value(rng, width), "big")
    at = table + i * width
    buf[at : at + width] = (value % (1 << (8 * width))).to_bytes(width, "big")


def bplist_object(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    trailer = _trailer(buf)
    offsets = _offsets(buf)
    if trailer is None or not offsets:
        return
    _, ref_size, count, top, _ = trailer
    at = rng.choice(offsets)
    marker = buf[at]
    kind = marker >> 4
    choice = rng.random()
    if choice < 0.25:
        buf[at] = (rng.choice((0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x8, 0xA, 0xC, 0xD)) << 4) | (marker & 0xF)
    elif choice < 0.5:
        buf[at] = (marker & 0xF0) | rng.choice((0, 1, 2, 3, 4, 8, 14, 15, rng.randrange(16)))
    elif kind in (0xA, 0xC, 0xD) and 1 <= ref_size <= 8:
        n = marker & 0xF
        if n == 0xF:
            return
        refs = n * (2 if kind == 0xD else 1)
        if refs == 0:
            return
        ref_at = at + 1 + rng.randrange(refs) * ref_size
        index = offsets.index(at) if at in offsets else 0
        target = rng.choice((index, top, rng.randrange(max(1, count)), count, count + 1,
                             int.from_bytes(_value(rng, ref_size), "big")))  # fmt: skip
        if ref_at + ref_size <= len(buf):
            buf[ref_at : ref_at + ref_size] = (target % (1 << (8 * ref_size))).to_bytes(ref_size, "big")
    else:
        interesting(rng, buf, corpus)


XML_TOKENS = (
    b"<array>", b"</array>", b"<dict>", b"</dict>", b"<key>k</key>", b"<key></key>", b"<true/>", b"<false/>",
    b"<integer>18446744073709551616</integer>", b"<integer>-9223372036854775809</integer>",
    b"<integer>0x10</integer>", b"<integer></integer>", b"<real>nan</real>", b"<real>1e999</real>",
    b"<real>-inf</real>", b"<date>0001-01-01T00:00:00Z</date>", b"<date>9999-12-31T23:59:59Z</date>",
    b"<date>2024-13-45T99:99:99Z</date>", b"<data>!!!</data>", b"<data>AAA</data>", b"<string>&#0;</string>",
    b"<string>&#xD800;</string>", b"&amp;", b"&bogus;", b"<![CDATA[x]]>", b"<!-- c -->", b"<?pi x?>",
    b'<!DOCTYPE plist [<!ENTITY a "aaaaaaaa">]>', b"<uid>1</uid>", b"<plist>", b"</plist>", b"\x00", b"\xff",
)  # fmt: skip


def xml_element(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    tags = [i for i in range(len(buf)) if buf[i] == 0x3C][:4096]
    at = rng.choice(tags) if tags else _pos(rng, buf)
    token = rng.choice(XML_TOKENS)
    if rng.random() < 0.3:
        end = buf.find(b">", at)
        if end > 0:
            buf[at : end + 1] = token  # replace an element's tag
            return
    buf[at:at] = token * rng.choice((1, 1, 1, 2, 64))


def plist_op(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    if buf.startswith(b"bplist"):
        rng.choice((bplist_trailer, bplist_offset, bplist_object, bplist_object))(rng, buf, corpus)
    else:
        xml_element(rng, buf, corpus)


PLIST: list[tuple[Op, int]] = [(plist_op, 14)]


# --- text -----------------------------------------------------------------------------------------

TEXT_TOKENS = (
    b"\n", b"\r\n", b"\r", b"\x00", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00",
    b"  continued\n", b"\t", b"------ X (x) ------\n", b"DUMP OF SERVICE y:\n", b"------  ------\n",
    b"\xc3", b"\xf0\x9f", b"\xed\xa0\x80", b"\x1b[2J", b"\n\x00", b"\x00\n",
)  # fmt: skip
_COMPRESSORS: dict[str, tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = {
    "gzip": (gzip.compress, gzip.decompress),
    "bzip2": (bz2.compress, bz2.decompress),
    "xz": (lzma.compress, lzma.decompress),
    "zstd": (zstandard.ZstdCompressor().compress,
             lambda d: zstandard.ZstdDecompressor().decompress(d, max_output_size=1 << 20)),
}  # fmt: skip
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ": "xz", b"\x28\xb5\x2f\xfd": "zstd"}


def text_token(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    at = _pos(rng, buf)
    if rng.random() < 0.1:
        buf[at:at] = b"a" * rng.choice((299, 300, 301, 700, 5000, 70000))
    else:
        buf[at:at] = rng.choice(TEXT_TOKENS) * rng.choice((1, 1, 1, 3, 100))


def recompress(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    """Decompress, change the text, compress again (or compress plain text)."""
    codec = next((name for magic, name in _MAGIC.items() if buf.startswith(magic)), None)
    try:
        text = bytearray(_COMPRESSORS[codec][1](bytes(buf))) if codec else bytearray(buf)
    except Exception:
        return
    if len(text) > MAX_SIZE:
        return
    for _ in range(rng.randint(1, 3)):
        rng.choice((text_token, flip_bit, delete_chunk, duplicate_chunk))(rng, text, corpus)
    compress = _COMPRESSORS[codec or rng.choice(list(_COMPRESSORS))][0]
    packed = compress(bytes(text))
    if rng.random() < 0.2:
        packed += compress(bytes(text[: len(text) // 2]))  # another member / frame
    buf[:] = packed


TEXT: list[tuple[Op, int]] = [(text_token, 8), (recompress, 4)]


# --- ZIP ------------------------------------------------------------------------------------------

# Field (offset, width) of the ZIP records (APPNOTE 4.3.7, 4.3.12, 4.3.16).
_ZIP_FIELDS = {
    b"PK\x03\x04": ((4, 2), (6, 2), (8, 2), (14, 4), (18, 4), (22, 4), (26, 2), (28, 2)),
    b"PK\x01\x02": ((8, 2), (10, 2), (16, 4), (20, 4), (24, 4), (28, 2), (30, 2), (32, 2), (34, 2), (42, 4)),
    b"PK\x05\x06": ((4, 2), (6, 2), (8, 2), (10, 2), (12, 4), (16, 4), (20, 2)),
}


def _records(buf: bytearray) -> list[tuple[int, bytes]]:
    out = []
    for signature in _ZIP_FIELDS:
        at = buf.find(signature)
        while at >= 0 and len(out) < 512:
            out.append((at, signature))
            at = buf.find(signature, at + 1)
    return out


def zip_field(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    records = _records(buf)
    if not records:
        return
    at, signature = rng.choice(records)
    offset, width = rng.choice(_ZIP_FIELDS[signature])
    if at + offset + width <= len(buf):
        buf[at + offset : at + offset + width] = _value(rng, width)


def zip_duplicate_entry(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    """A central directory entry repeated (several names over one member's data), counts updated."""
    central = [at for at, sig in _records(buf) if sig == b"PK\x01\x02"]
    end = buf.rfind(b"PK\x05\x06")
    if not central or end < 0 or end + 22 > len(buf):
        return
    at = rng.choice(central)
    if at + 46 > len(buf):
        return
    size = 46 + sum(int.from_bytes(buf[at + o : at + o + 2], "little") for o in (28, 30, 32))
    entry = buf[at : at + size]
    copies = rng.choice((1, 2, 16, 300))
    buf[at + size : at + size] = entry * copies
    end += len(entry) * copies
    for o in (8, 10):
        count = (int.from_bytes(buf[end + o : end + o + 2], "little") + copies) % 65536
        buf[end + o : end + o + 2] = count.to_bytes(2, "little")
    cd = (int.from_bytes(buf[end + 12 : end + 16], "little") + len(entry) * copies) % (1 << 32)
    buf[end + 12 : end + 16] = cd.to_bytes(4, "little")


ZIP: list[tuple[Op, int]] = [(zip_field, 6), (zip_duplicate_entry, 1)]

FAMILIES: dict[str, list[tuple[Op, int]]] = {
    "bytes": [],
    "sqlite": SQLITE,
    "wal": WAL,
    "plist": PLIST,
    "mbfile": PLIST,
    "text": TEXT,
    "zip": ZIP,
}


def mutate(rng: random.Random, data: bytes, kind: str, corpus: Sequence[bytes], max_size: int = MAX_SIZE) -> bytes:
    """``data`` changed by one to six mutations of the generic and the ``kind`` family."""
    ops = GENERIC + FAMILIES[kind]
    functions = [op for op, _ in ops]
    weights = [weight for _, weight in ops]
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4, 6))):
        rng.choices(functions, weights)[0](rng, buf, corpus)
        if len(buf) > max_size:
            del buf[max_size:]
    return bytes(buf)
