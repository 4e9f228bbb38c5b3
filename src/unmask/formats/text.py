"""Text logs and command outputs, read as a stream of lines in bounded memory.

* :func:`open_text` sniffs the compression (gzip, bzip2, xz, zstd; concatenated members and
  frames included) and returns a binary stream of the text. With ``max_bytes`` it raises
  :class:`TextLimit` at the first read past that many decompressed bytes, after every byte
  before the limit has been delivered: a decompression bomb ends as ``failed`` coverage with the
  records read so far, never as an exhausted disk or memory.
* :func:`iter_lines` splits a binary stream into :class:`Line` records: physical lines, or
  multi-line records joined by a ``continues`` predicate. It reads fixed-size chunks, so memory
  is bounded by ``max_line`` and ``max_record`` whatever the size of the file (a 1 GB file
  without a newline included), and decoding never raises: invalid bytes show as ``\\xNN``.
* :func:`split_sections` maps the sections of a big file (``dumpstate``) in one pass, with the
  byte offsets and line numbers that :func:`section_lines` needs to read one section again.

Locators of records read from text are ``line=N`` (:func:`locator`), N counting from 1.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, NamedTuple, Protocol, cast

import zstandard

from unmask.errors import ArtefactError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK = 1 << 16
"""Bytes read at a time: big enough that the per-read cost vanishes, small enough to not matter."""


class TextLimit(ArtefactError):
    """The text is longer than the ``max_bytes`` it was opened with (after decompression).

    Raised by the read that would pass the limit, so a parser reports ``failed`` with the records
    it had already yielded (``"… (after N records)"``) instead of reading a decompression bomb.
    """


@dataclass(frozen=True, slots=True)
class Line:
    """One record of a text file: a physical line, or several joined by ``continues``.

    ``number`` is the 1-based number of the record's first physical line; ``truncated`` says that
    ``max_line`` or ``max_record`` cut the text.
    """

    number: int
    text: str
    truncated: bool = False


class Section(NamedTuple):
    """A section of a text file found by :func:`split_sections`.

    ``start``/``end`` are byte offsets in the (decompressed) stream, from the section's header
    line to the start of the next header (or the end of the stream), so the sections of a file
    tile it; ``line`` is the number of the header line. Text before the first header is a
    section named ``""``.
    """

    name: str
    start: int
    end: int
    line: int


def locator(line: Line) -> str:
    """The locator of a record read from text: ``line=N``."""
    return f"line={line.number}"


# --- decompression ------------------------------------------------------------------------------


class _Source(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


def _sniff(head: bytes) -> str | None:
    """The compression that the first bytes of a stream announce, if any."""
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    # "BZh" and a block size digit 1-9: a text file that happens to start with "BZh" is not taken.
    if head.startswith(b"BZh") and len(head) > 3 and 0x31 <= head[3] <= 0x39:
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    return None


def _read_at_most(stream: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes, looping over short reads (pipes and sockets return what they have)."""
    head = b""
    while len(head) < size:
        data = stream.read(size - len(head))
        if not data:
            break
        head += data
    return head


class _Replay(io.RawIOBase):
    """The bytes read to sniff the format, then the rest of the stream.

    Sniffing this way loses nothing on a stream that cannot seek, and unlike a buffered ``peek``
    it cannot come back short when a pipe delivers its first bytes one at a time. Closing it leaves
    the caller's stream open: whoever opened it closes it.
    """

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            size = min(len(view), len(self._head))
            view[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(view))
        if not data:
            return 0
        view[: len(data)] = data
        return len(data)


# What decompressors raise on corrupt or truncated input (zlib.error is not an OSError).
_CORRUPT = (EOFError, OSError, zlib.error, lzma.LZMAError, zstandard.ZstdError)


