"""The acquisition interface: one kind of evidence presented as one device path space.

Parsers ask for ``/private/var/mobile/Library/SMS/sms.db``; the acquisition knows where that lives
in the evidence (a backup file ID, a member of a tar file, a folder). It hashes what it hands out,
never writes to the evidence, and knows which listed files are not stored.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file or folder the acquisition lists, with whatever metadata the evidence records."""

    device_path: str
    kind: str = "file"  # file | dir | symlink
    size: int | None = None
    mode: int | None = None
    birth: datetime | None = None
    modified: datetime | None = None
    changed: datetime | None = None
    stored: bool = True
    locator: str = ""  # where it lives in the evidence (backup file ID, archive member…)
    domain: str = ""
    relative_path: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    """A named part of a bigger artefact (one ``DUMP OF SERVICE`` block of a dumpstate, one
    command output of a sysdiagnose): bytes ``start`` to ``end`` of ``source`` (a device path, or a
    host file when ``host``); ``end=None`` runs to the end of the file."""

    name: str
    source: str
    start: int = 0
    end: int | None = None
    host: bool = False


class _Slice(io.RawIOBase):
    """A read-only window of ``[start, end)`` of an open binary file."""

    def __init__(self, handle: BinaryIO, start: int, end: int | None) -> None:
        self._handle = handle
        self._end = end
        handle.seek(start)
        self._pos = start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        want = len(view) if self._end is None else max(0, min(len(view), self._end - self._pos))
        if want == 0:
            return 0
        data = self._handle.read(want)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self) -> None:
        self._handle.close()
        super().close()


def contained_file(root: Path, path: Path) -> tuple[Path | None, str | None]:
    """``(path, None)`` when ``path`` is a regular file that resolves inside ``root`` (links whose
    target stays inside are followed), else ``(None, why)``: a link out of the evidence, a FIFO,
    a device, a folder. ``root`` must already be resolved.

    Evidence is shaped by others: a bucket folder of a backup made a link to ``/home/…`` would
    otherwise make unmask parse, hash and report a file that is not evidence at all.
    """
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None, None
    if stat.S_ISREG(mode) and _inside(root, Path(os.path.realpath(path.parent))):
        return path, None
    real = Path(os.path.realpath(path))
    if not _inside(root, real):
        return None, f"symbolic link to {real}, outside the evidence"
    try:
        mode = os.stat(real).st_mode
    except OSError:
        return None, None
    if stat.S_ISREG(mode):
        return real, None
    what = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "not a regular file"
    return None, f"{what}, not a file"


def _inside(root: Path, real: Path) -> bool:
    return real == root or real.is_relative_to(root)


def is_regular_file(path: Path) -> bool:
    """Whether ``path`` is a regular file (not a link, FIFO, socket or device, which can block or escape)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def sha256_file(path: Path) -> str:
    """SHA-256 of a regular file on disk, read in chunks."""
    if not is_regular_file(path):
        raise OSError(f"{path} is not a regular file")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def compile_glob(pattern: str) -> re.Pattern[str]:
    """A device-path glob as a regex: ``*`` and ``?`` stay inside one component, ``**/`` spans any."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:[^/]*/)*")
            i += 3
            continue
        char = pattern[i]
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        else:
            parts.append(re.escape(char))
        i += 1
    return re.compile("".join(parts) + r"\Z")


