"""The streaming line reader: line endings, encodings, caps, compression, bounded memory."""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import itertools
import lzma
import tracemalloc
import zlib
from collections.abc import Callable

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from unmask.errors import ArtefactError
from unmask.formats.text import (
    Line,
    Section,
    TextLimit,
    iter_lines,
    locator,
    open_text,
    section_lines,
    split_sections,
)

# --- helpers ------------------------------------------------------------------------------------


def lines(data: bytes, **kwargs: object) -> list[tuple[int, str, bool]]:
    return [(x.number, x.text, x.truncated) for x in iter_lines(io.BytesIO(data), **kwargs)]  # type: ignore[arg-type]


def texts(data: bytes, **kwargs: object) -> list[str]:
    return [x.text for x in iter_lines(io.BytesIO(data), **kwargs)]  # type: ignore[arg-type]


class Trickle(io.RawIOBase):
    """A stream that cannot seek and returns one byte per read, as a slow pipe may."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        if self._pos >= len(self._data) or not len(buffer):
            return 0
        buffer[0] = self._data[self._pos]
        self._pos += 1
        return 1


class Generated(io.RawIOBase):
    """``size`` bytes of ``fill`` made on demand: a huge file that never exists in memory."""

    def __init__(self, size: int, fill: bytes = b"x") -> None:
        self._left = size
        self._block = fill * (1 << 16)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        size = min(len(buffer), self._left, len(self._block))
        memoryview(buffer)[:size] = self._block[:size]
        self._left -= size
        return size


def _compressors() -> dict[str, Callable[[], Callable[[bytes | None], bytes]]]:
    """Streaming compressors, each as a factory of ``feed(data)`` (``feed(None)`` flushes)."""

    def wrap(obj: object) -> Callable[[bytes | None], bytes]:
        def feed(data: bytes | None) -> bytes:
            return obj.flush() if data is None else obj.compress(data)  # type: ignore[attr-defined]

        return feed

    return {
        "gzip": lambda: wrap(zlib.compressobj(1, zlib.DEFLATED, 31)),
        "bzip2": lambda: wrap(bz2.BZ2Compressor(1)),
        "xz": lambda: wrap(lzma.LZMACompressor(preset=0)),
        "zstd": lambda: wrap(zstandard.ZstdCompressor(level=1).compressobj()),
    }


class Bomb(io.RawIOBase):
    """A compressed stream of ``size`` zero bytes, compressed as it is read: never whole anywhere.

    bzip2 packs about 45 MB of zeros in a 45-byte block, so the decompressor's first read of
    compressed input would make the generator compress the whole GiB; its bomb repeats one
    16 MiB stream instead (bzip2 files may hold several streams, and real bombs are built so).
    """

    def __init__(self, kind: str, size: int) -> None:
        self._feed = _compressors()[kind]()
        self._member = compress(kind, bytes(16 << 20)) if kind == "bzip2" else b""
        self._left = size
        self._pending = b""
        self._zeros = bytes(1 << 20)

    def readable(self) -> bool:
        return True

    def _more(self) -> bytes:
        if self._member:
            self._left -= 16 << 20
            return self._member if self._left >= 0 else b""
        if self._left == 0:
            self._left = -1
            return self._feed(None)
        block = self._zeros[: min(len(self._zeros), self._left)]
        self._left -= len(block)
        return self._feed(block)

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        while not self._pending and self._left >= 0:
            self._pending = self._more()
        size = min(len(buffer), len(self._pending))
        memoryview(buffer)[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def compress(kind: str, data: bytes) -> bytes:
    feed = _compressors()[kind]()
    return feed(data) + feed(None)


# --- line endings and encodings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a\nb\n", ["a", "b"]),
        (b"a\r\nb\r\n", ["a", "b"]),
        (b"a\nb", ["a", "b"]),
        (b"a\r\nb\r", ["a", "b"]),
        (b"a\r\n\r\nb\n\n", ["a", "", "b", ""]),
        (b"a\rb\n", ["a\rb"]),  # a lone "\r" inside the file is text
        (b"a\r\r\n", ["a\r"]),  # only one "\r" belongs to the ending
        (b"\n", [""]),
        (b"\r", [""]),
        (b"", []),
        (b"a\x00b\n\x00", ["a\x00b", "\x00"]),  # NUL bytes stay
    ],
)
def test_line_endings(data: bytes, expected: list[str]) -> None:
    assert texts(data) == expected
    assert texts(data, chunk_size=1) == expected


def test_numbers_and_locator() -> None:
    assert lines(b"a\nb\n") == [(1, "a", False), (2, "b", False)]
    got = list(iter_lines(io.BytesIO(b"a\nb\n"), start=41))
    assert got == [Line(41, "a"), Line(42, "b")]
    assert locator(got[1]) == "line=42"


def test_utf8_bom_is_dropped() -> None:
    assert texts(codecs.BOM_UTF8 + "é\n\ufeffx".encode()) == ["é", "\ufeffx"]  # only at the start
    assert texts(codecs.BOM_UTF8, chunk_size=1) == []


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_bom_switches_the_decoding(codec: str) -> None:
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    # U+0A0A and U+010A hold a 0x0A byte that is not a newline; U+1F600 is a surrogate pair.
    text = "Jän 1\r\n\u0a0a\u010a\n\U0001f600\nlast"
    for chunk_size in (1, 3, 64):
        assert texts(bom + text.encode(codec), chunk_size=chunk_size) == [
            "Jän 1",
            "\u0a0a\u010a",
            "\U0001f600",
            "last",
        ]


def test_utf16_without_bom_when_asked() -> None:
    assert texts("a\nb".encode("utf-16-le"), encoding="utf-16") == ["a", "b"]
    assert texts("a\nb".encode("utf-16-be"), encoding="utf-16-be") == ["a", "b"]
    # An odd byte at the end cannot be decoded and shows as an escape.
    assert texts("a\nb".encode("utf-16-le") + b"!", encoding="utf-16-le") == ["a", "b\\x21"]


def test_other_single_byte_encodings() -> None:
    assert texts("café\n".encode("latin-1"), encoding="latin-1") == ["café"]


def test_invalid_utf8_never_raises() -> None:
    assert texts(b"ok \xff\xfe\n\xe2\x82\n\xc3") == ["ok \\xff\\xfe", "\\xe2\\x82", "\\xc3"]


# --- caps ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 2, 5, 1 << 16])
def test_overlong_line_is_truncated_and_the_next_line_read(chunk_size: int) -> None:
    data = b"x" * 100 + b"\r\nshort\n" + b"y" * 50
    assert lines(data, max_line=10, chunk_size=chunk_size) == [
        (1, "x" * 10, True),
        (2, "short", False),
        (3, "y" * 10, True),
    ]


@pytest.mark.parametrize("chunk_size", [1, 3, 1 << 16])
def test_line_of_exactly_max_line_is_whole(chunk_size: int) -> None:
    assert lines(b"abcd\r\nabcde\n", max_line=4, chunk_size=chunk_size) == [
        (1, "abcd", False),
        (2, "abcd", True),
    ]
    assert lines(b"abcd\r", max_line=4, chunk_size=chunk_size) == [(1, "abcd", False)]


def test_truncation_does_not_split_a_character() -> None:
    assert texts("ab€cd\n".encode(), max_line=4) == ["ab"]  # € is 3 bytes: 2 of them fit
    assert texts(codecs.BOM_UTF16_LE + "ab\U0001f600c\n".encode("utf-16-le"), max_line=7) == ["ab"]


def continued(text: str) -> bool:
    return text.startswith((" ", "\t", "at "))


def test_continuation_lines_join_into_one_record() -> None:
    data = b" orphan\nE Crash\nat a.b(C.java:1)\n\tmore\nI next\n  indented\n"
    assert lines(data, continues=continued) == [
        (1, " orphan", False),  # nothing to continue: a record of its own
        (2, "E Crash\nat a.b(C.java:1)\n\tmore", False),
        (5, "I next\n  indented", False),
    ]


def test_continuation_is_capped_at_max_record() -> None:
    data = b"head\n more\n again\nnext\n tail\n"
    assert lines(data, continues=continued, max_record=10) == [
        (1, "head\n more", True),  # " again" dropped, and "next" still starts a record
        (4, "next\n tail", False),
    ]
    assert lines(b"0123456789abc\n more\n", continues=continued, max_record=5) == [(1, "01234", True)]
    assert lines(b"abc\n defgh\n", continues=continued, max_record=6) == [(1, "abc\n d", True)]


def test_a_truncated_physical_line_truncates_its_record() -> None:
    assert lines(b"head\n " + b"x" * 20 + b"\n", continues=continued, max_line=5) == [
        (1, "head\n xxxx", True)
    ]


# --- compression --------------------------------------------------------------------------------

TEXT = "".join(f"line {i} ünïcödé\r\n" for i in range(3000)).encode()
EXPECTED = [f"line {i} ünïcödé" for i in range(3000)]


@pytest.mark.parametrize("kind", ["plain", "gzip", "bzip2", "xz", "zstd"])
def test_open_text_decompresses_what_it_recognises(kind: str) -> None:
    data = TEXT if kind == "plain" else compress(kind, TEXT)
    assert [x.text for x in iter_lines(open_text(io.BytesIO(data)))] == EXPECTED
    # A stream that cannot seek and trickles one byte at a time loses nothing to the sniffing.
    assert [x.text for x in iter_lines(open_text(Trickle(data)))] == EXPECTED  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz", "zstd"])
def test_concatenated_members_are_read_whole(kind: str) -> None:
    # logrotate's gzip files and `cat a.gz b.gz` hold several members; each codec allows it.
    data = compress(kind, b"first\nsecond\n") + compress(kind, b"third\n")
    assert [x.text for x in iter_lines(open_text(io.BytesIO(data)))] == ["first", "second", "third"]


def test_multi_member_gzip_from_the_gzip_module() -> None:
    data = gzip.compress(b"a\n") + gzip.compress(b"b")
    assert [x.text for x in iter_lines(open_text(io.BytesIO(data)))] == ["a", "b"]


def test_short_and_lookalike_streams_are_plain_text() -> None:
    for data in (b"", b"\x1f", b"BZ", b"BZh\n", b"BZh0 not bzip2\n"):
        assert open_text(io.BytesIO(data)).read() == data


def test_corrupt_compressed_data_is_an_artefact_error() -> None:
    truncated = gzip.compress(TEXT)[:-200]
    reader = open_text(io.BytesIO(truncated))
    with pytest.raises(ArtefactError, match="gzip"):
        for _ in iter_lines(reader):
            pass
    with pytest.raises(ArtefactError, match="xz"):
        open_text(io.BytesIO(b"\xfd7zXZ\x00garbage")).read()


@pytest.mark.parametrize("kind", ["plain", "gzip", "zstd"])
def test_max_bytes_delivers_up_to_the_limit_then_raises(kind: str) -> None:
    data = b"0123456789\n" * 10  # 110 bytes
    source = data if kind == "plain" else compress(kind, data)
    assert open_text(io.BytesIO(source), max_bytes=110).read() == data  # exactly at the limit: fine
    seen = []
    with pytest.raises(TextLimit):
        for line in iter_lines(open_text(io.BytesIO(source), max_bytes=105), chunk_size=7):
            seen.append(line.text)
    assert seen == ["0123456789"] * 9  # every whole line before the limit was read
    with pytest.raises(TextLimit):
        open_text(io.BytesIO(source), max_bytes=105).read()


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz", "zstd"])
def test_decompression_bomb_is_refused_in_bounded_memory(kind: str) -> None:
    bomb = Bomb(kind, 1 << 30)  # 1 GiB of zeros, compressed only as far as it is read
    tracemalloc.start()
    try:
        with pytest.raises(TextLimit):
            for _ in iter_lines(open_text(bomb, max_bytes=8 << 20)):  # type: ignore[arg-type]
                pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 << 20, f"peak {peak / 1e6:.1f} MB"


def test_a_huge_line_without_newline_keeps_memory_small() -> None:
    tracemalloc.start()
    try:
        got = list(iter_lines(Generated(200 << 20)))  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(x.number, len(x.text), x.truncated) for x in got] == [(1, 1 << 20, True)]
    assert peak < 10 << 20, f"peak {peak / 1e6:.1f} MB"


# --- sections -----------------------------------------------------------------------------------


def dumpsys_header(text: str) -> str | None:
    prefix = "DUMP OF SERVICE "
    return text[len(prefix) :].rstrip(":") if text.startswith(prefix) else None


DUMPSTATE = (
    "== dumpstate: 2024-03-01 10:00:00\r\n"
    "preamble\n"
    "DUMP OF SERVICE package:\n"
    "  Package [com.example] (1a2b):\n"
    "    versionName=1.0\n"
    "DUMP OF SERVICE activity:\n"
    "DUMP OF SERVICE wifi:\n"
    "  ünïcödé\n"
    "  last line without newline"
)


@pytest.mark.parametrize("chunk_size", [1, 7, 1 << 16])
def test_split_sections_maps_a_file_in_one_pass(chunk_size: int) -> None:
    data = DUMPSTATE.encode()
    sections = list(split_sections(io.BytesIO(data), dumpsys_header, chunk_size=chunk_size))
    assert [(s.name, s.line) for s in sections] == [("", 1), ("package", 3), ("activity", 6), ("wifi", 7)]
    # The sections tile the file, each from its header to the next one.
    assert sections[0].start == 0 and sections[-1].end == len(data)
    assert all(a.end == b.start for a, b in itertools.pairwise(sections))
    assert data[sections[1].start : sections[1].end].startswith(b"DUMP OF SERVICE package:\n")
    # Reading one section again numbers its lines as in the whole file.
    whole = list(iter_lines(io.BytesIO(data)))
    wifi = list(section_lines(io.BytesIO(data), sections[3]))
    assert wifi == whole[6:]
    package = list(section_lines(io.BytesIO(data), sections[1]))
    assert package == whole[2:5]


def test_split_sections_with_a_bom_and_no_preamble() -> None:
    data = codecs.BOM_UTF8 + b"DUMP OF SERVICE a:\nx\n"
    assert list(split_sections(io.BytesIO(data), dumpsys_header)) == [Section("a", 3, len(data), 1)]
    assert list(split_sections(io.BytesIO(b""), dumpsys_header)) == []


# --- properties ---------------------------------------------------------------------------------


def reference(data: bytes) -> list[str]:
    """Lines by the obvious method, on the whole input at once."""
    codec, width = "utf-8", 1
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    elif data.startswith(codecs.BOM_UTF16_LE):
        codec, width, data = "utf-16-le", 2, data[2:]
    elif data.startswith(codecs.BOM_UTF16_BE):
        codec, width, data = "utf-16-be", 2, data[2:]
    newline, carriage = "\n".encode(codec), "\r".encode(codec)
    units = [data[i : i + width] for i in range(0, len(data), width)]
    result: list[list[bytes]] = []
    current: list[bytes] = []
    for unit in units:
        if unit == newline:
            result.append(current)
            current = []
        else:
            current.append(unit)
    if current:
        result.append(current)
    out = []
    for line in result:
        if line and line[-1] == carriage:
            line = line[:-1]
        out.append(b"".join(line).decode(codec, "backslashreplace"))
    return out


PIECES = [
    b"\n",
    b"\r",
    b"\r\n",
    b"a",
    b"\xff",
    b"\xe2\x82\xac",
    b"\xe2",
    b"\x00",
    b"\n\x00",
    b"\r\x00",
    b"\x00\n",
]
BOMS = [b"", b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE]
DATA = st.one_of(
    st.binary(max_size=300),
    st.tuples(st.sampled_from(BOMS), st.lists(st.sampled_from(PIECES), max_size=60)).map(
        lambda t: t[0] + b"".join(t[1])
    ),
)


@settings(max_examples=500, deadline=None)
@given(DATA, st.integers(1, 40))
def test_lines_equal_a_naive_split_for_any_bytes_and_chunk_size(data: bytes, chunk_size: int) -> None:
    got = list(iter_lines(io.BytesIO(data), chunk_size=chunk_size))
    assert [x.text for x in got] == reference(data)
    assert [x.number for x in got] == list(range(1, len(got) + 1))
    assert not any(x.truncated for x in got)


@settings(max_examples=300, deadline=None)
@given(DATA, st.integers(1, 40), st.integers(0, 12))
def test_caps_keep_a_prefix_and_say_so(data: bytes, chunk_size: int, max_line: int) -> None:
    whole = reference(data)
    got = list(iter_lines(io.BytesIO(data), chunk_size=chunk_size, max_line=max_line))
    assert len(got) == len(whole)
    for line, full in zip(got, whole, strict=True):
        if line.truncated:
            assert full.startswith(line.text) and len(line.text) < len(full)
        else:
            assert line.text == full


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["x", " y", "\tz", "", "at q", "w\r"]), max_size=30), st.integers(1, 20))
def test_records_equal_a_naive_grouping(physical: list[str], chunk_size: int) -> None:
    data = "\n".join(physical).encode()
    plain = reference(data)
    expected: list[tuple[int, str]] = []
    for number, text in enumerate(plain, start=1):
        if expected and continued(text):
            expected[-1] = (expected[-1][0], expected[-1][1] + "\n" + text)
        else:
            expected.append((number, text))
    got = iter_lines(io.BytesIO(data), continues=continued, chunk_size=chunk_size)
    assert [(x.number, x.text) for x in got] == expected


@settings(max_examples=300, deadline=None)
@given(DATA, st.integers(1, 40))
def test_sections_tile_the_stream(data: bytes, chunk_size: int) -> None:
    def header(text: str) -> str | None:
        return text[:3] if text.startswith("a") else None

    sections = list(split_sections(io.BytesIO(data), header, chunk_size=chunk_size))
    assert all(a.end == b.start for a, b in itertools.pairwise(sections))
    plain = reference(data)
    headers = [header(t) for t in plain if header(t) is not None]
    if plain:
        assert sections[-1].end == len(data)
        expected = headers if header(plain[0]) else ["", *headers]
        assert [s.name for s in sections] == expected
    else:
        assert sections == []
