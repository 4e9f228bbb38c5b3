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
  duplicated (the shape of an overlapping-member bomb);
* ``json``: JSON tokens inserted at structural characters; a node of the decoded value (or of one
  line of newline-delimited JSON) replaced by another type, deleted, renamed, repeated or nested
  thousands deep;
* ``archive``: tar header fields (names that climb out or are absolute, octal and base-256
  numbers, type flags, magic) with the checksum fixed most of the time, members dropped, repeated,
  moved or with their content changed (size fixed); a compressed tar decompressed, mutated and
  compressed again; an Android ``.ab`` header line or the tar inside it; a zip's fields, or the
  zip written again with one member's content mutated as what it is;
* ``auto``: the family of what the input is (:func:`sniff_family`: SQLite, plist, archive, JSON,
  else text), for parser targets whose seeds come in several forms.

Everything is drawn from the ``random.Random`` passed in, so a seed gives the same inputs.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
from collections.abc import Callable, Sequence
from typing import Any

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

# --- JSON -----------------------------------------------------------------------------------------

JSON_TOKENS = (
    b"{", b"}", b"[", b"]", b",", b":", b'"', b"null", b"true", b"-0", b"1e999", b"-1e999", b"NaN", b"Infinity",
    b"18446744073709551616", b"-9223372036854775809", b"0.1e-400", b'"\\ud800"', b'"\\u0000"', b'"\\', b"\\n",
    b'{"":', b"[" * 64, b"{\"a\":" * 64, b"\xff", b"\xc3", b"\x00",
)  # fmt: skip
JSON_VALUES: tuple[object, ...] = (
    None, True, False, 0, -1, 2**31, 2**63, 2**64, -(2**63) - 1, 10**30, 1e308, -0.0, 0.5, "", "x" * 5000, "\x00",
    "\ud800", "\u202e", "../../etc/passwd", "1714640000000", "2024-13-45T99:99:99Z", [], {}, [[]], {"": None},
)  # fmt: skip


