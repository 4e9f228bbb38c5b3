"""An iOS full-filesystem dump (a folder, a ``.tar`` in any compression, or a ``.zip``) as one
device path space.

Full-filesystem extractions (checkm8-class tools, agent-based and commercial extractors) arrive as
a tree of the device's own file system, in one of a few shapes, which :func:`find_layout`
recognises by content, never by the file name:

- the device root: ``private/var/…`` next to ``System/``, ``Applications/``, ``usr/`` (often with
  the ``var``, ``etc`` and ``tmp`` links of the real root), or only part of it;
- the same without the leading ``private/`` (``var/mobile/…``): ``/private/var`` is mapped onto
  ``var``, so parsers keep asking for ``/private/var/…``;
- the contents of ``/private/var`` alone (``mobile/``, ``containers/``, ``root/``, ``db/``…), as a
  ``tar -C /private/var`` makes;
- any of these inside one to three wrapping folders (``dump/``, ``FileSystem/``, a case number).

Device paths are always absolute (``/private/var/mobile/…``). The tree is indexed once
(:mod:`unmask.acquisition.tree`): nothing is extracted, links are followed inside the dump only,
and its listing streams in batches for the filesystem parser.

Device details come from the dump itself: ``/System/Library/CoreServices/SystemVersion.plist``
(ProductName, ProductVersion, ProductBuildVersion), lockdown's ``data_ark.plist``
(``-DeviceName``, ``-TimeZone``, keys as iLEAPP's dataArk artifact reads them) and the
MobileGestalt cache (``CacheExtra`` values under the obfuscated key names MobileGestalt uses:
base64 of MD5(``"MGCopyAnswer" + name``), 22 characters; ``h9jDsbgj7xIVeIQ8S3/X3Q`` is
``ProductType``). The time zone also comes from the ``/private/var/db/timezone/localtime`` link.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from unmask import timeutil
from unmask.acquisition.base import FileEntry
from unmask.acquisition.options import OpenOptions
from unmask.acquisition.tree import Mapping, TreeAcquisition, TreeEntry, peek_names
from unmask.errors import AcquisitionError, ArtefactError
from unmask.formats import plist
from unmask.formats.archive import DEFAULT_LIMITS, ArchiveLimits

SYSTEM_VERSION = "/System/Library/CoreServices/SystemVersion.plist"
DATA_ARK = "/private/var/root/Library/Lockdown/data_ark.plist"
GESTALT = (
    "/private/var/containers/Shared/SystemGroup/systemgroup.com.apple.mobilegestaltcache/"
    "Library/Caches/com.apple.MobileGestalt.plist"
)
LOCALTIME = "/private/var/db/timezone/localtime"

# Names only iOS has: Apple's own iOS apps and SpringBoard (macOS has a SystemVersion.plist too).
_IOS_APPS = "MobileSMS|MobileSafari|Preferences|MobilePhone|MobileSlideShow|MobileCal|MobileNotes|MobileMail"
_WRAP = r"((?:[^/]+/){0,3}?)"
_VAR_SIBLINGS = ("containers", "root", "db", "wireless", "preferences", "installd", "Keychains")
# Folders of /private/var only iOS has (macOS has root, db and preferences too).
_IOS_VAR = ("mobile", "containers", "wireless", "installd", "Keychains", "networkd")
_ROOT_MARKERS = (
    re.compile(_WRAP + r"private/var/(?:" + "|".join(_IOS_VAR) + ")/"),
    re.compile(_WRAP + r"System/Library/CoreServices/SpringBoard\.app/"),
    re.compile(_WRAP + rf"Applications/(?:{_IOS_APPS})\.app/"),
)
_NO_PRIVATE_MARKER = re.compile(_WRAP + r"var/mobile/")
_VAR_MARKER = re.compile(_WRAP + r"mobile/Library/")
_PEEK = 20_000


def _gestalt_key(name: str) -> str:
    """MobileGestalt's obfuscated name of an answer (see the module docstring)."""
    return base64.b64encode(hashlib.md5(("MGCopyAnswer" + name).encode()).digest()).decode()[:22]


def find_layout(names: Iterable[str]) -> tuple[str, str] | None:
    """``(prefix, layout)`` of a dump from its member names (folders end with ``/`` or are implied
    by deeper names): ``layout`` is ``root`` (the device root, with or without ``private/``) or
    ``var`` (the contents of ``/private/var``); ``prefix`` is the wrapping folders (``""`` or
    ``a/b/``). ``None`` when the names are not an iOS dump's."""
    var_prefixes: dict[str, set[str]] = {}
    no_private: str | None = None
    for name in names:
        for marker in _ROOT_MARKERS:
            found = marker.match(name)
            if found:
                return found.group(1), "root"
        found = _NO_PRIVATE_MARKER.match(name)
        if found and no_private is None:
            no_private = found.group(1)
        found = _VAR_MARKER.match(name)
        if found:
            var_prefixes.setdefault(found.group(1), set())
        for prefix, seen in var_prefixes.items():
            if name.startswith(prefix):
                top = name[len(prefix) :].split("/", 1)[0]
                if top in _VAR_SIBLINGS:
                    seen.add(top)
    if no_private is not None:
        return no_private, "root"
    for prefix, seen in sorted(var_prefixes.items(), key=lambda kv: len(kv[0])):
        if seen:
            return prefix, "var"
    return None