class _Capped(io.BufferedIOBase):
    """A decompressed (or plain) stream that raises :class:`TextLimit` past ``limit`` bytes.

    ``read(n)`` fills up to ``n`` bytes as a buffered stream does, except at the limit, where it
    returns the bytes up to the limit and the next read raises: no byte before the limit is lost
    to the exception. ``read()`` (everything) raises as soon as the limit is passed. Corrupt or
    truncated compressed input raises :class:`ArtefactError` after what it decompressed so far.
    """

    def __init__(self, inner: _Source, limit: int | None, kind: str | None) -> None:
        super().__init__()
        self._inner = inner
        self._limit = limit
        self._left = limit
        self._kind = kind

    def readable(self) -> bool:
        return True

    def _pull(self, size: int) -> bytes:
        if self._kind is None:
            return self._inner.read(size)
        try:
            return self._inner.read(size)
        except _CORRUPT as exc:
            raise ArtefactError(f"cannot decompress the {self._kind} stream: {exc}") from exc

    def read(self, size: int | None = -1, /) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(CHUNK), b""))
        if size == 0:
            return b""
        want = size if self._left is None else min(size, self._left)
        if want == 0:
            # At the limit: one more byte, if there is one, is a byte too many.
            if self._pull(1):
                raise TextLimit(f"the text is longer than {self._limit} bytes after decompression")
            return b""
        parts = []
        got = 0
        while got < want:
            data = self._pull(want - got)
            if not data:
                break
            parts.append(data)
            got += len(data)
        if self._left is not None:
            self._left -= got
        return b"".join(parts)

    def read1(self, size: int = -1, /) -> bytes:
        return self.read(size)

    def close(self) -> None:
        if not self.closed:
            try:
                self._inner.close()
            finally:
                super().close()


def open_text(stream: BinaryIO, *, max_bytes: int | None = None) -> BinaryIO:
    """The text of ``stream``, decompressed if it is gzip, bzip2, xz or zstd, else as it is.

    Gzip members, bzip2 and xz streams and zstd frames concatenated in one file (as logrotate and
    ``cat a.gz b.gz`` make them) are read whole. With ``max_bytes``, the first read past that many
    bytes of text raises :class:`TextLimit` (an :class:`~unmask.errors.ArtefactError`); corrupt or
    truncated compressed data raises :class:`~unmask.errors.ArtefactError` (a truncated zstd frame
    is not detected: its decompressor just stops). The result reads forward only; closing it does
    not close ``stream``.
    """
    head = _read_at_most(stream, 6)
    source = io.BufferedReader(_Replay(head, stream), CHUNK)
    kind = _sniff(head)
    inner: _Source
    if kind is None:
        if max_bytes is None:
            return source
        inner = source
    elif kind == "gzip":
        inner = gzip.GzipFile(fileobj=source, mode="rb")
    elif kind == "bzip2":
        inner = bz2.BZ2File(source)
    elif kind == "xz":
        inner = lzma.LZMAFile(source)  # noqa: SIM115 (the reader is returned; the caller closes it)
    else:
        inner = zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True, closefd=False)
    # typeshed's BinaryIO is a nominal type that io.BufferedIOBase subclasses cannot inherit at
    # run time (its abstract ``mode`` and ``name``); _Capped has every method a reader calls.
    return cast(BinaryIO, _Capped(inner, max_bytes, kind))


# --- lines --------------------------------------------------------------------------------------


def _codec(encoding: str, head: bytes) -> tuple[str, int]:
    """The codec to decode with and the length of the byte order mark to skip.

    A BOM overrides ``encoding`` (some Apple logs are UTF-16 whatever the caller expects). The
    codecs that write a BOM themselves are replaced by their BOM-less forms, since lines are
    decoded one at a time.
    """
    name = codecs.lookup(encoding).name
    if name.startswith("utf-32"):
        # Checked before UTF-16: the UTF-32 LE BOM starts with the UTF-16 LE one.
        if head.startswith(codecs.BOM_UTF32_LE):
            return "utf-32-le", 4
        if head.startswith(codecs.BOM_UTF32_BE):
            return "utf-32-be", 4
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    return {"utf-8-sig": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}.get(name, name), 0


