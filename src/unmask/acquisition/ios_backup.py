"""An unencrypted iOS backup (Finder/iTunes/libimobiledevice) as one device path space.

A backup folder holds ``Info.plist``, ``Manifest.plist``, ``Manifest.db`` and the files themselves
under ``<fileID[:2]>/<fileID>``, where ``fileID = SHA-1("<domain>-<relativePath>")``. Each backup
domain maps to the device folder it was copied from.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from unmask.acquisition.base import Acquisition, FileEntry, is_regular_file
from unmask.errors import AcquisitionError, ArtefactError, EncryptedBackupError
from unmask.observables import normalize_path
from unmask.parsers import plist
from unmask.parsers.sqlite import open_readonly

# Domain → device folder. Container domains carry the bundle or group id after the dash; in a
# backup the container's UUID is unknown, so the id stands in for it in the device path.
_FIXED_DOMAINS = {
    "HomeDomain": "/private/var/mobile",
    "RootDomain": "/private/var/root",
    "WirelessDomain": "/private/var/wireless",
    "MediaDomain": "/private/var/mobile",
    "CameraRollDomain": "/private/var/mobile",
    "ManagedPreferencesDomain": "/private/var/Managed Preferences",
    "SystemPreferencesDomain": "/private/var/preferences",
    "KeychainDomain": "/private/var/Keychains",
    "DatabaseDomain": "/private/var/db",
    "MobileDeviceDomain": "/private/var/MobileDevice",
    "InstallDomain": "/private/var/installd",
    "HealthDomain": "/private/var/mobile",
    "TonesDomain": "/private/var/mobile",
    "ProtectedDomain": "/private/var/protected",
    "NetworkDomain": "/private/var/networkd",
    "BooksDomain": "/private/var/mobile/Media/Books",
}
_PREFIX_DOMAINS = (
    ("AppDomainGroup-", "/private/var/mobile/Containers/Shared/AppGroup/"),
    ("AppDomainPlugin-", "/private/var/mobile/Containers/Data/PluginKitPlugin/"),
    ("AppDomain-", "/private/var/mobile/Containers/Data/Application/"),
    ("SysSharedContainerDomain-", "/private/var/containers/Shared/SystemGroup/"),
    ("SysContainerDomain-", "/private/var/containers/Data/System/"),
)
UNKNOWN_DOMAIN_ROOT = "/private/var/.unmask-backup-domain"


@lru_cache(maxsize=4096)
def domain_root(domain: str) -> str:
    """The device folder a backup domain was copied from."""
    fixed = _FIXED_DOMAINS.get(domain)
    if fixed is not None:
        return fixed
    for prefix, folder in _PREFIX_DOMAINS:
        if domain.startswith(prefix) and len(domain) > len(prefix):
            return folder + domain[len(prefix) :]
    return f"{UNKNOWN_DOMAIN_ROOT}/{domain}"


def _files_rows(path: Path) -> list[tuple[object, object, object, object]]:
    query = "SELECT fileID, domain, relativePath, flags FROM Files"
    try:
        with open_readonly(path, lenient=False) as db:
            return db.execute(query).fetchall()
    except sqlite3.OperationalError as exc:
        if "decode" not in str(exc):
            raise
    with open_readonly(path) as db:  # invalid UTF-8 somewhere: decode leniently instead
        return db.execute(query).fetchall()


def device_path(domain: str, relative_path: str) -> str:
    """The device path of one Manifest.db row."""
    root = domain_root(domain)
    rel = relative_path.strip("/")
    return f"{root}/{rel}" if rel else root


def file_id(domain: str, relative_path: str) -> str:
    """The backup file ID of a domain and relative path: SHA-1 of ``domain-relativePath``."""
    return hashlib.sha1(f"{domain}-{relative_path}".encode()).hexdigest()


_KINDS = {1: "file", 2: "dir", 4: "symlink"}
_HEX = re.compile(r"[0-9a-fA-F]{40}")


class IOSBackup(Acquisition):
    """An unencrypted iOS backup folder (iOS 10+, Manifest.db layout)."""

    kind = "ios-backup"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        if not root.is_dir():
            raise AcquisitionError(f"{root} is not a folder")
        manifest_db = root / "Manifest.db"
        manifest_plist = root / "Manifest.plist"
        if not manifest_db.is_file() or (
            not (root / "Info.plist").is_file() and not manifest_plist.is_file()
        ):
            if (root / "Manifest.mbdb").is_file():
                raise AcquisitionError(f"{root} is an iOS 9 or older backup (Manifest.mbdb), not supported")
            raise AcquisitionError(
                f"{root} is not an iOS backup (no Manifest.db with Info.plist/Manifest.plist)"
            )
        self.manifest: dict[str, Any] = {}
        if manifest_plist.is_file():
            try:
                self.manifest = plist.load_dict(manifest_plist.read_bytes())
            except ArtefactError as exc:
                raise AcquisitionError(f"{manifest_plist}: {exc}") from None
        if self.manifest.get("IsEncrypted") is True:
            raise EncryptedBackupError(
                f"{root} is an encrypted iOS backup; decrypt it first (encrypted backups are not supported yet)"
            )
        self._entries: dict[str, FileEntry] = {}
        # Row order and file IDs; the metadata blobs stay in Manifest.db and are streamed when
        # needed (holding 200,000 of them would cost ~100 MB for nothing).
        self._by_id: dict[str, FileEntry] = {}
        self._manifest_db = manifest_db
        self._load_manifest(manifest_db)

    def _load_manifest(self, path: Path) -> None:
        try:
            rows = _files_rows(path)
        except Exception as exc:
            header = path.read_bytes()[:16]
            if header != b"SQLite format 3\x00":
                raise EncryptedBackupError(
                    f"{path} is not readable SQLite: the backup is probably encrypted (not supported yet)"
                ) from None
            raise AcquisitionError(f"{path}: cannot read the Files table ({exc})") from None
        stored = self._stored_ids()
        entries = self._entries
        by_id = self._by_id
        for fid, domain, rel, flags in rows:
            if not isinstance(fid, str) or not isinstance(domain, str):
                continue
            rel = rel if isinstance(rel, str) else ""
            kind = _KINDS.get(flags if isinstance(flags, int) else 0, "file")
            dpath = device_path(domain, rel)
            entry = FileEntry(
                device_path=dpath,
                kind=kind,
                stored=kind != "file" or fid in stored,
                locator=fid,
                domain=domain,
                relative_path=rel,
            )
            entries[dpath] = entry
            by_id[fid] = entry

    def _stored_ids(self) -> set[str]:
        stored: set[str] = set()
        for bucket in os.listdir(self.root):
            folder = self.root / bucket
            if len(bucket) == 2 and folder.is_dir():
                stored.update(os.listdir(folder))
        return stored

    def entries(self) -> Iterator[FileEntry]:
        """Every Manifest.db row as a device-path entry (metadata blob not decoded)."""
        return iter(self._entries.values())

    def manifest_rows(self) -> Iterator[tuple[FileEntry, bytes | None]]:
        """Entries in Manifest.db order with their raw MBFile metadata blob, for the Manifest parser."""
        by_id = self._by_id
        # SQLite's own (C) text decoding first; if a row holds invalid UTF-8, carry on from that
        # row with the lenient decoder instead of failing the whole listing.
        last = -1
        for lenient in (False, True):
            try:
                with open_readonly(self._manifest_db, lenient=lenient) as db:
                    cursor = db.execute(
                        "SELECT rowid, fileID, file FROM Files WHERE rowid > ? ORDER BY rowid", (last,)
                    )
                    while batch := cursor.fetchmany(4096):
                        for rowid, fid, blob in batch:
                            last = rowid
                            entry = by_id.get(fid) if isinstance(fid, str) else None
                            if entry is not None:
                                yield entry, blob if isinstance(blob, bytes) else None
                return
            except sqlite3.OperationalError:
                if lenient:
                    raise

    def stat(self, device_path: str) -> FileEntry | None:
        """The entry at a device path with its size, mode and times decoded from Manifest.db."""
        entry = self.entry(device_path)
        if entry is None:
            return None
        with open_readonly(self._manifest_db) as db:
            row = db.execute("SELECT file FROM Files WHERE fileID = ?", (entry.locator,)).fetchone()
        blob = row[0] if row and isinstance(row[0], bytes) else None
        meta = plist.mbfile_metadata(blob)
        if meta is None:
            return entry
        return replace(
            entry,
            size=meta.size,
            mode=meta.mode,
            birth=meta.birth,
            modified=meta.modified,
            changed=meta.changed,
        )

    def entry(self, device_path: str) -> FileEntry | None:
        """The Manifest.db entry at a device path."""
        found = self._entries.get(device_path)
        if found is None:
            norm = normalize_path(device_path)
            found = self._entries.get(norm) if norm else None
        return found

    def local_path(self, device_path: str) -> Path | None:
        """``<root>/<fileID[:2]>/<fileID>`` for a stored file."""
        entry = self.entry(device_path)
        if entry is None or entry.kind != "file" or not entry.stored:
            return None
        fid = entry.locator
        # A file ID is 40 hex digits; anything else ("../…") could point outside the backup.
        if len(fid) != 40 or not _HEX.fullmatch(fid):
            return None
        path = self.root / fid[:2] / fid
        return path if is_regular_file(path) else None

    def metadata(self) -> dict[str, Any]:
        """Info.plist and Manifest.plist facts about the device and the backup."""
        info: dict[str, Any] = {}
        path = self.root / "Info.plist"
        if path.is_file():
            try:
                info = plist.load_dict(path.read_bytes())
            except ArtefactError:
                info = {}
        raw_lockdown = self.manifest.get("Lockdown")
        lockdown: dict[str, Any] = raw_lockdown if isinstance(raw_lockdown, dict) else {}
        return {
            "device_name": info.get("Device Name") or lockdown.get("DeviceName"),
            "product_type": info.get("Product Type") or lockdown.get("ProductType"),
            "ios_version": info.get("Product Version") or lockdown.get("ProductVersion"),
            "build": info.get("Build Version") or lockdown.get("BuildVersion"),
            "udid": info.get("Unique Identifier") or lockdown.get("UniqueDeviceID"),
            "backup_date": str(info.get("Last Backup Date") or self.manifest.get("Date") or "") or None,
            "files_listed": len(self._entries),
            "files_missing": sum(1 for e in self._entries.values() if not e.stored),
        }
