"""Write a real unencrypted iOS backup folder: Manifest.db (device DDL), Info.plist, Manifest.plist.

Files are stored under ``<fileID[:2]>/<fileID>`` with ``fileID = SHA-1(domain-relativePath)`` and
each Manifest row carries an NSKeyedArchiver ``MBFile`` blob, as Finder/iTunes write them.
"""

from __future__ import annotations

import hashlib
import plistlib
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.builders.schema import db_bytes, schema_path

DEFAULT_TIME = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def file_id(domain: str, relative_path: str) -> str:
    """SHA-1 of ``domain-relativePath``, Apple's backup file naming."""
    return hashlib.sha1(f"{domain}-{relative_path}".encode()).hexdigest()


def mbfile_blob(
    relative_path: str,
    *,
    size: int,
    mode: int,
    birth: int,
    modified: int,
    changed: int,
    inode: int = 1000,
    uid: int = 501,
    gid: int = 501,
    protection: int = 3,
) -> bytes:
    """An NSKeyedArchiver MBFile archive with the fields a real Manifest.db row has."""
    objects: list[Any] = [
        "$null",
        {
            "$class": plistlib.UID(3),
            "Birth": birth,
            "Flags": 0,
            "GroupID": gid,
            "InodeNumber": inode,
            "LastModified": modified,
            "LastStatusChange": changed,
            "Mode": mode,
            "ProtectionClass": protection,
            "RelativePath": plistlib.UID(2),
            "Size": size,
            "UserID": uid,
        },
        relative_path,
        {"$classes": ["MBFile", "NSObject"], "$classname": "MBFile"},
    ]
    archive = {
        "$archiver": "NSKeyedArchiver",
        "$objects": objects,
        "$top": {"root": plistlib.UID(1)},
        "$version": 100000,
    }
    return plistlib.dumps(archive, fmt=plistlib.FMT_BINARY)


@dataclass
class _Row:
    domain: str
    relative_path: str
    flags: int
    blob: bytes | None


@dataclass
class BackupBuilder:
    """Accumulates files, then :meth:`finish` writes the backup folder."""

    root: Path
    ios_version: str = "17.4.1"
    build: str = "21E236"
    product_type: str = "iPhone14,2"
    device_name: str = "Test iPhone"
    encrypted: bool = False
    manifest_schema: str = "ios/Manifest.db/ios14.sql"
    _rows: list[_Row] = field(default_factory=list)
    _inode: int = 1000

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._scratch = self.root.parent / f".{self.root.name}-scratch"

    def _meta(self, relative_path: str, size: int, mode: int, when: datetime) -> bytes:
        self._inode += 1
        ts = int(when.timestamp())
        return mbfile_blob(
            relative_path, size=size, mode=mode, birth=ts, modified=ts, changed=ts, inode=self._inode
        )

    def add_file(
        self,
        domain: str,
        relative_path: str,
        data: bytes,
        *,
        when: datetime = DEFAULT_TIME,
        stored: bool = True,
    ) -> str:
        """Add a regular file; ``stored=False`` lists it in Manifest.db without its content."""
        fid = file_id(domain, relative_path)
        if stored:
            target = self.root / fid[:2] / fid
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        self._rows.append(
            _Row(domain, relative_path, 1, self._meta(relative_path, len(data), 0o100644, when))
        )
        return fid

    def add_dir(self, domain: str, relative_path: str, *, when: datetime = DEFAULT_TIME) -> None:
        """Add a folder row."""
        self._rows.append(_Row(domain, relative_path, 2, self._meta(relative_path, 0, 0o040755, when)))

    def add_plist(self, domain: str, relative_path: str, value: Any, *, binary: bool = True) -> str:
        """Add a property list file."""
        fmt = plistlib.FMT_BINARY if binary else plistlib.FMT_XML
        return self.add_file(domain, relative_path, plistlib.dumps(value, fmt=fmt))

    def add_sqlite(
        self,
        domain: str,
        relative_path: str,
        schema: str | None,
        rows: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        extra_sql: str = "",
    ) -> str:
        """Add a SQLite database created from a real device DDL file and rows."""
        return self.add_file(domain, relative_path, db_bytes(self._scratch, schema, rows, extra_sql))

    def finish(self) -> Path:
        """Write Manifest.db, Info.plist, Manifest.plist and Status.plist; return the backup folder."""
        db = self.root / "Manifest.db"
        if db.exists():
            db.unlink()
        conn = sqlite3.connect(db)
        conn.executescript(schema_path(self.manifest_schema).read_text())
        conn.executemany(
            "INSERT OR REPLACE INTO Files (fileID, domain, relativePath, flags, file) VALUES (?, ?, ?, ?, ?)",
            [
                (file_id(r.domain, r.relative_path), r.domain, r.relative_path, r.flags, r.blob)
                for r in self._rows
            ],
        )
        conn.commit()
        conn.close()
        udid = "00008110-000A1B2C3D4E5F60"
        info = {
            "Build Version": self.build,
            "Device Name": self.device_name,
            "Display Name": self.device_name,
            "GUID": "0123456789ABCDEF0123456789ABCDEF",
            "Installed Applications": ["com.apple.mobilesafari", "net.whatsapp.WhatsApp"],
            "Last Backup Date": DEFAULT_TIME.replace(tzinfo=None),
            "Product Name": "iPhone",
            "Product Type": self.product_type,
            "Product Version": self.ios_version,
            "Serial Number": "F00000000000",
            "Target Identifier": udid,
            "Target Type": "Device",
            "Unique Identifier": udid,
            "iTunes Version": "12.13",
        }
        (self.root / "Info.plist").write_bytes(plistlib.dumps(info))
        manifest = {
            "IsEncrypted": self.encrypted,
            "Version": "10.0",
            "Date": DEFAULT_TIME.replace(tzinfo=None),
            "WasPasscodeSet": True,
            "SystemDomainsVersion": "24.0",
            "Lockdown": {
                "BuildVersion": self.build,
                "DeviceName": self.device_name,
                "ProductType": self.product_type,
                "ProductVersion": self.ios_version,
                "UniqueDeviceID": udid,
            },
            "Applications": {},
        }
        (self.root / "Manifest.plist").write_bytes(plistlib.dumps(manifest, fmt=plistlib.FMT_BINARY))
        status = {
            "BackupState": "new",
            "IsFullBackup": False,
            "SnapshotState": "finished",
            "Version": "3.3",
            "UUID": "11111111-2222-3333-4444-555555555555",
            "Date": DEFAULT_TIME.replace(tzinfo=None),
        }
        (self.root / "Status.plist").write_bytes(plistlib.dumps(status, fmt=plistlib.FMT_BINARY))
        if self._scratch.exists():
            for p in self._scratch.iterdir():
                p.unlink()
            self._scratch.rmdir()
        return self.root
