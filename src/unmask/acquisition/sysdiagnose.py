"""An iOS sysdiagnose, as the ``.tar.gz`` the phone writes or as its extracted folder.

A sysdiagnose can be taken on any iPhone with three buttons and no computer, which makes it the
evidence a helpline can ask a person at risk for. The phone writes
``sysdiagnose_YYYY.MM.DD_HH-MM-SS±ZZZZ_<platform>_<device>_<build>.tar.gz`` holding one top folder of
the same name (research/peers.md appendix B; AutismIsForDorks/ios-sysdiagnose-reference
structure/overview.md for iOS 18 and 26; EC-DIGIT-CSIRC/sysdiagnose, whose parsers read the same
paths on iOS 15–18 and 26):

- command outputs at the top (``ps.txt``, ``ps_thread.txt``, ``taskinfo.txt``,
  ``spindump-nosymbols.txt``, ``remotectl_dumpstate.txt``, ``sysdiagnose.log``, …): served as
  **named sections** ``sysdiagnose:<name>`` (also ``summaries/…``), mapped once per scan;
- copies of device files, placed at the device paths they were copied from, so the parsers that
  read a full-filesystem dump read them here too:

  ============================================ ==============================================
  in the sysdiagnose                            device path
  ============================================ ==============================================
  ``system_logs.logarchive/Extra/``             ``/private/var/db/diagnostics/`` (shutdown.log,
                                                iOS 26 ``shutdown.0.log``; SAF shutdownlogs)
  ``crashes_and_spins/``                        ``/private/var/mobile/Library/Logs/CrashReporter/``
                                                (SAF crashlogs; its ``summaries/crashes_and_spins.log``
                                                lists the reports under that device folder)
  ``logs/SystemVersion/SystemVersion.plist``    ``/System/Library/CoreServices/SystemVersion.plist``
  ``logs/Accessibility/TCC.db``                 ``/private/var/mobile/Library/TCC/TCC.db``
  ``WiFi/com.apple.wifi.known-networks.plist``  ``/private/var/preferences/com.apple.wifi.known-networks.plist``
  ``logs/MobileInstallation/``                  ``/private/var/mobile/Library/Logs/MobileInstallation/``
  ``logs/MobileContainerManager/``              ``/private/var/mobile/Library/Logs/MobileContainerManager/``
  ============================================ ==============================================

The archive is read through the tree layer (:mod:`unmask.acquisition.tree`): indexed once, members
streamed through ``indexed_gzip`` seek points, never extracted whole; unsafe members are refused.
Device model, iOS version and build come from the archive's name and its contents
(``logs/SystemVersion/SystemVersion.plist``, ``remotectl_dumpstate.txt``); the name's offset is the
device's time zone at collection (:meth:`timezone`) and its time when the evidence was taken
(:meth:`collected`). A renamed archive still holds its top folder's name; failing both,
``sysdiagnose.log`` names the archive it was writing (``IN_PROGRESS_sysdiagnose_…``, as MVT and
SAF read it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping as MappingType
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from unmask import timeutil
from unmask.acquisition.base import Section
from unmask.acquisition.options import OpenOptions
from unmask.acquisition.tree import Mapping, TreeAcquisition, TreeEntry, link_target, peek_names
from unmask.errors import AcquisitionError, ArtefactError
from unmask.formats import plist

SECTION_PREFIX = "sysdiagnose:"
"""Named sections of a sysdiagnose: ``sysdiagnose:ps.txt``, ``sysdiagnose:summaries/…``."""

# Names at the top of every sysdiagnose, across iOS 15 to 26 (SAF globs; the iOS 18/26 structure
# notes). Two of them under one folder make a sysdiagnose; a name alone never does.
MARKERS = frozenset({
    "crashes_and_spins", "logs", "system_logs.logarchive", "ps.txt", "ps_thread.txt", "taskinfo.txt",
    "sysdiagnose.log", "remotectl_dumpstate.txt", "spindump-nosymbols.txt", "summaries",
})
_FOLDER_MARKERS = frozenset({"crashes_and_spins", "logs", "system_logs.logarchive", "summaries"})

# (device path, path inside the sysdiagnose): most specific first.
DEVICE_COPIES: tuple[tuple[str, str], ...] = (
    ("/private/var/db/diagnostics", "system_logs.logarchive/Extra"),
    ("/private/var/mobile/Library/Logs/CrashReporter", "crashes_and_spins"),
    ("/System/Library/CoreServices/SystemVersion.plist", "logs/SystemVersion/SystemVersion.plist"),
    ("/private/var/mobile/Library/TCC/TCC.db", "logs/Accessibility/TCC.db"),
    ("/private/var/preferences/com.apple.wifi.known-networks.plist", "WiFi/com.apple.wifi.known-networks.plist"),
    ("/private/var/mobile/Library/Logs/MobileInstallation", "logs/MobileInstallation"),
    ("/private/var/mobile/Library/Logs/MobileContainerManager", "logs/MobileContainerManager"),
)
SECTION_FOLDERS = ("summaries",)
"""Folders whose files are named sections too (besides the files at the top)."""

_NAME = re.compile(
    r"sysdiagnose_(?P<date>\d{4}\.\d{2}\.\d{2})_(?P<time>\d{2}-\d{2}-\d{2})(?P<offset>[+-]\d{4})"
    r"(?:_(?P<platform>[^_]+)_(?P<device>.+)_(?P<build>[0-9A-Za-z]+))?"
)
_METADATA_LIMIT = 1 << 20


def parse_name(name: str) -> dict[str, str] | None:
    """The parts of a sysdiagnose's name (file or top folder, with or without ``.tar.gz``):
    ``date``, ``time``, ``offset`` and, when present, ``platform``, ``device``, ``build``."""
    stem = name.rsplit("/", 1)[-1]
    for suffix in (".tar.gz", ".tgz", ".tar"):
        stem = stem.removesuffix(suffix)
    match = _NAME.fullmatch(stem) or _NAME.search(stem)
    if match is None:
        return None
    return {k: v for k, v in match.groupdict().items() if v}


def ios_major_from_build(build: str) -> int | None:
    """The iOS major version an Apple build number belongs to (``21C66`` → 17, ``23B85`` → 26):
    build trains 18–22 are iOS 14–18, and iOS 26 follows train 23 (the year-based numbering)."""
    match = re.match(r"(\d{2})[A-Z]", build)
    if match is None:
        return None
    train = int(match.group(1))
    if 18 <= train <= 22:
        return train - 4
    if train >= 23:
        return train + 3
    return None


def _top_folder(names: list[str]) -> str | None:
    """The folder holding a sysdiagnose's layout in a list of names (``""`` for the root)."""
    seen: dict[str, set[str]] = {}
    for name in names:
        parts = name.strip("/").split("/")
        if len(parts) >= 2 and parts[1] in MARKERS:
            seen.setdefault(parts[0], set()).add(parts[1])
        if parts[0] in MARKERS and (len(parts) > 1 or name.endswith("/") or parts[0] not in _FOLDER_MARKERS):
            seen.setdefault("", set()).add(parts[0])
    found = [top for top, markers in seen.items() if len(markers) >= 2]
    return found[0] if len(found) == 1 else None