class Acquisition(ABC):
    """Evidence presented as one device path space. Read-only by construction.

    ``kind`` names the acquisition (``ios-backup``); ``platform`` (``ios``, ``android``) chooses the
    parsers that run on it. Besides device paths, an acquisition may hold files of its own (a
    backup's ``Info.plist``: :meth:`host_file`) and named sections of command outputs, mapped
    once per scan (:meth:`sections`) and shared by every parser that reads them.
    """

    kind: ClassVar[str] = "acquisition"
    platform: ClassVar[str] = ""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.real_root = Path(os.path.realpath(root))
        self.refused: dict[str, str] = {}
        """Name → why an entry of the evidence was not read (a link out of it, a FIFO…)."""
        self._hashes: dict[str, str] = {}
        self._other_hashes: dict[str, str] = {}
        self._by_name: dict[str, list[str]] | None = None
        self._sections: dict[str, Section] | None = None

    # -- what subclasses provide ----------------------------------------------------------------

    @abstractmethod
    def entries(self) -> Iterator[FileEntry]:
        """Every file and folder the evidence lists, stored or not."""

    @abstractmethod
    def entry(self, device_path: str) -> FileEntry | None:
        """The entry at a device path, or ``None``."""

    @abstractmethod
    def local_path(self, device_path: str) -> Path | None:
        """The file on disk holding the content at a device path (``None`` if not stored)."""

    def stat(self, device_path: str) -> FileEntry | None:
        """The entry at a device path with whatever metadata the evidence records (size, mode, times)."""
        return self.entry(device_path)

    def metadata(self) -> dict[str, Any]:
        """Facts about the acquisition itself (device, OS version, dates)."""
        return {}

    def timezone(self) -> str | None:
        """The device's time zone (an IANA name or a UTC offset) when the evidence records it;
        parsers of local wall-clock times apply it (:mod:`unmask.timeutil`)."""
        return None

    def collected(self) -> datetime | None:
        """When the evidence was taken (UTC), if known: the year hint for logs without years."""
        return None

    def map_sections(self) -> Mapping[str, Section]:
        """Name → :class:`Section` of every named section the evidence holds (none by default).

        Called once per scan through :meth:`sections`; a subclass splits its command outputs here
        in one pass, so that a 100 MB dumpstate is not split again by every parser that reads it.
        """
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook: most acquisitions hold nothing open
        """Release what the acquisition holds open (nothing, unless a subclass says otherwise)."""

    def host_file(self, name: str) -> Path | None:
        """A file of the acquisition's own (a backup's Info.plist), not part of the device; a link
        out of the evidence is refused (:attr:`refused`)."""
        return self.contained(self.root / name, name)

    def contained(self, path: Path, name: str) -> Path | None:
        """``path`` when it is a regular file inside the evidence (:func:`contained_file`), else
        ``None``, remembering why under ``name`` in :attr:`refused`."""
        found, why = contained_file(self.real_root, path)
        if why is not None:
            self.refuse(name, why)
        return found

    def refuse(self, name: str, why: str) -> None:
        """Record that an entry of the evidence was not read, and why (shown in coverage and info.json)."""
        if len(self.refused) < 10_000:
            self.refused.setdefault(name, why)

    def evidence_files(self) -> Iterator[Path]:
        """Every file of the evidence on disk, for integrity hashing."""
        for path in sorted(self.root.rglob("*")):
            if is_regular_file(path):
                yield path

    # -- shared behaviour ------------------------------------------------------------------------

    def sections(self) -> Mapping[str, Section]:
        """Every named section, mapped once and cached for the whole scan."""
        if self._sections is None:
            self._sections = dict(self.map_sections())
        return self._sections

    def section_names(self) -> Mapping[str, Section]:
        """The section names (a mapping, so ``name in acq.section_names()`` is a lookup)."""
        return self.sections()

    def open_section(self, name: str) -> BinaryIO:
        """A binary stream over one section's bytes; raises FileNotFoundError if there is none."""
        section = self.sections().get(name)
        if section is None:
            raise FileNotFoundError(name)
        path = self.host_file(section.source) if section.host else self.local_path(section.source)
        if path is None or not is_regular_file(path):
            raise FileNotFoundError(section.source)
        handle = path.open("rb")
        return io.BufferedReader(_Slice(handle, section.start, section.end))

    def section_sha256(self, name: str) -> str | None:
        """SHA-256 of one section's bytes, computed once."""
        key = "section:" + name
        if key not in self._other_hashes:
            if name not in self.sections():
                return None
            digest = hashlib.sha256()
            with self.open_section(name) as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
            self._other_hashes[key] = digest.hexdigest()
        return self._other_hashes[key]

    def host_sha256(self, name: str) -> str | None:
        """SHA-256 of a file of the acquisition itself, computed once."""
        key = "host:" + name
        if key not in self._other_hashes:
            path = self.host_file(name)
            if path is None:
                return None
            self._other_hashes[key] = sha256_file(path)
        return self._other_hashes[key]

    def open(self, device_path: str) -> BinaryIO:
        """A binary stream over the content at a device path; raises FileNotFoundError if absent."""
        path = self.local_path(device_path)
        if path is None or not is_regular_file(path):
            raise FileNotFoundError(device_path)
        return path.open("rb")

    def exists(self, device_path: str) -> bool:
        """Whether the evidence stores content at this device path."""
        return self.local_path(device_path) is not None

    def glob(self, pattern: str) -> list[str]:
        """Device paths of stored files matching a glob (``*``, ``?``, ``**/``), sorted."""
        if not any(c in pattern for c in "*?["):
            return [pattern] if self.exists(pattern) else []
        regex = compile_glob(pattern)
        name = pattern.rsplit("/", 1)[-1]
        if any(c in name for c in "*?["):
            candidates: list[str] = [e.device_path for e in self.entries() if e.kind == "file"]
        else:
            candidates = self._names().get(name, [])
        return sorted(p for p in candidates if regex.match(p) and self.exists(p))

    def _names(self) -> dict[str, list[str]]:
        if self._by_name is None:
            index: dict[str, list[str]] = {}
            for e in self.entries():
                if e.kind == "file":
                    index.setdefault(e.device_path.rsplit("/", 1)[-1], []).append(e.device_path)
            self._by_name = index
        return self._by_name

    def read_bytes(self, device_path: str, limit: int | None = None) -> bytes:
        """The content at a device path (up to ``limit`` bytes); raises FileNotFoundError if absent."""
        path = self.local_path(device_path)
        if path is None or not is_regular_file(path):
            raise FileNotFoundError(device_path)
        with path.open("rb") as handle:
            return handle.read() if limit is None else handle.read(limit)

    def sha256(self, device_path: str) -> str | None:
        """SHA-256 of the content at a device path, computed once and remembered."""
        if device_path in self._hashes:
            return self._hashes[device_path]
        path = self.local_path(device_path)
        if path is None:
            return None
        digest = sha256_file(path)
        self._hashes[device_path] = digest
        return digest

    def hashes_read(self) -> dict[str, str]:
        """Device path → SHA-256 of every artefact handed to a parser so far."""
        return dict(self._hashes)
