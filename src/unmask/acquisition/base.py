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
import shutil
import stat
import tempfile
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, NamedTuple

from unmask.acquisition import registry as _registry
from unmask.acquisition.options import OpenOptions
from unmask.budget import BudgetExceeded

_CHUNK = 1 << 20
_HASH_BY_EXTRACTING = 256 << 20
"""Content up to this size that is not a plain file is extracted once when it is hashed."""


class FileEntry(NamedTuple):
    """One file or folder the acquisition lists, with whatever metadata the evidence records.

    A named tuple, not a dataclass: :meth:`Acquisition.listing` hands out one per file of the
    evidence, hundreds of thousands per scan.
    """

    device_path: str
    kind: str = "file"  # file | dir | symlink | other
    size: int | None = None
    mode: int | None = None
    birth: datetime | None = None
    modified: datetime | None = None
    changed: datetime | None = None
    stored: bool = True
    locator: str = ""  # where it lives in the evidence (backup file ID, archive member…)
    domain: str = ""
    relative_path: str = ""
    metadata_ok: bool = True  # False: the evidence holds metadata for it that could not be decoded
    link: str = ""  # a symbolic link's target, as recorded


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
    parsers that run on it; ``label`` says in plain words what it is. A concrete class registers
    itself (:mod:`unmask.acquisition.registry`) and says whether it recognises a path by its
    content (:meth:`detect`), so ``unmask check`` asks the registry rather than a chain of ifs.

    What a subclass provides: :meth:`entry` (one device path), :meth:`listing` (every entry, in
    batches, with its metadata) and :meth:`open` (a stream over the content). Everything else is
    shared: :meth:`materialize` hands a file out as a real file when a library needs one (SQLite),
    extracting it into a private temporary folder (mode 0700, removed by :meth:`close`, hashed as
    it is written); :meth:`local_path` is the shortcut for evidence that is already a plain folder.

    Besides device paths an acquisition may hold files of its own (a backup's ``Info.plist``:
    :meth:`host_file`) and named sections of command outputs, mapped once per scan
    (:meth:`sections`) and shared by every parser that reads them.
    """

    kind: ClassVar[str] = ""
    platform: ClassVar[str] = ""
    label: ClassVar[str] = ""
    own_files: ClassVar[tuple[str, ...]] = ()
    """Files of the acquisition itself that are hashed as evidence on every scan."""
    full_filesystem: ClassVar[bool] = False
    """Whether :meth:`listing` is the device's own file system (a full-filesystem dump), rather than
    a backup's index or an archive of logs: the filesystem parser reads it then."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("kind"):
            _registry.register(cls)

    def __init__(self, root: Path, options: OpenOptions | None = None) -> None:
        self.root = root
        self.options = options or OpenOptions()
        self.real_root = Path(os.path.realpath(root))
        self.refused: dict[str, str] = {}
        """Name → why an entry of the evidence was not read (a link out of it, a FIFO…)."""
        self._hashes: dict[str, str] = {}
        self._other_hashes: dict[str, str] = {}
        self._by_name: dict[str, list[str]] | None = None
        self._sections: dict[str, Section] | None = None
        self._workdir: Path | None = None
        self._remove_workdir: weakref.finalize[Any, Any] | None = None
        self._materialized: dict[str, Path] = {}
        self._extracted = 0
        self._temp_bytes = 0
        self.children: list[Acquisition] = []

    # -- recognising and opening ------------------------------------------------------------------

    @classmethod
    def detect(cls, path: Path) -> Path | None:
        """The root this kind of acquisition would open for ``path`` when its content is of this
        kind (a folder holding exactly one backup gives the backup), else ``None``. Must be cheap
        and must not trust names: it looks at content."""
        return None

    @classmethod
    def open_path(cls, path: Path, options: OpenOptions) -> Acquisition:
        """Open ``path`` (a root :meth:`detect` returned, or one the user forced with ``--kind``)."""
        return cls(path, options)

    # -- what subclasses provide ----------------------------------------------------------------

    @abstractmethod
    def entry(self, device_path: str) -> FileEntry | None:
        """The entry at a device path, or ``None``."""

    @abstractmethod
    def listing(self) -> Iterator[list[FileEntry]]:
        """Every file and folder the evidence lists, stored or not, with its metadata, in batches."""

    def open(self, device_path: str) -> BinaryIO:
        """A binary stream over the content at a device path; raises FileNotFoundError if absent.

        The default serves evidence that is a plain folder (:meth:`local_path`); archives and
        encrypted evidence override it.
        """
        path = self.local_path(device_path)
        if path is None or not is_regular_file(path):
            raise FileNotFoundError(device_path)
        return path.open("rb")

    def local_path(self, device_path: str) -> Path | None:
        """The file on disk already holding exactly the content at a device path, when there is one
        (a plain folder, an unencrypted backup); ``None`` otherwise. Prefer :meth:`materialize`."""
        return None

    def stat(self, device_path: str) -> FileEntry | None:
        """The entry at a device path with whatever metadata the evidence records (size, mode, times)."""
        return self.entry(device_path)

    def metadata(self) -> dict[str, Any]:
        """Facts about the acquisition itself (device, OS version, dates)."""
        return {}

    def artefact_notes(self, device_path: str) -> list[str]:
        """What reading an artefact showed about the evidence that the investigator should know
        (an encrypted file whose size disagrees with the one recorded); added to the coverage of
        the parser that read it."""
        return []

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

    def close(self) -> None:
        """Release what the acquisition holds: nested acquisitions, and the private temporary
        folder with everything extracted into it."""
        for child in self.children:
            child.close()
        self.children.clear()
        if self._workdir is not None:
            if self._remove_workdir is not None:
                self._remove_workdir()  # shutil.rmtree, once
            self._workdir = None
            self._materialized.clear()

    def __enter__(self) -> Acquisition:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def host_file(self, name: str) -> Path | None:
        """A file of the acquisition's own (a backup's Info.plist), not part of the device; a link
        out of the evidence is refused (:attr:`refused`)."""
        return self.contained(self.root / name, name) if self.root.is_dir() else None

    def has_host(self, name: str) -> bool:
        """Whether the acquisition holds a file of its own of this name (see :meth:`host_file`)."""
        return self.host_file(name) is not None

    def open_host(self, name: str) -> BinaryIO:
        """A binary stream over a file of the acquisition's own (a backup's Info.plist, an
        AndroidQF ``packages.json``); archives override it to read the member without a copy.
        Raises FileNotFoundError when there is none."""
        path = self.host_file(name)
        if path is None:
            raise FileNotFoundError(name)
        return path.open("rb")

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
        if self.root.is_file():
            yield self.root
            return
        for path in sorted(self.root.rglob("*")):
            if is_regular_file(path):
                yield path

    def evidence_hashes(self, hash_all: bool = False) -> dict[str, str]:
        """SHA-256 of the evidence itself: the acquisition's own files (or, with ``hash_all``, every
        file of it); an archive is hashed whole."""
        if self.root.is_file():
            return {self.root.name: sha256_file(self.root)}
        if hash_all:
            return {str(path.relative_to(self.root)): sha256_file(path) for path in self.evidence_files()}
        hashes: dict[str, str] = {}
        for name in self.own_files:
            digest = self.host_sha256(name)
            if digest is not None:
                hashes[name] = digest
        return hashes

    # -- shared behaviour ------------------------------------------------------------------------

    @property
    def workdir(self) -> Path:
        """The acquisition's private temporary folder (mode 0700), made on first use and removed by
        :meth:`close`; everything unmask writes while reading the evidence goes there."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="unmask-evidence-"))
            # Also removed if the acquisition is never closed (a library user's slip), at the
            # latest when the interpreter exits normally.
            self._remove_workdir = weakref.finalize(self, shutil.rmtree, self._workdir, ignore_errors=True)
        return self._workdir

    def entries(self) -> Iterator[FileEntry]:
        """Every entry of :meth:`listing`, one at a time."""
        for batch in self.listing():
            yield from batch

    def materialize(self, device_path: str) -> Path:
        """A real file holding the content at a device path, for libraries that need one (SQLite,
        the screening workers): the evidence's own file when it is a plain one, else a copy
        extracted into :attr:`workdir` once per scan, hashed as it is written. Raises
        FileNotFoundError when absent, :class:`BudgetExceeded` past the temporary-disk budget."""
        local = self.local_path(device_path)
        if local is not None:
            return local
        done = self._materialized.get(device_path)
        if done is not None:
            return done
        limit = self.options.temp_mb * 1024 * 1024
        self._extracted += 1
        target = self.workdir / f"{self._extracted:07d}"
        digest = hashlib.sha256()
        written = 0
        try:
            with self.open(device_path) as source, open(target, "xb") as sink:
                os.chmod(target, 0o600)
                while chunk := source.read(_CHUNK):
                    written += len(chunk)
                    if self._temp_bytes + written > limit:
                        raise BudgetExceeded(
                            f"extracting {device_path} would take the acquisition past its temporary-disk "
                            f"budget of {self.options.temp_mb} MB"
                        )
                    digest.update(chunk)
                    sink.write(chunk)
        except BaseException:
            # A member damaged halfway, the budget, an interruption: no partial copy stays behind.
            target.unlink(missing_ok=True)
            raise
        self._temp_bytes += written
        self._hashes.setdefault(device_path, digest.hexdigest())
        self._materialized[device_path] = target
        return target

    def open_nested(self, device_path: str, kind: str | None = None) -> Acquisition:
        """An acquisition held inside this one (a ``bugreport.zip`` or ``backup.ab`` inside an
        AndroidQF acquisition): the member is handed out as a real file and opened like any
        evidence (recognised by content unless ``kind`` says); it is closed with this one."""
        child = _registry.open_acquisition(self.materialize(device_path), kind=kind, options=self.options)
        self.children.append(child)
        return child

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
        if section.host:
            handle: BinaryIO = self.open_host(section.source)
        else:
            handle = self.open(section.source)
        if section.start == 0 and section.end is None:
            return handle
        if not handle.seekable():
            handle.close()
            if section.host:
                raise FileNotFoundError(f"{section.source} cannot be read from the middle")
            handle = self.materialize(section.source).open("rb")
        return io.BufferedReader(_Slice(handle, section.start, section.end))

    def section_sha256(self, name: str) -> str | None:
        """SHA-256 of one section's bytes, computed once."""
        key = "section:" + name
        if key not in self._other_hashes:
            if name not in self.sections():
                return None
            self._other_hashes[key] = _stream_sha256(self.open_section(name))
        return self._other_hashes[key]

    def host_sha256(self, name: str) -> str | None:
        """SHA-256 of a file of the acquisition itself, computed once."""
        key = "host:" + name
        if key not in self._other_hashes:
            if not self.has_host(name):
                return None
            self._other_hashes[key] = _stream_sha256(self.open_host(name))
        return self._other_hashes[key]

    def exists(self, device_path: str) -> bool:
        """Whether the evidence stores content at this device path."""
        if self.local_path(device_path) is not None:
            return True
        entry = self.entry(device_path)
        return entry is not None and entry.kind == "file" and entry.stored

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
        with self.open(device_path) as handle:
            return handle.read() if limit is None else handle.read(limit)

    def sha256(self, device_path: str) -> str | None:
        """SHA-256 of the content at a device path, computed once and remembered."""
        if device_path in self._hashes:
            return self._hashes[device_path]
        local = self.local_path(device_path)
        if local is not None:
            digest = sha256_file(local)
        elif self.exists(device_path):
            entry = self.entry(device_path)
            if entry is not None and entry.size is not None and entry.size <= _HASH_BY_EXTRACTING:
                # Extract while hashing: the parser that asked reads the copy next, instead of
                # decompressing (or decrypting) the member a second time.
                self.materialize(device_path)
                return self._hashes[device_path]
            digest = _stream_sha256(self.open(device_path))
        else:
            return None
        self._hashes[device_path] = digest
        return digest

    def hashes_read(self) -> dict[str, str]:
        """Device path → SHA-256 of every artefact handed to a parser so far."""
        return dict(self._hashes)


def _stream_sha256(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    with handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