def _physical(
    stream: BinaryIO, encoding: str, max_line: int, chunk_size: int
) -> Iterator[tuple[int, int, str, bool]]:
    """Physical lines as (start offset, offset after the newline, text, truncated).

    Newlines are searched as bytes in the encoding (one unit of ``width`` bytes at a unit
    boundary: ``\\n\\x00`` in UTF-16 LE), so a line is decoded once, whole, and a chunk boundary
    inside a multi-byte character changes nothing. The buffer holds at most the current line up
    to ``max_line`` plus one chunk: an over-long line keeps its first ``max_line`` bytes and the
    rest is skipped as it streams past.
    """
    if max_line < 0 or chunk_size < 1:
        raise ValueError("max_line must be >= 0 and chunk_size >= 1")
    read = stream.read
    buf = b""
    while len(buf) < 4:  # enough for any byte order mark
        data = read(chunk_size)
        if not data:
            break
        buf += data
    codec, skip = _codec(encoding, buf)
    newline, carriage = "\n".encode(codec), "\r".encode(codec)
    width = len(newline)

    def cut(raw: bytes) -> str:
        # The first max_line bytes, whole units only, and no half character at the end.
        decoder = codecs.getincrementaldecoder(codec)(errors="backslashreplace")
        return decoder.decode(raw[: max_line - max_line % width], final=False)

    base = skip  # offset in the stream of buf[0]
    buf = buf[skip:]
    begin = 0  # index in buf where the current line begins
    scan = 0  # index in buf from which to look for the next newline
    kept: tuple[int, str] | None = None  # an over-long line being skipped: its start and kept text
    while True:
        while True:
            end = buf.find(newline, scan)
            while width > 1 and end >= 0 and (end - begin) % width:
                end = buf.find(newline, end + 1)
            if end < 0:
                break
            stop = end + width
            if kept is not None:
                yield kept[0], base + stop, kept[1], True
                kept = None
            else:
                line = buf[begin:end]
                if line.endswith(carriage):
                    line = line[:-width]
                if len(line) > max_line:
                    yield base + begin, base + stop, cut(line), True
                else:
                    yield base + begin, base + stop, line.decode(codec, "backslashreplace"), False
            begin = scan = stop
        rest = len(buf) - begin
        # max_line + width: a line exactly max_line long may still be waiting for its "\r\n".
        if kept is None and rest > max_line + width:
            kept = base + begin, cut(buf[begin:])
        if kept is not None:
            # Skip the over-long line's bytes but an incomplete unit, which may start a newline.
            begin += rest - rest % width
        data = read(chunk_size)
        if not data:
            break
        rest = len(buf) - begin
        scan = rest - rest % width
        base += begin
        buf = buf[begin:] + data
        begin = 0
    if kept is not None:
        yield kept[0], base + len(buf), kept[1], True
    elif begin < len(buf):
        # The last line has no newline; a lone "\r" at the very end still ends it.
        line = buf[begin:]
        if line.endswith(carriage) and len(line) % width == 0:
            line = line[:-width]
        if len(line) > max_line:
            yield base + begin, base + len(buf), cut(line), True
        else:
            yield base + begin, base + len(buf), line.decode(codec, "backslashreplace"), False


