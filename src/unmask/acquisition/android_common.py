"""What every Android acquisition shares: a tree of files with files of its own, named sections of
command outputs split once per scan, the device time zone, and acquisitions nested inside.

Name spaces (DESIGN.md):

- **device paths** where the evidence holds copies of device files (AndroidQF ``logs/`` and
  ``tmp/``, a bugreport's ``FS/``, the app folders of an ``.ab`` backup);
- **files of the acquisition's own** (AndroidQF ``packages.json``, ``files.json`` …), read with
  :meth:`~unmask.acquisition.base.Acquisition.open_host`;
- **named sections** of command outputs: ``getprop``, ``settings:secure``, ``ps``, ``services``,
  ``selinux``, ``env``, ``logcat``, ``logcat:previous``, ``dumpsys:<service>`` (one per ``DUMP OF
  SERVICE`` block), ``dumpstate:<title>`` for the other dumpstate sections. The same name means
  the same command output whichever acquisition holds it, so one parser reads ``dumpsys:package``
  from an AndroidQF ``dumpsys.txt`` and from a bugreport alike.

Section delimiters are those AOSP writes: ``dumpsys`` prints ``DUMP OF SERVICE <name>:`` (or
``DUMP OF SERVICE <CRITICAL|HIGH|NORMAL> <name>:`` for priority dumps, Android 8+) after a line of
79 dashes, and ``--------- N.NNNs was the duration of dumpsys <name>, ending at: <local time>``
after it (frameworks/native/cmds/dumpsys/dumpsys.cpp, ``writeDumpHeader``/``writeDumpFooter``);
``dumpstate`` titles each command ``------ TITLE (command) ------`` and closes it with ``------
N.NNNs was the duration of 'TITLE' ------`` (frameworks/native/cmds/dumpstate, ``DurationReporter``).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from unmask import timeutil
from unmask.acquisition.base import Acquisition, FileEntry, Section
from unmask.acquisition.options import OpenOptions
from unmask.acquisition.tree import TreeAcquisition, TreeEntry, open_tree
from unmask.budget import BudgetExceeded
from unmask.errors import AcquisitionError, ArtefactError, UnmaskError
from unmask.formats.text import iter_lines, split_sections

_DUMPSYS = re.compile(r"DUMP OF SERVICE (?:(?:CRITICAL|HIGH|NORMAL) )?(\S+):\Z")
_DUMPSTATE = re.compile(r"------ (?!\d+\.\d+s was the duration)(.+?) \((.*)\) ------\Z")
# dumpstate section titles whose content other acquisitions hold as plain command outputs.
_TITLES = {
    "SYSTEM PROPERTIES": "getprop",
    "PROCESSES AND THREADS": "ps",
    "SYSTEM LOG": "logcat",
    "EVENT LOG": "logcat:events",
    "RADIO LOG": "logcat:radio",
    "LAST LOGCAT": "logcat:previous",
}
_CHUNK = 1 << 20


def section_header(line: str) -> str | None:
    """The section name a dumpstate or dumpsys header line starts, else ``None``."""
    if not line.startswith(("DUMP OF SERVICE ", "------ ")):
        return None
    match = _DUMPSYS.match(line)
    if match:
        return "dumpsys:" + match.group(1)
    match = _DUMPSTATE.match(line)
    if match:
        title = match.group(1).strip()
        return _TITLES.get(title, "dumpstate:" + title)
    return None


def map_text_sections(handle: BinaryIO, source: str, *, host: bool) -> dict[str, Section]:
    """Every section of a dumpstate or ``dumpsys`` text, mapped in one pass (byte ranges); a name
    seen again (a service dumped at two priorities) is kept as ``name#2``, ``name#3`` …"""
    found: dict[str, Section] = {}
    for part in split_sections(handle, section_header):
        if not part.name:
            continue
        name, n = part.name, 1
        while name in found:
            n += 1
            name = f"{part.name}#{n}"
        found[name] = Section(name, source, part.start, part.end, host=host)
    return found


_PROP = re.compile(r"\[([^\]]*)\]: \[(.*)\]\Z")


def getprop_value(lines: Iterator[str], key: str) -> str | None:
    """The value of one property in ``getprop`` output (``[key]: [value]`` lines)."""
    for line in lines:
        match = _PROP.match(line.strip())
        if match and match.group(1) == key:
            return match.group(2)
    return None