def _is_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _ios_system_version(path: Path) -> bool:
    """Whether a SystemVersion.plist on disk names iOS (macOS has one too)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode) or os.lstat(path).st_size > 1 << 20:
            return False
        value = plist.load_dict(path.read_bytes())
    except (OSError, ArtefactError):
        return False
    name = str(value.get("ProductName", ""))
    return name in ("iPhone OS", "iOS", "iPadOS")


def _folder_layout(folder: Path) -> str | None:
    """The layout of a folder that is itself a dump's root, or ``None``."""
    if _is_dir(folder / "var" / "mobile") or any(
        _is_dir(folder / "private" / "var" / sub) for sub in _IOS_VAR
    ):
        return "root"
    if _ios_system_version(folder / "System" / "Library" / "CoreServices" / "SystemVersion.plist"):
        return "root"
    if _is_dir(folder / "System" / "Library" / "CoreServices" / "SpringBoard.app"):
        return "root"
    if _is_dir(folder / "mobile" / "Library") and any(_is_dir(folder / s) for s in _VAR_SIBLINGS):
        return "var"
    return None


def _find_folder_root(path: Path, depth: int = 3, budget: int = 400) -> Path | None:
    """The folder at most ``depth`` levels under ``path`` that is a dump's root (breadth first,
    looking at no more than ``budget`` folders, never through links)."""
    level = [path]
    seen = 0
    for _ in range(depth + 1):
        nxt: list[Path] = []
        for folder in level:
            seen += 1
            if seen > budget:
                return None
            if _folder_layout(folder) is not None:
                return folder
            try:
                with os.scandir(folder) as it:
                    nxt.extend(Path(e.path) for e in it if e.is_dir(follow_symlinks=False))
            except OSError:
                continue
        level = sorted(nxt)
        if not level:
            return None
    return None


def _fact(value: object) -> str | None:
    if value is None or isinstance(value, dict | list | bytes | bool):
        return None
    text = str(value).strip()
    return text[:256] if text else None