def iter_lines(
    stream: BinaryIO,
    *,
    encoding: str = "utf-8",
    max_line: int = 1 << 20,
    continues: Callable[[str], bool] | None = None,
    max_record: int = 4 << 20,
    start: int = 1,
    chunk_size: int = CHUNK,
) -> Iterator[Line]:
    """The lines of a binary text stream, in bounded memory; decoding never raises.

    - Line endings ``\\n`` and ``\\r\\n`` are stripped, and a lone ``\\r`` at the very end of the
      stream; other ``\\r`` and NUL characters stay in the text. A last line without a newline is
      yielded; an empty stream yields nothing.
    - A UTF-8 BOM at the start is dropped; a UTF-16 (or, with a UTF-32 ``encoding``, UTF-32) BOM
      switches the decoding to that encoding. Invalid bytes decode as ``\\xNN``
      (``backslashreplace``).
    - ``max_line``: bytes of a physical line (without its ending) that are kept; the rest of the
      line is skipped, however long, and the line is ``truncated``.
    - ``continues(text)`` true: that physical line continues the previous record (indented lines
      of a multi-line entry, a Java stack trace); the record's text joins its lines with ``"\\n"``
      and is cut at ``max_record`` characters (then ``truncated``, the rest of that record's lines
      dropped). A record's ``number`` is that of its first physical line.
    - ``start``: the number of the first line (a section read from the middle of a file).
    - ``chunk_size``: bytes read at a time.
    """
    lines = _physical(stream, encoding, max_line, chunk_size)
    number = start
    if continues is None:
        for _, _, text, truncated in lines:
            yield Line(number, text, truncated)
            number += 1
        return
    first = start
    parts: list[str] = []
    size = 0  # characters of the record so far, separators included
    cut = False
    for _, _, text, truncated in lines:
        if parts and continues(text):
            room = max_record - size - 1  # characters left after the "\n" separator
            if len(text) <= room:
                parts.append(text)
                size += 1 + len(text)
                cut = cut or truncated
            else:
                if room > 0:
                    parts.append(text[:room])
                    size = max_record
                cut = True
        else:
            if parts:
                yield Line(first, "\n".join(parts), cut)
            first = number
            parts = [text[:max_record]]
            size = len(parts[0])
            cut = truncated or len(text) > max_record
        number += 1
    if parts:
        yield Line(first, "\n".join(parts), cut)


# --- sections -----------------------------------------------------------------------------------


def split_sections(
    stream: BinaryIO,
    is_header: Callable[[str], str | None],
    *,
    encoding: str = "utf-8",
    max_line: int = 1 << 20,
    chunk_size: int = CHUNK,
) -> Iterator[Section]:
    """The sections of a text stream, in one pass and bounded memory.

    A line for which ``is_header`` returns a name (``"DUMP OF SERVICE package:"`` → ``"package"``)
    starts a new section; lines before the first header form a section named ``""``. Each
    :class:`Section` tells its byte range and the number of its header line, so a scan can map a
    ``dumpstate`` once and hand each parser its sections (:func:`section_lines`). Line splitting,
    BOMs and ``max_line`` are as in :func:`iter_lines`.
    """
    current: Section | None = None
    end = 0
    lines = _physical(stream, encoding, max_line, chunk_size)
    for number, (begin, stop, text, _) in enumerate(lines, start=1):
        name = is_header(text)
        if name is not None:
            if current is not None:
                yield current._replace(end=begin)
            current = Section(name, begin, stop, number)
        elif current is None:
            current = Section("", begin, stop, number)
        end = stop
    if current is not None:
        yield current._replace(end=end)


class _Window(io.RawIOBase):
    """The next ``size`` bytes of a stream."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        super().__init__()
        self._stream = stream
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read(min(len(view), self._left)) if self._left > 0 else b""
        self._left -= len(data)
        view[: len(data)] = data
        return len(data)


def section_lines(
    stream: BinaryIO,
    section: Section,
    *,
    encoding: str = "utf-8",
    max_line: int = 1 << 20,
    continues: Callable[[str], bool] | None = None,
    max_record: int = 4 << 20,
) -> Iterator[Line]:
    """The lines of one section of a seekable stream, numbered as in the whole file.

    The stream must be the one :func:`split_sections` read, seekable (a file, a zip member; not
    :func:`open_text`'s result, which reads forward only). A section has no BOM of its own: for a
    UTF-16 file pass the ``encoding`` its BOM named (``"utf-16-le"``).
    """
    stream.seek(section.start)
    window = io.BufferedReader(_Window(stream, section.end - section.start), CHUNK)
    return iter_lines(
        window,
        encoding=encoding,
        max_line=max_line,
        continues=continues,
        max_record=max_record,
        start=section.line,
    )
