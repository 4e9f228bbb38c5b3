"""Reading tar and zip archives as evidence: members listed in one pass, read without extraction.

Phone evidence mostly arrives as archives (full-filesystem dumps as ``.tar``/``.tar.gz``/``.zip``,
sysdiagnose ``.tar.gz``, AndroidQF ``.zip``, bugreport ``.zip``). An archive shaped by an adversary
must not turn the tool that opens it into the thing that gets exploited, so nothing here ever
writes a member to a path derived from its name, follows a link on the host, or trusts a size:

- :meth:`ArchiveReader.members` lists every member once, streaming, and says what is wrong with
  the ones it will not serve (:attr:`ArchiveMember.problem`): absolute names, ``..`` components,
  NUL bytes, device files and FIFOs, encrypted or unsupported zip members, sizes and compression
  ratios past :class:`ArchiveLimits`. Links are reported with their target for the caller to
  resolve *inside* the archive's own name space.
- :meth:`ArchiveReader.open` streams one member: a zip member through :mod:`zipfile` (which stops
  at the size its header declares), a tar member as a window of the tar stream. A compressed tar
  needs random access into its decompressed stream: gzip (the common case) through
  ``indexed_gzip``, which keeps seek points instead of the data; bzip2, xz and zstd, which have no
  such library, are decompressed once into a spool file in a private folder the caller owns
  (disk, never memory; bounded by ``max_total``).

Memory stays flat whatever the archive's size: nothing holds the member list (``tarfile``'s
growing ``members`` list is cleared as it goes; ``zipfile``'s central directory is held only
while it is read) and members are read in chunks.

Libraries: :mod:`tarfile` and :mod:`zipfile` parse the headers; this module adds the safety and
the random access. Formats: POSIX.1-1988/2001 (ustar, pax) and GNU tar as :mod:`tarfile` reads
them; PKWARE APPNOTE zip (zip64 included).
"""

from __future__ import annotations

import bz2
import contextlib
import io
import lzma
import os
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from unmask.errors import ArtefactError

_CHUNK = 1 << 20
_GZIP, _BZ2, _XZ, _ZSTD = b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


class ArchiveError(ArtefactError):
    """An archive that cannot be read at all, or whose reading had to stop."""


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """What an archive may declare before its members are refused (defaults fit real evidence:
    a 256 GB phone dumped whole)."""

    max_member: int = 64 << 30
    """Bytes of one member, uncompressed."""
    max_ratio: float = 1000.0
    """Uncompressed size over compressed size of one zip member (a bomb compresses 1000:1 or more);
    applied to members of more than :attr:`ratio_floor` bytes."""
    ratio_floor: int = 16 << 20
    max_total: int = 1 << 40
    """Bytes of all members together, uncompressed (also the cap on a decompressed tar)."""
    max_members: int = 20_000_000
    max_name: int = 4096


DEFAULT_LIMITS = ArchiveLimits()


class ArchiveMember(NamedTuple):
    """One member as listed. ``name`` is normalised (no leading ``./`` or ``/``, ``/`` separators);
    ``raw_name`` is what the archive wrote. ``problem`` says why the member is not served."""

    name: str
    kind: str  # file | dir | symlink | hardlink | other
    size: int
    mtime: int | None
    mode: int | None
    link: str
    locator: int  # tar: offset of the data in the (decompressed) stream; zip: header offset
    raw_name: str
    problem: str | None = None
    csize: int = 0  # zip: compressed size
    method: int = 0  # zip: compression method
    crc: int = 0  # zip: CRC-32
    flags: int = 0  # zip: general-purpose flags