class AndroidTree(TreeAcquisition):
    """An Android acquisition that is a tree of files (folder or archive), with files of its own
    under :attr:`prefix`, named sections, and nested acquisitions whose device paths and sections
    it presents as its own where it has none (its own win)."""

    platform = "android"
    prefix = ""
    """The tree folder holding the acquisition's own files ("" when they are at the root)."""

    def __init__(self, root: Path, options: OpenOptions | None = None, *, source: Path | None = None) -> None:
        if source is None:
            super().__init__(root, options)
        else:
            # The evidence had to be decrypted first: the tree is the decrypted copy in the
            # private folder, the evidence (hashed, reported) stays ``root``.
            Acquisition.__init__(self, root, options)
            self.tree = open_tree(self, source)
            for name, why in self.tree.refused.items():
                self.refuse(name, why)
            if self.tree.truncated:
                self.refuse("(the archive)", self.tree.truncated)
            self._mappings = self.mappings()
        self._copies: dict[str, Path] = {}
        self._child_sections: dict[str, Acquisition] = {}
        self._zone: str | bool | None = False

    # -- files of the acquisition's own --------------------------------------------------------

    def tree_name(self, name: str) -> str:
        """The tree name of one of the acquisition's own files."""
        return f"{self.prefix}/{name}" if self.prefix else name

    def _own(self, name: str) -> TreeEntry | None:
        entry = self.tree.get(self.tree_name(name))
        if entry is None or entry.kind != "file":
            return None
        if entry.problem is not None:
            self.refuse(name, entry.problem)
            return None
        return entry

    def has_host(self, name: str) -> bool:
        """Whether the acquisition holds this file of its own."""
        return self._own(name) is not None

    def host_file(self, name: str) -> Path | None:
        """The file itself for a folder (no copy); ``None`` for an archive (use :meth:`open_host`)."""
        entry = self._own(name)
        return self.tree.local_path(entry) if entry is not None else None

    def open_host(self, name: str) -> BinaryIO:
        """A stream over a file of the acquisition's own, read from the tree without extraction."""
        entry = self._own(name)
        if entry is None:
            raise FileNotFoundError(name)
        return self.tree.open(entry)

    def own_names(self, pattern: str) -> list[str]:
        """Names of the acquisition's own files matching a glob (``settings_*.txt``), sorted."""
        regex = re.compile(_glob_regex(pattern))
        out: list[str] = []
        base = self.prefix + "/" if self.prefix else ""
        for batch in self.tree.entries(self.prefix):
            for e in batch:
                if e.kind == "file" and e.path.startswith(base):
                    rest = e.path[len(base):]
                    if regex.match(rest):
                        out.append(rest)
        return sorted(out)

    def local_copy(self, name: str) -> Path:
        """A seekable file on disk with the content of one of the acquisition's own files: the file
        itself in a folder, else a copy made once in the private folder (within the temporary-disk
        budget), so that its sections are read without decompressing from the start each time."""
        local = self.host_file(name)
        if local is not None:
            return local
        done = self._copies.get(name)
        if done is not None:
            return done
        limit = self.options.temp_mb * 1024 * 1024
        target = self.workdir / f"own-{len(self._copies):05d}"
        digest = hashlib.sha256()
        with self.open_host(name) as source, open(target, "xb") as sink:
            os.chmod(target, 0o600)
            while chunk := source.read(_CHUNK):
                self._temp_bytes += len(chunk)
                if self._temp_bytes > limit:
                    sink.close()
                    target.unlink(missing_ok=True)
                    raise BudgetExceeded(f"copying {name} would pass the temporary-disk budget of "
                                         f"{self.options.temp_mb} MB")
                digest.update(chunk)
                sink.write(chunk)
        self._other_hashes.setdefault("host:" + name, digest.hexdigest())
        self._copies[name] = target
        return target

    # -- sections ------------------------------------------------------------------------------

    def text_sections(self, name: str) -> dict[str, Section]:
        """The dumpstate/dumpsys sections of one file of the acquisition's own."""
        try:
            with self.local_copy(name).open("rb") as handle:
                return map_text_sections(handle, name, host=True)
        except (OSError, UnmaskError) as exc:
            self.refuse(name, f"its sections could not be mapped ({exc})")
            return {}

    def whole(self, section: str, name: str) -> dict[str, Section]:
        """A section that is a whole file of the acquisition's own, when it holds one."""
        return {section: Section(section, name, host=True)} if self.has_host(name) else {}

    def open_section(self, name: str) -> BinaryIO:
        """A stream over one section: the acquisition's own, else a nested acquisition's."""
        self.sections()
        child = self._child_sections.get(name)
        if child is not None:
            return child.open_section(name)
        section = self.sections().get(name)
        if section is None:
            raise FileNotFoundError(name)
        if section.host and (section.start or section.end is not None):
            handle = self.local_copy(section.source).open("rb")
            return io.BufferedReader(_window(handle, section.start, section.end))
        return super().open_section(name)

    def map_sections(self) -> Mapping[str, Section]:
        """The acquisition's own sections (:meth:`own_sections`), then those of nested
        acquisitions it does not hold itself."""
        own = dict(self.own_sections())
        for child in self.children:
            for name, section in child.sections().items():
                if name not in own:
                    own[name] = section
                    self._child_sections[name] = child
        return own

    def own_sections(self) -> Mapping[str, Section]:
        """Sections of the acquisition's own files (none by default)."""
        return {}

    def section_lines(self, name: str) -> Iterator[str]:
        """The text lines of one section (for the acquisition's own look-ups: the time zone)."""
        with self.open_section(name) as handle:
            for line in iter_lines(handle, max_line=1 << 16):
                yield line.text

    # -- time ------------------------------------------------------------------------------------

    def timezone(self) -> str | None:
        """``persist.sys.timezone`` from the ``getprop`` section, when there is one."""
        if self._zone is False:
            zone = None
            if "getprop" in self.sections():
                try:
                    zone = getprop_value(self.section_lines("getprop"), "persist.sys.timezone") or None
                except (OSError, ArtefactError):
                    zone = None
            self._zone = zone
        return self._zone if isinstance(self._zone, str) else None

    # -- nested acquisitions: their device paths where this one has none ------------------------

    def nest(self, name: str, kind: str | None = None) -> Acquisition | None:
        """Open one of the acquisition's own files as a nested acquisition (a ``bugreport.zip``, a
        ``backup.ab``); one that cannot be opened (damaged, encrypted without its password) is
        refused with the reason and the scan goes on without it."""
        try:
            path = self.local_copy(name)
            from unmask.acquisition.registry import open_acquisition

            child = open_acquisition(path, kind=kind, options=self.options)
        except (OSError, UnmaskError) as exc:
            self.refuse(name, f"not read: {exc}")
            return None
        self.children.append(child)
        return child

    def entry(self, device_path: str) -> FileEntry | None:
        """The entry at a device path, here or in a nested acquisition."""
        found = super().entry(device_path)
        if found is None:
            for child in self.children:
                found = child.entry(device_path)
                if found is not None:
                    break
        return found

    def _child_for(self, device_path: str) -> Acquisition | None:
        # This tree's own entry only: ``self.entry`` (and so ``super().exists``) also answers for
        # the nested acquisitions, which would send their files to this tree's ``open``.
        own = TreeAcquisition.entry(self, device_path)
        if own is not None and own.kind == "file" and own.stored:
            return None
        return next((c for c in self.children if c.exists(device_path)), None)

    def exists(self, device_path: str) -> bool:
        """Whether this acquisition or a nested one stores a file at a device path."""
        return super().exists(device_path) or any(c.exists(device_path) for c in self.children)

    def open(self, device_path: str) -> BinaryIO:
        """A stream over a device file, here or in a nested acquisition."""
        child = self._child_for(device_path)
        return child.open(device_path) if child is not None else super().open(device_path)

    def local_path(self, device_path: str) -> Path | None:
        """The file on disk for a device file of a folder, here or in a nested acquisition."""
        child = self._child_for(device_path)
        return child.local_path(device_path) if child is not None else super().local_path(device_path)

    def glob(self, pattern: str) -> list[str]:
        """Device paths matching a glob, here and in nested acquisitions."""
        found = set(super().glob(pattern))
        for child in self.children:
            found.update(child.glob(pattern))
        return sorted(found)

    def listing(self) -> Iterator[list[FileEntry]]:
        """Every entry, then every entry of the nested acquisitions."""
        yield from super().listing()
        for child in self.children:
            yield from child.listing()

    def sha256(self, device_path: str) -> str | None:
        """SHA-256 of a device file, here or in a nested acquisition."""
        child = self._child_for(device_path)
        return child.sha256(device_path) if child is not None else super().sha256(device_path)

    def hashes_read(self) -> dict[str, str]:
        """Artefacts read here and in nested acquisitions."""
        out = super().hashes_read()
        for child in self.children:
            out.update(child.hashes_read())
        return out

    def nested_refused(self) -> None:
        """Copy what nested acquisitions refused into this one's list (shown in coverage)."""
        for child in self.children:
            for name, why in child.refused.items():
                self.refuse(f"{child.kind}: {name}", why)

    def close(self) -> None:
        """Release the tree, the nested acquisitions and the private folder."""
        self._copies.clear()
        super().close()


def _window(handle: BinaryIO, start: int, end: int | None) -> io.RawIOBase:
    from unmask.acquisition.base import _Slice

    return _Slice(handle, start, end)


def _glob_regex(pattern: str) -> str:
    return "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in pattern) + r"\Z"


def read_json(acq: Acquisition, name: str, limit: int = 64 << 20) -> Any:
    """A small JSON file of the acquisition's own (``acquisition.json``), or ``None`` when it is
    absent, too big or not JSON (the evidence may be damaged; the parsers report that)."""
    import json

    try:
        with acq.open_host(name) as handle:
            data = handle.read(limit + 1)
    except (OSError, UnmaskError):
        return None
    if len(data) > limit:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def wall_or_none(text: object, zone: str | None) -> datetime | None:
    """A local ``YYYY-MM-DD HH:MM:SS`` time (or ISO 8601) in the device zone, as UTC."""
    if not isinstance(text, str) or not text:
        return None
    found = timeutil.parse_iso(text, zone=timeutil.zone(zone))
    return found.value if found is not None else None


def require(condition: bool, message: str) -> None:
    """Raise :class:`AcquisitionError` when the evidence is not what it claims."""
    if not condition:
        raise AcquisitionError(message)