def _is_sysdiagnose_folder(folder: Path) -> bool:
    try:
        names = {child.name for child in folder.iterdir()}
    except OSError:
        return False
    return len(names & MARKERS) >= 2 and bool(names & _FOLDER_MARKERS)


class IOSSysdiagnose(TreeAcquisition):
    """An iOS sysdiagnose: the phone's ``.tar.gz`` (read in place) or its extracted folder."""

    kind = "ios-sysdiagnose"
    platform = "ios"
    label = "an iPhone sysdiagnose (the phone's sysdiagnose_….tar.gz, or its extracted folder)"

    @classmethod
    def detect(cls, path: Path) -> Path | None:
        """``path`` when it is a sysdiagnose archive or folder (by its layout: two of the names
        every sysdiagnose holds under one top folder), or the one sysdiagnose folder inside it."""
        if path.is_dir():
            if _is_sysdiagnose_folder(path):
                return path
            try:
                children = [c for c in path.iterdir() if c.is_dir() and not c.is_symlink() and _is_sysdiagnose_folder(c)]
            except OSError:
                return None
            return children[0] if len(children) == 1 else None
        names = peek_names(path)
        if not names:
            return None
        return path if _top_folder(list(names)) is not None else None

    def __init__(self, root: Path, options: OpenOptions | None = None) -> None:
        self.top = ""
        super().__init__(root, options)
        self._meta: dict[str, Any] | None = None
        self._parts: dict[str, str] | None = None

    # -- the layout ------------------------------------------------------------------------------

    def mappings(self) -> list[Mapping]:
        """Where the copies of device files are, under the sysdiagnose's top folder."""
        if not self.tree.is_folder:
            names = self._head_names(20_000)
            top = _top_folder(names)
            if top is None:
                raise AcquisitionError(f"{self.root}: no sysdiagnose layout in this archive")
            self.top = top
        prefix = self.top + "/" if self.top else ""
        return [Mapping(device, prefix + inside) for device, inside in DEVICE_COPIES]

    def _head_names(self, limit: int) -> list[str]:
        names: list[str] = []
        for batch in self.tree.entries():
            for e in batch:
                names.append(e.path + ("/" if e.kind == "dir" else ""))
            if len(names) >= limit:
                break
        return names

    def inside(self, name: str) -> str:
        """The tree name of a path inside the sysdiagnose's top folder."""
        return f"{self.top}/{name}" if self.top else name

    def map_sections(self) -> MappingType[str, Section]:
        """Every file at the top of the sysdiagnose (and in ``summaries/``) as a named section
        ``sysdiagnose:<name>``."""
        sections: dict[str, Section] = {}
        base = self.inside("") if self.top else ""
        for batch in self.tree.entries(self.top) if self.top else self.tree.entries():
            for e in batch:
                if e.kind not in ("file", "hardlink", "symlink") or e.problem is not None:
                    continue
                rel = e.path[len(base):] if base else e.path
                folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
                if folder and folder not in SECTION_FOLDERS:
                    continue
                name = SECTION_PREFIX + rel
                sections[name] = Section(name, e.path, host=True)
        return sections

    def open_section(self, name: str) -> BinaryIO:
        """A stream over one command output of the sysdiagnose (links followed inside it)."""
        section = self.sections().get(name)
        if section is None:
            raise FileNotFoundError(name)
        entry = self._entry_by_name(section.source)
        if entry is None:
            raise FileNotFoundError(name)
        return self.tree.open(entry)

    def _entry_by_name(self, tree_name: str) -> TreeEntry | None:
        entry = self.tree.get(tree_name)
        for _ in range(self.MAX_HOPS):
            if entry is None or entry.kind not in ("symlink", "hardlink"):
                break
            if entry.kind == "hardlink":
                entry = self.tree.get(entry.link)
                continue
            target = entry.link
            resolved = link_target(entry.path, target)
            if resolved is None:
                self.refuse(tree_name, f"a link to {target}, which climbs out of the evidence")
                return None
            if target.startswith("/"):
                self.refuse(tree_name, f"a link to {target}, outside the sysdiagnose")
                return None
            entry = self.tree.get(resolved)
        if entry is not None and entry.problem is not None:
            self.refuse(tree_name, entry.problem)
            raise ArtefactError(f"refused: {entry.problem}")
        return entry if entry is not None and entry.kind == "file" else None

    def evidence_hashes(self, hash_all: bool = False) -> dict[str, str]:
        """The archive hashed whole; for an extracted folder, its command outputs (every file with
        ``hash_all``)."""
        if self.root.is_file() or hash_all:
            return super().evidence_hashes(hash_all)
        hashes: dict[str, str] = {}
        for name in sorted(self.sections()):
            digest = self.section_sha256(name)
            if digest is not None:
                hashes[name.removeprefix(SECTION_PREFIX)] = digest
        return hashes

    def host_file(self, name: str) -> Path | None:
        """A sysdiagnose has no files of its own beside the device's and its command outputs."""
        return None

    # -- what the evidence says about itself -----------------------------------------------------

    def _read_inside(self, name: str, limit: int = _METADATA_LIMIT) -> bytes | None:
        try:
            entry = self._entry_by_name(self.inside(name))
            if entry is None:
                return None
            with self.tree.open(entry) as handle:
                return handle.read(limit)
        except (OSError, ArtefactError):
            return None

    def _name_parts(self) -> dict[str, str]:
        if self._parts is None:
            self._parts = self._find_name_parts()
        return self._parts

    def _find_name_parts(self) -> dict[str, str]:
        for candidate in (self.top, self.root.name):
            parts = parse_name(candidate) if candidate else None
            if parts is not None:
                return {**parts, "name": candidate.removesuffix(".tar.gz")}
        log = self._read_inside("sysdiagnose.log", 256 * 1024)
        if log:
            found = re.search(rb"sysdiagnose_\d{4}\.\d{2}\.\d{2}_\d{2}-\d{2}-\d{2}[+-]\d{4}[^\s/]*", log)
            if found:
                text = found.group(0).decode("ascii", "replace")
                parts = parse_name(text)
                if parts is not None:
                    return {**parts, "name": text.removesuffix(".tar.gz")}
        return {}

    def metadata(self) -> dict[str, Any]:
        """The device and the moment: model, iOS version and build, the archive's name, when it
        was taken (UTC) and the device's UTC offset then."""
        if self._meta is not None:
            return dict(self._meta)
        parts = self._name_parts()
        meta: dict[str, Any] = {}
        if parts.get("name"):
            meta["sysdiagnose_name"] = parts["name"]
        if parts.get("device"):
            meta["device"] = parts["device"]
        if parts.get("build"):
            meta["build"] = parts["build"]
        version = self._read_inside("logs/SystemVersion/SystemVersion.plist")
        if version:
            try:
                values = plist.load_dict(version)
            except ArtefactError:
                values = {}
            if isinstance(values.get("ProductVersion"), str):
                meta["ios_version"] = values["ProductVersion"]
            if isinstance(values.get("ProductBuildVersion"), str):
                meta["build"] = values["ProductBuildVersion"]
        dump = self._read_inside("remotectl_dumpstate.txt")
        if dump:
            for key, target in (("ProductType", "product_type"), ("OSVersion", "ios_version"),
                                ("BuildVersion", "build")):
                found = re.search(rb"^\s*" + key.encode() + rb"\s*=>\s*(\S+)\s*$", dump, re.MULTILINE)
                if found and target not in meta:
                    meta[target] = found.group(1).decode("utf-8", "replace")[:64]
        if "ios_version" not in meta and meta.get("build"):
            major = ios_major_from_build(str(meta["build"]))
            if major is not None:
                meta["ios_version"] = str(major)
                meta["ios_version_from"] = "build number"
        taken = self.collected()
        if taken is not None:
            meta["sysdiagnose_date"] = taken.isoformat()
        if parts.get("offset"):
            meta["utc_offset"] = parts["offset"]
        self._meta = meta
        return dict(meta)

    def timezone(self) -> str | None:
        """The device's UTC offset when the sysdiagnose was taken, from its name (``-0500``)."""
        return self._name_parts().get("offset")

    def collected(self) -> datetime | None:
        """When the sysdiagnose was taken (UTC), from its name."""
        parts = self._name_parts()
        if not all(k in parts for k in ("date", "time", "offset")):
            return None
        wall = timeutil.parse_wall(f"{parts['date']}_{parts['time']}{parts['offset']}", ["%Y.%m.%d_%H-%M-%S%z"])
        return wall.value if wall is not None else None