def sniff(path: Path) -> str | None:
    """``zip``, ``tar``, ``tar.gz``, ``tar.bz2``, ``tar.xz`` or ``tar.zst`` by content (magic bytes,
    and for a compressed file a tar header in its first decompressed block), else ``None``."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
            if head.startswith(_ZIP):
                return "zip"
            handle.seek(0)
            if head.startswith(_GZIP):
                kind, block = "tar.gz", _first_block(_decompressor("tar.gz", handle))
            elif head.startswith(_BZ2):
                kind, block = "tar.bz2", _first_block(_decompressor("tar.bz2", handle))
            elif head.startswith(_XZ):
                kind, block = "tar.xz", _first_block(_decompressor("tar.xz", handle))
            elif head.startswith(_ZSTD):
                kind, block = "tar.zst", _first_block(_decompressor("tar.zst", handle))
            else:
                kind, block = "tar", handle.read(512)
    except (OSError, EOFError, ValueError, lzma.LZMAError, zipfile.BadZipFile):
        return None
    return kind if _is_tar_header(block) else None


def _first_block(stream: BinaryIO) -> bytes:
    try:
        return stream.read(512)
    except Exception:  # any decoder complaint about the first block: not a compressed tar
        return b""


def _is_tar_header(block: bytes) -> bool:
    """A tar header: the ``ustar`` magic, or a valid header checksum (v7 tar)."""
    if len(block) < 512:
        return False
    if block[257:262] == b"ustar":
        return True
    try:
        stored = int(block[148:156].split(b"\x00", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:512])
    return stored == unsigned and any(block[:100])


def _decompressor(kind: str, handle: BinaryIO) -> BinaryIO:
    if kind == "tar.gz":
        import gzip

        return gzip.GzipFile(fileobj=handle)  # type: ignore[return-value]
    if kind == "tar.bz2":
        return bz2.BZ2File(handle)  # type: ignore[return-value]
    if kind == "tar.xz":
        return lzma.LZMAFile(handle)  # type: ignore[return-value]
    import zstandard

    return zstandard.ZstdDecompressor().stream_reader(handle, read_across_frames=True)


def stream_names(path: Path, kind: str, limit: int) -> list[str]:
    """The first ``limit`` member names of a tar read as a stream (``/`` after folders), without the
    random access :class:`ArchiveReader` sets up: what recognising a bzip2, xz or zstd tar needs
    (those are otherwise decompressed whole before anything is read). A damaged stream ends the
    list early."""
    names: list[str] = []
    with path.open("rb") as raw:
        stream = raw if kind == "tar" else _decompressor(kind, raw)
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for info in tar:
                    name, _ = normalise(info.name)
                    if name:
                        names.append(name + ("/" if info.isdir() else ""))
                    if len(names) >= limit:
                        break
        except Exception:  # tarfile and the decoders raise many kinds on damaged input
            pass
    return names


def normalise(raw: str, limits: ArchiveLimits = DEFAULT_LIMITS) -> tuple[str, str | None]:
    """A member name as a relative ``a/b/c`` path, and the reason it cannot be served, if any."""
    if "\x00" in raw:
        return raw.replace("\x00", "\\x00"), "its name holds a NUL byte"
    if len(raw.encode("utf-8", "surrogateescape")) > limits.max_name:
        return raw[:200], f"its name is longer than {limits.max_name} bytes"
    name = raw.replace("\\", "/") if "/" not in raw else raw
    problem = None
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        problem = "absolute name"
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            problem = "its name climbs out of the archive (..)"
            continue
        parts.append(part)
    return "/".join(parts), problem


class _Window(io.RawIOBase):
    """``size`` bytes of a seekable stream from ``start``, read without disturbing other windows
    (each read seeks first, so several members can be open at once)."""

    def __init__(self, stream: Any, start: int, size: int) -> None:
        self._stream = stream
        self._start = start
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, min(self._size, base + offset))
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        try:
            self._stream.seek(self._start + self._pos)
            data = self._stream.read(want)
        except Exception as exc:  # any decoder's complaint about damaged compressed data
            raise ArchiveError(f"the archive cannot be read here ({type(exc).__name__}: {exc})") from None
        if not data:
            raise ArchiveError("the archive ends inside a member")
        n = len(data)
        memoryview(buffer)[:n] = data
        self._pos += n
        return n


class _Guarded(io.RawIOBase):
    """A zip member's stream whose decoder complaints (a bad CRC, damaged deflate data, a member
    that ends early: ``BadZipFile``, ``zlib.error``, ``EOFError``, ``LZMAError``…) become
    :class:`ArchiveError`, the one refusal its readers expect."""

    def __init__(self, stream: Any, name: str) -> None:
        self._stream = stream
        self._name = name

    def _damaged(self, exc: Exception) -> ArchiveError:
        return ArchiveError(f"{self._name}: damaged in the archive ({type(exc).__name__}: {exc})")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(self._stream.seekable())

    def seek(self, offset: int, whence: int = 0) -> int:
        try:
            return int(self._stream.seek(offset, whence))
        except Exception as exc:  # seeking a zip member decompresses up to the offset
            raise self._damaged(exc) from None

    def tell(self) -> int:
        return int(self._stream.tell())

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._stream.read(len(buffer))
        except Exception as exc:  # any decoder's complaint about damaged compressed data
            raise self._damaged(exc) from None
        n = len(data)
        memoryview(buffer)[:n] = data
        return n

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stream.close()
        super().close()


class ArchiveReader:
    """One tar or zip archive: :meth:`members` once, then :meth:`open` for any listed member.

    ``spool`` is a private folder the caller owns and removes (bzip2/xz/zstd tars are decompressed
    there once); nothing else is ever written.
    """

    def __init__(self, path: Path, *, kind: str | None = None, limits: ArchiveLimits = DEFAULT_LIMITS,
                 spool: Path | None = None) -> None:
        self.path = path
        self.kind = kind or sniff(path)
        if self.kind is None:
            raise ArchiveError(f"{path.name} is not a tar or zip archive")
        self.limits = limits
        self.spool = spool
        self._file: BinaryIO | None = None
        self._stream: Any = None  # a seekable stream over the tar (decompressed)
        self._zip: zipfile.ZipFile | None = None
        self.truncated: str | None = None
        """Why listing stopped before the end, when it did (a damaged or oversized archive)."""

    # -- listing ---------------------------------------------------------------------------------

    def members(self) -> Iterator[ArchiveMember]:
        """Every member, in archive order, once; a damaged archive ends the listing early and says
        why in :attr:`truncated`."""
        if self.kind == "zip":
            yield from self._zip_members()
        else:
            yield from self._tar_members()

    def _zip_members(self) -> Iterator[ArchiveMember]:
        zf = self._zipfile()
        infos = zf.infolist()
        # zipfile holds the central directory; keep our own list only while it is turned into members
        zf.filelist, zf.NameToInfo = [], {}
        total = 0
        for count, info in enumerate(infos):
            if count >= self.limits.max_members:
                self.truncated = f"more than {self.limits.max_members:,} members"
                return
            name, problem = normalise(info.filename, self.limits)
            mode = (info.external_attr >> 16) & 0xFFFF if info.create_system == 3 else None
            kind = "dir" if info.filename.endswith("/") else "file"  # is_dir() fails on an empty name
            link = ""
            if mode is not None and stat.S_ISLNK(mode):
                kind = "symlink"
            elif mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode) and mode & 0o170000:
                kind, problem = "other", problem or "a device file, FIFO or socket"
            if problem is None and kind in ("file", "symlink"):
                problem = self._size_problem(info.file_size, info.compress_size)
                if problem is None and info.flag_bits & 0x1:
                    problem = "an encrypted zip member"
                elif problem is None and info.compress_type not in _ZIP_METHODS:
                    problem = f"compression method {info.compress_type} is not supported"
            total += info.file_size
            if total > self.limits.max_total:
                self.truncated = f"members add up to more than {self.limits.max_total:,} bytes"
                return
            mtime = _zip_time(info.date_time)
            member = ArchiveMember(name, kind, info.file_size, mtime, mode, link, info.header_offset,
                                   info.filename, problem, info.compress_size, info.compress_type, info.CRC,
                                   info.flag_bits)
            if kind == "symlink" and problem is None and info.file_size <= 4096:
                try:
                    target = self._read_zip(member, 4096).decode("utf-8", "surrogateescape")
                except (ArchiveError, UnicodeDecodeError) as exc:
                    member = member._replace(problem=f"an unreadable link ({exc})")
                else:
                    member = member._replace(link=target)
            yield member

    def _size_problem(self, size: int, csize: int) -> str | None:
        if size > self.limits.max_member:
            return f"it declares {size:,} bytes, more than the {self.limits.max_member:,} allowed"
        if size > self.limits.ratio_floor and size > self.limits.max_ratio * max(csize, 1):
            return f"it expands {size / max(csize, 1):,.0f} times (a decompression bomb)"
        return None

    def _tar_members(self) -> Iterator[ArchiveMember]:
        stream = self._tar_stream()
        try:
            tar = tarfile.open(fileobj=stream, mode="r:")  # noqa: SIM115 - iterated here, the stream is ours
        except Exception as exc:  # tarfile and the decoders raise many kinds on damaged input
            raise ArchiveError(f"not a readable tar archive ({type(exc).__name__}: {exc})") from None
        total, count = 0, 0
        while True:
            try:
                info = tar.next()
            except Exception as exc:  # tarfile and the decoders raise many kinds on damaged input
                self.truncated = f"the archive is damaged after {count:,} members ({type(exc).__name__}: {exc})"
                return
            if info is None:
                return
            tar.members = []  # type: ignore[attr-defined]  # tarfile keeps every header it read
            count += 1
            if count > self.limits.max_members:
                self.truncated = f"more than {self.limits.max_members:,} members"
                return
            name, problem = normalise(info.name, self.limits)
            link = info.linkname
            if info.isreg():
                kind = "file"
                if info.sparse is not None:
                    problem = problem or "a sparse member (not supported)"
            elif info.isdir():
                kind = "dir"
            elif info.issym():
                kind = "symlink"
            elif info.islnk():
                kind = "hardlink"
                link, link_problem = normalise(info.linkname, self.limits)
                problem = problem or link_problem
            else:
                kind, problem = "other", problem or "a device file, FIFO or socket"
            if kind == "file" and problem is None:
                problem = self._size_problem(info.size, info.size)
            total += info.size if kind == "file" else 0
            if total > self.limits.max_total:
                self.truncated = f"members add up to more than {self.limits.max_total:,} bytes"
                return
            yield ArchiveMember(name, kind, info.size if kind == "file" else 0, _int64(info.mtime),
                                _int64(info.mode), link, info.offset_data, info.name, problem)

    # -- reading ---------------------------------------------------------------------------------

    def open(self, member: ArchiveMember) -> BinaryIO:
        """A stream over one listed member's content (regular files only)."""
        if member.problem is not None:
            raise ArchiveError(f"{member.name}: refused ({member.problem})")
        if member.kind not in ("file", "symlink"):
            raise ArchiveError(f"{member.name}: a {member.kind}, not a file")
        if self.kind == "zip":
            return self._open_zip(member)
        return io.BufferedReader(_Window(self._tar_stream(), member.locator, member.size), _CHUNK)

    def _open_zip(self, member: ArchiveMember) -> BinaryIO:
        info = zipfile.ZipInfo(member.raw_name)
        info.header_offset = member.locator
        info.compress_size = member.csize
        info.file_size = member.size
        info.compress_type = member.method
        info.CRC = member.crc
        info.flag_bits = member.flags
        try:
            handle = self._zipfile().open(info)
        except (zipfile.BadZipFile, OSError, NotImplementedError, ValueError, RuntimeError, EOFError) as exc:
            raise ArchiveError(f"{member.name}: cannot be read ({type(exc).__name__}: {exc})") from None
        return io.BufferedReader(_Guarded(handle, member.name), _CHUNK)

    def _read_zip(self, member: ArchiveMember, limit: int) -> bytes:
        try:
            with self._open_zip(member) as handle:
                return handle.read(limit)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
            raise ArchiveError(f"{member.name}: cannot be read ({type(exc).__name__})") from None

    def _zipfile(self) -> zipfile.ZipFile:
        if self._zip is None:
            self._file = self.path.open("rb")
            try:
                self._zip = zipfile.ZipFile(self._file)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
                raise ArchiveError(f"not a readable zip archive ({type(exc).__name__}: {exc})") from None
        return self._zip

    def _tar_stream(self) -> Any:
        """A seekable stream over the decompressed tar, made once."""
        if self._stream is not None:
            return self._stream
        if self.kind == "tar":
            self._stream = self.path.open("rb")
        elif self.kind == "tar.gz":
            import indexed_gzip

            # Seek points every 4 MiB: random access costs at most 4 MiB of decompression, and the
            # index about 32 KiB a point (8 MB for a 1 GB archive).
            self._stream = indexed_gzip.IndexedGzipFile(str(self.path), spacing=4 << 20)
        else:
            self._stream = self._spooled()
        return self._stream

    def _spooled(self) -> BinaryIO:
        """bzip2/xz/zstd have no random access: decompress once into the private spool folder."""
        if self.spool is None:
            raise ArchiveError(f"a {self.kind} archive needs a private folder to be read")
        target = self.spool / f"archive-{os.getpid()}-{id(self)}.tar"
        written = 0
        with self.path.open("rb") as raw, open(target, "xb") as sink:
            os.chmod(target, 0o600)
            source = _decompressor(str(self.kind), raw)
            try:
                while chunk := source.read(_CHUNK):
                    written += len(chunk)
                    if written > self.limits.max_total:
                        raise ArchiveError(f"decompresses past {self.limits.max_total:,} bytes")
                    sink.write(chunk)
            except ArchiveError:
                raise
            except Exception as exc:  # any decoder's complaint (zstandard raises ZstdError)
                # A truncated or damaged stream: what came out before the damage is still readable.
                self.truncated = f"the compressed stream is damaged ({type(exc).__name__}: {exc})"
        return target.open("rb")

    def close(self) -> None:
        """Release the archive's files (the spool, if any, belongs to the caller's folder)."""
        for handle in (self._zip, self._stream, self._file):
            if handle is not None:
                with contextlib.suppress(Exception):  # a broken decoder must not mask what went before
                    handle.close()
        self._zip = self._stream = self._file = None


def _int64(value: float | int | None) -> int | None:
    """A header number as an int that fits a 64-bit integer (a pax ``mtime=inf``, a base-256
    field of 2^90 seconds: unknown), else ``None``."""
    try:
        number = int(value) if value else None
    except (OverflowError, ValueError):  # inf, nan
        return None
    return number if number is not None and -(1 << 63) <= number < 1 << 63 else None


def _zip_time(date_time: tuple[int, int, int, int, int, int]) -> int | None:
    """A zip member's DOS local time as seconds since the epoch, read as UTC (zip records no zone)."""
    import calendar

    try:
        return calendar.timegm((*date_time, 0, 0, 0))
    except (ValueError, OverflowError):
        return None


_ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