class IOSFilesystem(TreeAcquisition):
    """An iOS full-filesystem dump: a folder, a tar (plain, gzip, bzip2, xz, zstd) or a zip."""

    kind = "ios-fs"
    platform = "ios"
    label = (
        "an iPhone full-filesystem dump: a folder, .tar (.gz, .bz2, .xz, .zst) or .zip, with or without "
        "private/ or a wrapping folder"
    )
    full_filesystem = True

    @classmethod
    def detect(cls, path: Path) -> Path | None:
        """A folder holding a dump (its root, up to three folders down), or an archive whose first
        member names are a dump's."""
        if path.is_dir():
            if path.is_symlink():
                return None
            return _find_folder_root(path)
        names = peek_names(path, _PEEK)
        if not names:
            return None
        return path if find_layout(names) is not None else None

    @classmethod
    def open_path(cls, path: Path, options: OpenOptions) -> IOSFilesystem:
        """Open the dump at ``path`` (a folder is opened at the dump's root when it lies deeper)."""
        if path.is_dir():
            path = _find_folder_root(path) or path
        return cls(path, options)

    def __init__(self, root: Path, options: OpenOptions | None = None, *,
                 limits: ArchiveLimits = DEFAULT_LIMITS) -> None:
        self.layout: tuple[str, str] | None = None
        self._plists: dict[str, dict[str, Any]] = {}
        self._collected: datetime | bool | None = False
        super().__init__(root, options, limits=limits)

    # -- mapping ---------------------------------------------------------------------------------

    def mappings(self) -> list[Mapping]:
        """Device paths onto the tree, from the layout found in the tree's own names."""
        if self.tree.is_folder:
            layout = _folder_layout(self.root)
            found = ("", layout) if layout is not None else None
        else:
            names: list[str] = []
            for batch in self.tree.entries():
                names.extend(e.path + ("/" if e.kind == "dir" else "") for e in batch)
                if len(names) >= _PEEK:
                    break
            found = find_layout(names)
        if found is None:
            raise AcquisitionError(
                f"{self.root}: not an iOS full-filesystem dump (found neither private/var/mobile, var/mobile, "
                "the contents of /private/var, nor an iOS System folder)"
            )
        self.layout = found
        prefix, layout = found
        base = prefix.rstrip("/")
        if layout == "var":
            return [Mapping("/private/var", base)]
        rules: list[Mapping] = []
        for short in ("var", "etc", "tmp"):
            long_name = f"{prefix}private/{short}"
            short_name = f"{prefix}{short}"
            entry = self.tree.get(short_name)
            short_is_folder = (entry is not None and entry.kind == "dir") or (
                entry is None and self.tree.exists_prefix(short_name)
            )
            if short_is_folder and not self.tree.exists_prefix(long_name):
                rules.append(Mapping(f"/private/{short}", short_name))
        rules.append(Mapping("", base))
        return rules

    def _file_entry(self, device_path: str, e: TreeEntry) -> FileEntry:
        """Only the modification time: the change and birth times of an extracted folder are the
        extraction host's (an archive records none), and a quarter of a million entries should not
        pay for converting them."""
        kind = e.kind if e.kind in ("file", "dir", "symlink") else ("file" if e.kind == "hardlink" else "other")
        mtime = e.mtime
        # Whole seconds (every archive; folders extracted from one) take timeutil's fast path.
        modified = timeutil.unix_int(int(mtime)) if type(mtime) is float and mtime.is_integer() else timeutil.unix(mtime)
        return FileEntry(device_path, kind, e.size, e.mode, None, modified, None,
                         e.problem is None and kind == "file", e.path, link=e.link)

    def listing(self) -> Iterator[list[FileEntry]]:
        """Every entry of the dump with the device path and the metadata a dump keeps, read
        straight from the tree index (the filesystem parser reads every one of them)."""
        unix_int, unix = timeutil.unix_int, timeutil.unix
        kinds = {"file": "file", "dir": "dir", "symlink": "symlink", "hardlink": "file"}
        tree_root = self._mappings[0].tree if len(self._mappings) == 1 and not self._mappings[0].device else None
        strip = len(tree_root) + 1 if tree_root else 0
        for rows in self.tree.rows("path, kind, size, mode, mtime, link, problem"):
            out: list[FileEntry] = []
            for name, kind, size, mode, mtime, link, problem in rows:
                if tree_root is None:
                    device = self.to_device(name)
                    if device is None:
                        continue
                elif tree_root == "":
                    device = "/" + name
                elif name.startswith(tree_root) and name[strip - 1 : strip] == "/":
                    device = "/" + name[strip:]
                elif name == tree_root:
                    device = "/"
                else:
                    continue
                kind = kinds.get(kind, "other")
                if type(mtime) is float and mtime.is_integer():
                    mtime = int(mtime)
                modified = unix_int(mtime) if type(mtime) is int else unix(mtime)
                out.append(FileEntry(device, kind, size, mode, None, modified, None,
                                     problem is None and kind == "file", name, link=link))
            if out:
                yield out

    def host_file(self, name: str) -> Path | None:
        """A dump has no files of its own besides the device's (a backup's Info.plist has no
        counterpart): nothing at the dump's root is read as anything but a device file."""
        return None

    # -- device facts ----------------------------------------------------------------------------

    def _plist(self, device_path: str) -> dict[str, Any]:
        """A small plist of the dump, decoded once (empty when absent, too big or damaged)."""
        if device_path not in self._plists:
            value: dict[str, Any] = {}
            entry = self.entry(device_path)
            if entry is not None and entry.kind == "file" and entry.stored and (entry.size or 0) < 8 << 20:
                try:
                    value = plist.load_dict(self.read_bytes(device_path, 8 << 20))
                except (ArtefactError, OSError):
                    value = {}
            self._plists[device_path] = value
        return self._plists[device_path]

    def metadata(self) -> dict[str, Any]:
        """The device's model, iOS version and build, name and time zone, from the dump's own files."""
        version = self._plist(SYSTEM_VERSION)
        ark = self._plist(DATA_ARK)
        extra = self._plist(GESTALT).get("CacheExtra")
        gestalt: dict[str, Any] = extra if isinstance(extra, dict) else {}

        def answer(name: str) -> str | None:
            return _fact(gestalt.get(_gestalt_key(name)))

        build = _fact(version.get("ProductBuildVersion")) or answer("BuildVersion") or _fact(
            self._plist(GESTALT).get("CacheVersion")
        )
        return {
            "device_name": _fact(ark.get("-DeviceName")) or answer("UserAssignedDeviceName"),
            "product_type": answer("ProductType") or _fact(ark.get("-ProductType")),
            "product_name": _fact(version.get("ProductName")),
            "ios_version": _fact(version.get("ProductVersion")) or answer("ProductVersion"),
            "build": build,
            "timezone": self.timezone(),
            "dump_layout": self.layout[1] if self.layout else None,
            "dump_prefix": self.layout[0] if self.layout else None,
            "files_listed": self.tree.count,
            "latest_modification": (lambda t: t.isoformat() if t else None)(self.collected()),
        }

    def timezone(self) -> str | None:
        """The device's zone: lockdown's ``-TimeZone``, else the ``localtime`` link's target."""
        zone = _fact(self._plist(DATA_ARK).get("-TimeZone"))
        if zone:
            return zone
        name = self.to_tree(LOCALTIME)
        entry = self.tree.get(name) if name is not None else None
        if entry is not None and entry.kind == "symlink" and "zoneinfo/" in entry.link:
            return entry.link.split("zoneinfo/", 1)[1] or None
        return None

    def collected(self) -> datetime | None:
        """No dump format records when it was made: the latest modification time of any entry
        (the dump was taken at or after it), ignoring times in the future."""
        if self._collected is False:
            latest = self.tree.latest_mtime(before=timeutil.now().timestamp())
            self._collected = timeutil.unix(latest) if latest is not None else None
        return self._collected if isinstance(self._collected, datetime) else None