def json_token(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    marks = [i for i in range(min(len(buf), 1 << 16)) if buf[i] in b'{}[],:"'][:4096]
    at = rng.choice(marks) if marks and rng.random() < 0.8 else _pos(rng, buf)
    token = rng.choice(JSON_TOKENS)
    if rng.random() < 0.3 and at < len(buf):
        buf[at : at + 1] = token
    else:
        buf[at:at] = token


def _nodes(value: object, path: tuple[object, ...] = (), out: list[tuple[object, ...]] | None = None
           ) -> list[tuple[object, ...]]:
    out = [] if out is None else out
    stack = [(value, path)]
    while stack and len(out) < 2000:
        node, where = stack.pop()
        out.append(where)
        if isinstance(node, dict):
            stack.extend((v, (*where, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*where, i)) for i, v in enumerate(node))
    return out


def _json_change(rng: random.Random, value: object) -> object:
    """``value`` with one node replaced, deleted, duplicated, renamed or nested deep."""
    nodes = _nodes(value)
    where = rng.choice(nodes)
    if not where:
        return rng.choice(JSON_VALUES) if rng.random() < 0.2 else [value] * rng.choice((1, 2))
    parent: Any = value
    for step in where[:-1]:
        parent = parent[step]  # type: ignore[index]
    key = where[-1]
    action = rng.randrange(6)
    if action == 0:
        other = rng.choice(nodes)
        node: Any = value
        for step in other:
            node = node[step]  # type: ignore[index]
        parent[key] = node if rng.random() < 0.5 else [node, node]
    elif action == 1:
        del parent[key]
    elif action == 2 and isinstance(parent, dict):
        parent[rng.choice(("", "x" * 300, "\x00", str(key).upper(), f"{key}_", "__proto__"))] = parent.pop(key)
    elif action == 3:
        deep: Any = parent[key]
        for _ in range(rng.choice((10, 100, 2000))):
            deep = [deep]
        parent[key] = deep
    elif action == 4 and isinstance(parent, list):
        parent.extend([parent[key]] * rng.choice((1, 10, 1000)))
    else:
        parent[key] = rng.choice(JSON_VALUES)
    return value


def json_tree(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    """Decode the JSON (or one line of newline-delimited JSON), change a node, encode it again."""
    import json

    lines = bytes(buf).split(b"\n")
    whole = len([x for x in lines if x.strip()]) <= 1
    index = 0 if whole else rng.choice([i for i, x in enumerate(lines) if x.strip()])
    text = bytes(buf) if whole else lines[index]
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return json_token(rng, buf, corpus)
    try:
        changed = json.dumps(_json_change(rng, value), indent=rng.choice((None, None, 1)),
                             ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    except (ValueError, RecursionError, TypeError):
        return None
    if whole:
        buf[:] = changed
    else:
        lines[index] = changed.replace(b"\n", b" ")
        buf[:] = b"\n".join(lines)
    return None


JSON: list[tuple[Op, int]] = [(json_token, 6), (json_tree, 8)]


# --- tar, compressed tar, Android backups, zip members ----------------------------------------------

# (offset, width) of the ustar header fields (POSIX.1-1988, pax: POSIX.1-2001).
_TAR_NAME, _TAR_LINK, _TAR_PREFIX = (0, 100), (157, 100), (345, 155)
_TAR_NUMBERS = ((100, 8), (108, 8), (116, 8), (124, 12), (136, 12))
_TAR_TYPES = b"0123456 7gxLKSDMNVA\x00"
TAR_NAMES = (
    b"../../../../tmp/unmask-fuzz-escape", b"/tmp/unmask-fuzz-abs", b"a/../../b", b"./", b".", b"..", b"", b"\x00x",
    b"C:/x", b"a\\..\\..\\b", b"x" * 100, b"\xff\xfe", b"private/var/mobile/Library/SMS/sms.db", b"a//b///c",
    b"logs/data/anr/x", b"dumpsys.txt", b"acquisition.json",
)  # fmt: skip


def tar_checksum(header: bytes | bytearray) -> bytes:
    """The header checksum field for a 512-byte header (its own field counted as spaces)."""
    total = sum(header[:148]) + 8 * 32 + sum(header[156:512])
    return b"%06o\x00 " % (total % (1 << 18))


def _tar_size(header: bytes | bytearray) -> int:
    field = bytes(header[124:136])
    if field[:1] and field[0] & 0x80:
        return int.from_bytes(field[1:], "big")
    try:
        return int(field.split(b"\x00", 1)[0].strip() or b"0", 8)
    except ValueError:
        return -1


def tar_headers(buf: bytes | bytearray, limit: int = 1000) -> list[int]:
    """Offsets of the headers of a tar, walked from the start while they look like headers."""
    out: list[int] = []
    at = 0
    while at + 512 <= len(buf) and len(out) < limit:
        header = buf[at : at + 512]
        if not any(header) or header[148:156].split(b"\x00", 1)[0].strip() == b"":
            break
        out.append(at)
        size = _tar_size(header)
        if size < 0:
            break
        at += 512 + (size + 511) // 512 * 512
    return out


def _octal(rng: random.Random, width: int) -> bytes:
    choice = rng.randrange(5)
    if choice == 0:  # base-256 (GNU), a big or negative number
        value = rng.choice(INTERESTING) * rng.choice((1, -1))
        return b"\x80" + (value % (1 << (8 * (width - 1)))).to_bytes(width - 1, "big")
    if choice == 1:
        return rng.choice((b" " * width, b"\x00" * width, b"9" * width, b"-1".ljust(width, b"\x00"), b"0x10\x00"))[:width]
    value = rng.choice(INTERESTING) % (8 ** (width - 1))
    return (b"%o" % value).rjust(width - 1, b"0")[: width - 1] + b"\x00"


def _tar_fix(buf: bytearray, at: int) -> None:
    buf[at + 148 : at + 156] = tar_checksum(buf[at : at + 512])


def tar_field(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    headers = tar_headers(buf)
    if not headers:
        return
    at = rng.choice(headers)
    choice = rng.randrange(6)
    if choice <= 1:
        offset, width = rng.choice((_TAR_NAME, _TAR_LINK, _TAR_PREFIX, _TAR_NAME))
        name = rng.choice(TAR_NAMES)
        if rng.random() < 0.3 and len(headers) > 1:
            other = rng.choice(headers)
            name = bytes(buf[other : other + 100]).split(b"\x00", 1)[0]  # another member's name
        buf[at + offset : at + offset + width] = name[:width].ljust(width, b"\x00")
    elif choice == 2:
        offset, width = rng.choice(_TAR_NUMBERS)
        buf[at + offset : at + offset + width] = _octal(rng, width)
    elif choice == 3:
        buf[at + 156] = rng.choice(_TAR_TYPES)
    elif choice == 4:
        buf[at + 257 : at + 265] = rng.choice((b"ustar\x0000", b"ustar  \x00", b"\x00" * 8, b"ustar\x00\xff\xff"))
    else:
        buf[at + 124 : at + 136] = (b"%o" % max(0, _tar_size(buf[at : at + 512]) + rng.choice((-1, 1, 512, -512, 10**6))
                                    )).rjust(11, b"0")[:11] + b"\x00"
    if rng.random() < 0.9:
        _tar_fix(buf, at)


def _member_span(buf: bytearray, at: int) -> tuple[int, int]:
    size = max(0, _tar_size(buf[at : at + 512]))
    return at, min(len(buf), at + 512 + (size + 511) // 512 * 512)


def tar_member(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    """A member (header and data) dropped, repeated or moved; or its content changed (sizes fixed)."""
    headers = tar_headers(buf)
    if not headers:
        return
    at = rng.choice(headers)
    start, end = _member_span(buf, at)
    member = bytes(buf[start:end])
    action = rng.randrange(4)
    if action == 0:
        del buf[start:end]
    elif action == 1:
        buf[end:end] = member * rng.choice((1, 1, 2, 50))
    elif action == 2:
        where = rng.choice(headers)
        buf[where:where] = member
    else:
        data = bytearray(member[512 : 512 + max(0, _tar_size(member))])
        for _ in range(rng.randint(1, 3)):
            rng.choice((text_token, flip_bit, delete_chunk, duplicate_chunk, insert_run))(rng, data, corpus)
        header = bytearray(member[:512])
        header[124:136] = (b"%o" % len(data)).rjust(11, b"0")[:11] + b"\x00"
        _tar_fix(header, 0)
        buf[start:end] = bytes(header) + bytes(data) + bytes(-len(data) % 512)


_TAR_OPS: tuple[Op, ...] = (tar_field, tar_field, tar_member)


def _decompress_capped(codec: str, data: bytes) -> bytes | None:
    try:
        if codec == "zstd":
            return zstandard.ZstdDecompressor().decompress(data, max_output_size=4 << 20)
        out = _COMPRESSORS[codec][1](data)
    except Exception:
        return None
    return out if len(out) <= 4 << 20 else None


def tar_op(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    """A tar mutation; for a compressed tar, on the decompressed tar, then compressed again (or
    with the compressed stream cut or concatenated)."""
    codec = next((name for magic, name in _MAGIC.items() if buf.startswith(magic)), None)
    if codec is None:
        return rng.choice(_TAR_OPS)(rng, buf, corpus)
    inner = _decompress_capped(codec, bytes(buf))
    if inner is None:
        return flip_bit(rng, buf, corpus)
    tar = bytearray(inner)
    for _ in range(rng.randint(1, 2)):
        rng.choice(_TAR_OPS)(rng, tar, corpus)
    packed = _COMPRESSORS[codec if rng.random() < 0.9 else rng.choice(list(_COMPRESSORS))][0](bytes(tar))
    if rng.random() < 0.1:
        packed = packed[: rng.randrange(len(packed) + 1)]
    elif rng.random() < 0.1:
        packed += _COMPRESSORS[codec][0](bytes(tar[: len(tar) // 3]))
    buf[:] = packed
    return None


AB_MAGIC = b"ANDROID BACKUP\n"


def ab_op(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    """An Android backup (``ANDROID BACKUP``, version, compressed flag, encryption, zlib(tar)):
    a header line changed, or the tar inside mutated and compressed again."""
    import zlib

    parts = bytes(buf).split(b"\n", 4)
    if len(parts) < 5:
        return flip_bit(rng, buf, corpus)
    if rng.random() < 0.3:
        line = rng.randrange(1, 4)
        parts[line] = rng.choice((b"0", b"1", b"5", b"99", b"-1", b"", b"none", b"AES-256", b"x" * 300, b"1\x00"))
        buf[:] = b"\n".join(parts)
        return None
    body = parts[4]
    compressed = parts[2] == b"1"
    try:
        inner = zlib.decompressobj().decompress(body, 4 << 20) if compressed else body
    except zlib.error:
        return flip_bit(rng, buf, corpus)
    tar = bytearray(inner)
    rng.choice(_TAR_OPS)(rng, tar, corpus)
    parts[4] = zlib.compress(bytes(tar)) if compressed else bytes(tar)
    if compressed and rng.random() < 0.1:
        parts[4] = parts[4][: rng.randrange(len(parts[4]) + 1)]
    buf[:] = b"\n".join(parts)
    return None


def zip_member(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    """The zip written again with one member's content mutated (names, methods, attributes kept)."""
    import io
    import warnings
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(bytes(buf))) as zf:
            infos = zf.infolist()
            if not infos or sum(i.file_size for i in infos) > 4 << 20:
                return None
            members = [(info, zf.read(info)) for info in infos]
    except Exception:
        return zip_field(rng, buf, corpus)
    k = rng.randrange(len(members))
    data = bytearray(members[k][1])
    family = sniff_family(bytes(data))
    ops = [op for op, _ in GENERIC + FAMILIES.get(family, TEXT) if op not in (splice, crossover)]
    for _ in range(rng.randint(1, 3)):
        rng.choice(ops)(rng, data, corpus)
    members[k] = (members[k][0], bytes(data[:MAX_SIZE]))
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as zf:
        warnings.simplefilter("ignore")  # a duplicate name is what a mutation may have made
        for info, content in members:
            copy = zipfile.ZipInfo(info.filename, info.date_time)
            copy.compress_type, copy.external_attr, copy.create_system = (
                info.compress_type, info.external_attr, info.create_system)
            try:
                zf.writestr(copy, content)
            except (NotImplementedError, RuntimeError, ValueError):
                return None
    buf[:] = out.getvalue()
    return None


def archive_op(rng: random.Random, buf: bytearray, corpus: Sequence[bytes]) -> None:
    if buf.startswith(b"PK"):
        rng.choice((zip_field, zip_field, zip_duplicate_entry, zip_member, zip_member))(rng, buf, corpus)
    elif buf.startswith(AB_MAGIC):
        ab_op(rng, buf, corpus)
    else:
        tar_op(rng, buf, corpus)


ARCHIVE: list[tuple[Op, int]] = [(archive_op, 16)]


def sniff_family(data: bytes) -> str:
    """The structure-aware family for an input of unknown form (``auto``): by its first bytes."""
    head = data[:1024]
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if head.startswith(b"bplist") or (head.lstrip().startswith(b"<?xml") and b"<plist" in head) or head.lstrip(
    ).startswith(b"<plist"):
        return "plist"
    if head.startswith(b"PK") or head.startswith(AB_MAGIC) or (len(head) >= 512 and head[257:262] == b"ustar"):
        return "archive"
    stripped = head.lstrip()[:1]
    if stripped in (b"{", b"["):
        return "json"
    return "text"


FAMILIES: dict[str, list[tuple[Op, int]]] = {
    "bytes": [],
    "sqlite": SQLITE,
    "wal": WAL,
    "plist": PLIST,
    "mbfile": PLIST,
    "text": TEXT,
    "zip": ZIP,
    "json": JSON,
    "archive": ARCHIVE,
}


def mutate(rng: random.Random, data: bytes, kind: str, corpus: Sequence[bytes], max_size: int = MAX_SIZE) -> bytes:
    """``data`` changed by one to six mutations of the generic and the ``kind`` family (``auto``:
    the family of what ``data`` is, :func:`sniff_family`)."""
    if kind == "auto":
        kind = sniff_family(data)
    ops = GENERIC + FAMILIES[kind]
    functions = [op for op, _ in ops]
    weights = [weight for _, weight in ops]
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4, 6))):
        rng.choices(functions, weights)[0](rng, buf, corpus)
        if len(buf) > max_size:
            del buf[max_size:]
    return bytes(buf)
