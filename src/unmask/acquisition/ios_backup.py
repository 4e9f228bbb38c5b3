"""An iOS backup (Finder/iTunes/libimobiledevice), plain or encrypted, as one device path space.

A backup folder holds ``Info.plist``, ``Manifest.plist``, ``Manifest.db`` and the files themselves
under ``<fileID[:2]>/<fileID>``, where ``fileID = SHA-1("<domain>-<relativePath>")``. Each backup
domain maps to the device folder it was copied from.

One kind, ``ios-backup``, plain or encrypted, told apart by content: when ``Manifest.db`` is a
SQLite database the backup is read as plain (:class:`IOSBackup`) whatever ``IsEncrypted`` says (a
backup decrypted by another tool, MVT's ``decrypt-backup`` for one, keeps ``IsEncrypted: true``
beside plaintext files); otherwise it needs the keybag and a password or key
(:class:`EncryptedIOSBackup`).
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import stat
from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from unmask import timeutil
from unmask.acquisition.base import Acquisition, FileEntry, compile_glob, is_regular_file, sha256_file
from unmask.acquisition.options import OpenOptions
from unmask.budget import BudgetExceeded
from unmask.errors import (
    AcquisitionError,
    ArtefactError,
    EncryptedBackupError,
    UsageError,
    WrongPasswordError,
)
from unmask.formats import backup_crypto as crypto
from unmask.formats import plist
from unmask.formats.sqlite import connect_readonly, open_readonly
from unmask.observables import normalize_path

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


def candidates(path: str) -> list[tuple[str, str]]:
    """Every ``(domain, relativePath)`` whose row would sit at this device path (several domains
    share a folder: HomeDomain, MediaDomain and others all live under /private/var/mobile)."""
    out: list[tuple[str, str]] = []
    for domain, root in _FIXED_DOMAINS.items():
        if path == root:
            out.append((domain, ""))
        elif path.startswith(root) and path[len(root)] == "/":
            out.append((domain, path[len(root) + 1 :]))
    for prefix, folder in _PREFIX_DOMAINS:
        if path.startswith(folder):
            ident, _, rel = path[len(folder) :].partition("/")
            if ident:
                out.append((prefix + ident, rel))
    unknown = UNKNOWN_DOMAIN_ROOT + "/"
    if path.startswith(unknown):
        domain, _, rel = path[len(unknown) :].partition("/")
        if domain:
            out.append((domain, rel))
    return out


def _relative_prefixes(pattern: str) -> set[str] | None:
    """The literal prefixes that the relativePath of any row matching a device-path glob must
    start with (``""`` means any); ``None`` when the glob lies outside every domain."""
    out: set[str] = set()

    def literal(rel_pattern: str) -> str:
        cut = [i for i in (rel_pattern.find(c) for c in "*?[") if i >= 0]
        return rel_pattern[: min(cut)] if cut else rel_pattern

    first = min(i for i, c in enumerate(pattern) if c in "*?[")
    folder = pattern[:first].rpartition("/")[0]
    for root in _FIXED_DOMAINS.values():
        if pattern.startswith(root + "/"):
            out.add(literal(pattern[len(root) + 1 :]))
        elif root == folder or root.startswith(folder + "/"):
            out.add("")
    # Container domains and unknown domains: the folder's next component names the domain.
    for base in [*(b for _, b in _PREFIX_DOMAINS), UNKNOWN_DOMAIN_ROOT + "/"]:
        if pattern.startswith(base):
            ident, _, rest = pattern[len(base) :].partition("/")
            out.add("" if "**" in ident else literal(rest))
        elif base.startswith(folder + "/"):
            out.add("")
    return out or None


def _glob_literal(text: str) -> str:
    """``text`` as a SQLite GLOB pattern matching exactly itself."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


_KINDS = {1: "file", 2: "dir", 4: "symlink"}
_HEX = re.compile(r"[0-9a-fA-F]{40}")
_ROW = "SELECT rowid, fileID, domain, relativePath, flags FROM Files"



_SQLITE_HEADER = b"SQLite format 3\x00"


def needs_keys(root: Path) -> bool:
    """Whether the backup at ``root`` must be decrypted to be read: its ``Manifest.db`` is a regular
    file that is not a SQLite database. Content decides, not ``IsEncrypted``."""
    path = root / "Manifest.db"
    if not is_regular_file(path):
        return False
    with path.open("rb") as handle:
        return handle.read(16) != _SQLITE_HEADER


def _is_backup(folder: Path) -> bool:
    # Content, not the folder's name: the files every Finder/iTunes backup holds.
    return ((folder / "Manifest.db").is_file() and (
        (folder / "Info.plist").is_file() or (folder / "Manifest.plist").is_file()
    )) or ((folder / "Manifest.mbdb").is_file() and (folder / "Info.plist").is_file())


class IOSBackup(Acquisition):
    """A plain iOS backup (iOS 10+, Manifest.db layout), looked up in Manifest.db itself.

    Nothing is loaded per row when the backup is opened: a device path is resolved through the
    file ID that iOS derives from it (``SHA-1("<domain>-<relativePath>")``, the table's primary
    key), falling back to the domain and relativePath columns (indexed in real backups), and globs
    become SQL over the same columns. The only full pass over the table is the Manifest parser's
    (:meth:`manifest_rows`), so memory does not grow with the number of files.
    """

    kind = "ios-backup"
    platform = "ios"
    label = (
        "an iPhone backup folder (Finder, iTunes, libimobiledevice), plain or encrypted, or a folder "
        "holding exactly one"
    )
    own_files = ("Info.plist", "Manifest.plist", "Manifest.db", "Status.plist")

    @classmethod
    def detect(cls, path: Path) -> Path | None:
        """The backup folder itself, or the one backup folder (a UDID folder) inside ``path``."""
        if not path.is_dir():
            return None
        if _is_backup(path):
            return path
        children = [c for c in path.iterdir() if c.is_dir() and not c.is_symlink() and _is_backup(c)]
        return children[0] if len(children) == 1 else None

    @classmethod
    def open_path(cls, path: Path, options: OpenOptions) -> Acquisition:
        """A plain backup as :class:`IOSBackup`; one whose ``Manifest.db`` is not SQLite as
        :class:`EncryptedIOSBackup` (same kind), which asks for the password only then."""
        if cls is IOSBackup and path.is_dir() and needs_keys(path):
            return EncryptedIOSBackup(path, options)
        return cls(path, options)

    def __init__(self, root: Path, options: OpenOptions | None = None) -> None:
        super().__init__(root, options)
        if not root.is_dir():
            raise AcquisitionError(f"{root} is not a folder")
        manifest_db = self.host_file("Manifest.db")
        manifest_plist = self.host_file("Manifest.plist")
        if "Manifest.db" in self.refused:
            raise AcquisitionError(f"{root}: Manifest.db is {self.refused['Manifest.db']}; refusing to read it")
        if manifest_db is None or (self.host_file("Info.plist") is None and manifest_plist is None):
            if (root / "Manifest.mbdb").is_file():
                raise AcquisitionError(f"{root} is an iOS 9 or older backup (Manifest.mbdb), not supported")
            raise AcquisitionError(
                f"{root} is not an iOS backup (no Manifest.db with Info.plist/Manifest.plist)"
            )
        self.manifest: dict[str, Any] = {}
        if manifest_plist is not None:
            try:
                self.manifest = plist.load_dict(_read_capped(manifest_plist))
            except ArtefactError as exc:
                raise AcquisitionError(f"{manifest_plist}: {exc}") from None
        self._info_plist: dict[str, Any] | None = None
        self._unindexed = False
        self._damage: str | None = None
        self._buckets: dict[str, bool] = {}
        self._found: dict[str, FileEntry | None] = {}
        self._missing: int | None = None
        self._unlocked: frozenset[int] | None = None  # encrypted backups: the classes it can decrypt
        self._manifest_db = self._readable_manifest(manifest_db)
        self._db = self._open_manifest(self._manifest_db)

    def _readable_manifest(self, path: Path) -> Path:
        """The Manifest.db SQLite can open: the backup's own file (an encrypted backup decrypts it
        into its private folder)."""
        return path

    def _open_manifest(self, path: Path) -> sqlite3.Connection:
        db = None
        try:
            db = connect_readonly(path)
            self._listed = int(db.execute("SELECT count(*) FROM Files").fetchone()[0])
            db.execute(_ROW + " LIMIT 1").fetchall()
            return db
        except Exception as exc:
            if db is not None:
                db.close()
            with path.open("rb") as handle:
                header = handle.read(16)
            if header != _SQLITE_HEADER:
                raise EncryptedBackupError(
                    f"{path} is not SQLite: the backup is encrypted (open it with IOSBackup.open_path "
                    "and a password) or damaged"
                ) from None
            raise AcquisitionError(f"{path}: cannot read the Files table ({exc})") from None

    def close(self) -> None:
        """Close Manifest.db and release the private temporary folder."""
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()
        super().close()

    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """The rows of a query of Manifest.db; a damaged database (an overwritten page) is an
        artefact error of whoever asked, never a crash of the scan.

        A damaged index must not hide rows that are intact in the table: the query is asked again
        without the indexes (``NOT INDEXED``, a scan of the table) before it is given up, and once
        an index has failed every later query goes straight to the table.
        """
        if self._unindexed:
            sql = sql.replace("FROM Files", "FROM Files NOT INDEXED")
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            if self._unindexed:
                raise ArtefactError(f"Manifest.db is damaged ({exc})") from None
            self._unindexed = True
            self._damage = f"Manifest.db is damaged ({exc}); its rows were looked up without its indexes"
            return self._fetchall(sql, params)

    def _entry_of(self, row: tuple[Any, ...]) -> FileEntry | None:
        _, fid, domain, rel, flags = row
        if not isinstance(fid, str) or not isinstance(domain, str):
            return None
        rel = rel if isinstance(rel, str) else ""
        kind = _KINDS.get(flags if isinstance(flags, int) else 0, "file")
        path = device_path(domain, rel)
        return FileEntry(
            device_path=path,
            kind=kind,
            stored=kind != "file" or self._stored_file(fid, path) is not None,
            locator=fid,
            domain=domain,
            relative_path=rel,
        )

    def _stored_file(self, fid: str, name: str | None = None) -> Path | None:
        # A file ID is 40 hex digits; anything else ("../…") could point outside the backup.
        if len(fid) != 40 or not _HEX.fullmatch(fid):
            return None
        if not self._bucket(fid[:2]):
            # A bucket made a link is refused; a bucket that is not there is a file missing from
            # the backup (an interrupted or trimmed copy), as when the bucket holds the others.
            why = self.refused.get(fid[:2])
            if why is not None:
                self.refuse(name or fid, why)
            return None
        return self.contained(self.root / fid[:2] / fid, name or fid)

    def _bucket(self, bucket: str) -> bool:
        """Whether a two-letter bucket is a real folder of the backup (not a link out of it)."""
        known = self._buckets.get(bucket)
        if known is None:
            folder = self.root / bucket
            try:
                known = stat.S_ISDIR(os.lstat(folder).st_mode)
            except OSError:
                known = False
            if not known and folder.is_symlink():
                real = os.path.realpath(folder)
                self.refuse(bucket, f"symbolic link to {real}" + (
                    "" if Path(real).is_relative_to(self.real_root) else ", outside the evidence"
                ))
            self._buckets[bucket] = known
        return known

    def _lookup(self, path: str) -> FileEntry | None:
        pairs = candidates(path)
        if not pairs:
            return None
        ids = [file_id(d, r) for d, r in pairs]
        rows = self._fetchall(f"{_ROW} WHERE fileID IN ({','.join('?' * len(ids))})", ids)
        found = [e for e in map(self._entry_of, sorted(rows, reverse=True)) if e and e.device_path == path]
        if found:
            return found[0]
        # Not under the ID iOS would give it: look the row up by its columns (and the odd
        # leading or trailing slash some tools leave in relativePath).
        # relativePath is the selective column (a domain can hold most of the backup); the
        # device path comparison below keeps only rows of the candidate domains.
        rels = sorted({v for _, r in pairs for v in (r, "/" + r, r + "/", f"/{r}/")})
        rows = self._fetchall(f"{_ROW} WHERE relativePath IN ({','.join('?' * len(rels))})", rels)
        found = [e for e in map(self._entry_of, sorted(rows, reverse=True)) if e and e.device_path == path]
        return found[0] if found else None

    def entry(self, device_path: str) -> FileEntry | None:
        """The Manifest.db entry at a device path (the last listed, if several rows map there)."""
        if device_path in self._found:
            return self._found[device_path]
        found = self._lookup(device_path)
        if found is None:
            norm = normalize_path(device_path)
            found = self._lookup(norm) if norm and norm != device_path else None
        if len(self._found) < 65_536:
            self._found[device_path] = found
        return found

    def entries(self) -> Iterator[FileEntry]:
        """Every Manifest.db row as a device-path entry (metadata blob not decoded)."""
        for row in self._rows(_ROW + " ORDER BY rowid"):
            entry = self._entry_of(row)
            if entry is not None:
                yield entry

    def _rows(self, query: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        if self._unindexed:
            query = query.replace("FROM Files", "FROM Files NOT INDEXED")
        try:
            cursor = self._db.execute(query, params)
            while batch := cursor.fetchmany(4096):
                yield from batch
        except sqlite3.DatabaseError as exc:
            raise ArtefactError(f"Manifest.db is damaged ({exc})") from None

    def glob(self, pattern: str) -> list[str]:
        """Device paths of stored files matching a glob (``*``, ``?``, ``**/``), sorted.

        The literal part of the glob gives the prefix a candidate's relativePath must have in each
        domain it can lie in, a literal file name narrows relativePath further; both are asked of
        SQLite on relativePath alone so that its index is used (rows carry their metadata blobs, so a scan
        of the table itself reads the whole database). The glob is then applied to each
        candidate's device path.
        """
        if not any(c in pattern for c in "*?["):
            return [pattern] if self.exists(pattern) else []
        regex = compile_glob(pattern)
        name = pattern.rpartition("/")[2]
        prefixes = _relative_prefixes(pattern)
        if prefixes is None:
            return []
        clauses: list[str] = []
        params: list[str] = []
        if "" not in prefixes:
            ranges = sorted(prefixes)
            clauses.append("(" + " OR ".join("(relativePath >= ? AND relativePath < ?)" for _ in ranges) + ")")
            params.extend(v for rel in ranges for v in (rel, rel[:-1] + chr(ord(rel[-1]) + 1)))
        if not any(c in name for c in "*?["):
            clauses.append("(relativePath = ? OR relativePath GLOB ?)")
            params.extend((name, "*/" + _glob_literal(name)))
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        rowids = [r[0] for r in self._rows(f"SELECT rowid FROM Files{where}", params)]
        found: set[str] = set()
        for start in range(0, len(rowids), 500):
            chunk = rowids[start : start + 500]
            query = f"{_ROW} WHERE rowid IN ({','.join('?' * len(chunk))})"
            for entry in map(self._entry_of, self._fetchall(query, chunk)):
                if entry is None or entry.kind != "file" or entry.device_path in found:
                    continue
                if regex.match(entry.device_path) and self.exists(entry.device_path):
                    found.add(entry.device_path)
        return sorted(found)

    def listing(self) -> Iterator[list[FileEntry]]:
        """Every Manifest.db row in table order, in batches, with the metadata of its MBFile blob.

        SQLite's own (C) text decoding is used first; if a row holds invalid UTF-8, the listing
        carries on from that row with the lenient decoder. The blobs of a batch are decoded in one
        compiled call (:func:`unmask.formats.plist.mbfile_fields_many`); a blob that is not an
        MBFile archive gives an entry without metadata (``metadata_ok=False``).
        """
        unix = timeutil.unix_int
        unlocked = self._unlocked
        for rows in self._manifest_rows():
            decoded = plist.mbfile_fields_many([row[6] for row in rows])
            batch: list[FileEntry] = []
            for (path, domain, rel, kind, fid, stored, blob), fields in zip(rows, decoded, strict=True):
                if unlocked is not None and stored and kind == "file" and (
                    fields is None or (fields[8] not in unlocked and fields[0] != 0)
                ):
                    self._locked_file(path, fid, None if fields is None else fields[8])
                if fields is None:
                    batch.append(FileEntry(path, kind, None, None, None, None, None, stored, fid, domain, rel,
                                           blob is None or len(blob) == 0))
                    continue
                size, mode, birth, mtime, ctime = fields[0], fields[1], fields[2], fields[3], fields[4]
                # Files written once share one time for all three; build each datetime once.
                created = unix(birth)
                modified = created if mtime == birth else unix(mtime)
                changed = modified if ctime == mtime else created if ctime == birth else unix(ctime)
                batch.append(FileEntry(path, kind, size, mode, created, modified, changed, stored, fid, domain, rel))
            yield batch

    def _manifest_rows(self) -> Iterator[list[tuple[str, str, str, str, str, bool, bytes | None]]]:
        """Every Manifest.db row as ``(device path, domain, relativePath, kind, fileID, stored, MBFile
        blob)``, in table order, in batches."""
        stored = self._stored_ids()
        kinds = _KINDS
        missing = 0
        last = -1
        for lenient in (False, True):
            try:
                with open_readonly(self._manifest_db, lenient=lenient) as db:
                    cursor = db.execute(
                        "SELECT rowid, fileID, domain, relativePath, flags, file FROM Files "
                        "WHERE rowid > ? ORDER BY rowid",
                        (last,),
                    )
                    while batch := cursor.fetchmany(4096):
                        out: list[tuple[str, str, str, str, str, bool, bytes | None]] = []
                        for rowid, fid, domain, rel, flags, blob in batch:
                            last = rowid
                            if type(fid) is not str or type(domain) is not str:
                                continue
                            if type(rel) is not str:
                                rel = ""
                            kind = kinds.get(flags, "file") if type(flags) is int else "file"
                            is_stored = kind != "file" or fid in stored
                            missing += not is_stored
                            out.append((
                                device_path(domain, rel), domain, rel, kind, fid, is_stored,
                                blob if type(blob) is bytes else None,
                            ))
                        yield out
                self._missing = missing
                return
            except sqlite3.OperationalError as exc:
                # Invalid UTF-8 in a row: carry on from it with the lenient decoder; anything else
                # the lenient pass meets too, and reports.
                if lenient:
                    raise ArtefactError(f"Manifest.db is damaged ({exc})") from None
            except sqlite3.DatabaseError as exc:
                raise ArtefactError(f"Manifest.db is damaged ({exc})") from None

    def _locked_file(self, device_path: str, fid: str, protection: int | None) -> None:
        """A stored file the Manifest parser met that cannot be decrypted (encrypted backups)."""

    def _stored_ids(self) -> set[str]:
        stored: set[str] = set()
        for bucket in os.listdir(self.root):
            if len(bucket) == 2 and self._bucket(bucket):
                stored.update(os.listdir(self.root / bucket))
        return stored

    def stat(self, device_path: str) -> FileEntry | None:
        """The entry at a device path with its size, mode and times decoded from Manifest.db."""
        entry = self.entry(device_path)
        if entry is None:
            return None
        rows = self._fetchall("SELECT file FROM Files WHERE fileID = ?", (entry.locator,))
        row = rows[0] if rows else None
        blob = row[0] if row and isinstance(row[0], bytes) else None
        meta = plist.mbfile_metadata(blob)
        if meta is None:
            return entry
        return entry._replace(
            size=meta.size,
            mode=meta.mode,
            birth=meta.birth,
            modified=meta.modified,
            changed=meta.changed,
        )

    def local_path(self, device_path: str) -> Path | None:
        """``<root>/<fileID[:2]>/<fileID>`` for a stored file."""
        entry = self.entry(device_path)
        if entry is None or entry.kind != "file" or not entry.stored:
            return None
        return self._stored_file(entry.locator, device_path)

    def _info(self) -> dict[str, Any]:
        """Info.plist, decoded once (empty when it is missing or unreadable)."""
        if self._info_plist is None:
            info: dict[str, Any] = {}
            path = self.host_file("Info.plist")
            if path is not None:
                try:
                    info = plist.load_dict(_read_capped(path))
                except (ArtefactError, OSError):
                    info = {}
            self._info_plist = info
        return self._info_plist

    def collected(self) -> datetime | None:
        """The backup's date: Info.plist's Last Backup Date, else Manifest.plist's Date."""
        for value in (self._info().get("Last Backup Date"), self.manifest.get("Date")):
            if isinstance(value, datetime):
                return timeutil.aware(value)
        return None

    def metadata(self) -> dict[str, Any]:
        """Info.plist and Manifest.plist facts about the device and the backup, and whether it was
        encrypted."""
        info = self._info()
        raw_lockdown = self.manifest.get("Lockdown")
        lockdown: dict[str, Any] = raw_lockdown if isinstance(raw_lockdown, dict) else {}
        if self._missing is None:
            try:
                self._missing = sum(1 for e in self.entries() if not e.stored)
            except ArtefactError:
                self._missing = None  # Manifest.db is damaged: the Manifest parser's coverage says so
        return {
            "device_name": _fact(info.get("Device Name")) or _fact(lockdown.get("DeviceName")),
            "product_type": _fact(info.get("Product Type")) or _fact(lockdown.get("ProductType")),
            "ios_version": _fact(info.get("Product Version")) or _fact(lockdown.get("ProductVersion")),
            "build": _fact(info.get("Build Version")) or _fact(lockdown.get("BuildVersion")),
            "udid": _fact(info.get("Unique Identifier")) or _fact(lockdown.get("UniqueDeviceID")),
            "backup_date": _fact(info.get("Last Backup Date") or self.manifest.get("Date")),
            "files_listed": self._listed,
            "files_missing": self._missing,
            **({"manifest_damage": self._damage} if self._damage else {}),
            **self._encryption_facts(),
        }

    def _encryption_facts(self) -> dict[str, Any]:
        facts: dict[str, Any] = {"encrypted": False}
        if self.manifest.get("IsEncrypted") is True:
            facts["encryption_note"] = (
                "Manifest.plist says IsEncrypted, but Manifest.db is plain SQLite: a copy decrypted by "
                "another tool, read as plain"
            )
        return facts


def _fact(value: object) -> str | None:
    """A device fact from Info.plist as short text: plists can hold any type under any key, and
    these values go to info.json, the console and the report."""
    if value is None or isinstance(value, dict | list | bytes | bool):
        return None
    text = str(value)
    return text[:256] if text else None


_LIST_CAP = 1000
_HASH_BY_EXTRACTING = 64 << 20
"""Encrypted files up to this size are decrypted once into the private folder when hashed, so the
parser that reads them next reads that copy instead of decrypting again."""


def load_keybag(root: Path, manifest: dict[str, Any]) -> crypto.Keybag:
    """The keybag of ``Manifest.plist`` (``BackupKeyBag``), decoded."""
    data = manifest.get("BackupKeyBag")
    if not isinstance(data, bytes):
        raise EncryptedBackupError(
            f"{root}: Manifest.db is not SQLite and Manifest.plist holds no BackupKeyBag: the backup "
            "is damaged, or encrypted with its keybag missing"
        )
    try:
        return crypto.Keybag.parse(data)
    except ArtefactError as exc:
        raise EncryptedBackupError(f"{root}: {exc}") from None


def passcode_key(root: Path, keybag: crypto.Keybag, options: OpenOptions) -> tuple[bytes, str]:
    """The key that unwraps the keybag: read from ``options.key_file``, else derived from
    ``options.password()`` (asked only now). Returns the key and where it came from."""
    if options.key_file is not None:
        try:
            return crypto.read_key_file(options.key_file), "key file"
        except ArtefactError as exc:
            raise UsageError(str(exc)) from None
    if options.password is None:
        raise EncryptedBackupError(
            f"{root} is an encrypted iOS backup: give its password (or a key file saved by 'unmask backup-key')"
        )
    password = options.password()
    if options.on_status is not None:
        rounds = (keybag.double_protection_iterations or 0) + (keybag.iterations or 0)
        options.on_status(f"deriving the backup key ({rounds:,} PBKDF2 rounds)")
    try:
        return crypto.derive_passcode_key(password, keybag), "password"
    except ArtefactError as exc:
        raise EncryptedBackupError(f"{root}: {exc}") from None
    finally:
        del password


def unlock_keybag(root: Path, keybag: crypto.Keybag, key: bytes, source: str) -> crypto.ClassKeys:
    """The class keys ``key`` unwraps; :class:`WrongPasswordError` when it unwraps none."""
    keys = crypto.unlock(keybag, key)
    if not keys.keys:
        if any(ck.wrap & crypto.WRAP_PASSCODE for ck in keybag.classes.values()):
            what = "the key in the key file" if source == "key file" else "the password"
            raise WrongPasswordError(f"{what} does not open the encrypted backup {root} (wrong {source}?)")
        raise EncryptedBackupError(f"{root}: no class key of its keybag is wrapped with a backup password")
    return keys


class EncryptedIOSBackup(IOSBackup):
    """An encrypted iOS backup, read directly: no decrypted copy outside the private folder.

    Opening it unlocks the keybag (``Manifest.plist`` ``BackupKeyBag``) with the key derived from
    the password, or with a key file, and decrypts ``Manifest.db`` into the acquisition's private
    folder (SQLite needs a file; mode 0600 inside a 0700 folder, removed by :meth:`close`).
    Everything else is decrypted on demand: :meth:`open` streams a file's plaintext (AES-256-CBC,
    block by block), :meth:`materialize` writes it into the private folder when a library needs a
    file, and :meth:`local_path` is always ``None``. Files are never cut or extended to the size
    the Manifest records: a disagreement is noted in the metadata and the artefact's coverage.
    Files that cannot be decrypted (their class key not unlocked, a bad wrapped key) fail with the
    reason, and the metadata lists them.

    Hashes: the evidence hashes are of the files as stored (encrypted); artefact hashes are of the
    plaintext, so they match the files of a decrypted copy.

    Same kind as :class:`IOSBackup` (``ios-backup``), not registered again:
    :meth:`IOSBackup.open_path` chooses it by content.
    """

    label = "an encrypted iPhone backup folder"

    def __init__(self, root: Path, options: OpenOptions | None = None) -> None:
        self._keys: crypto.ClassKeys | None = None
        self._manifest_sha256: tuple[str, str] | None = None  # (as stored, decrypted)
        self._meta_doc: dict[str, Any] = {}
        self._failed: dict[str, dict[str, Any]] = {}
        self._sizes: dict[str, dict[str, Any]] = {}
        self._notes: dict[str, list[str]] = {}
        try:
            super().__init__(root, options)
        except BaseException:
            Acquisition.close(self)  # the private folder and whatever was decrypted into it
            raise

    def _readable_manifest(self, path: Path) -> Path:
        """Unlock the keybag and decrypt Manifest.db into the private folder."""
        keybag = load_keybag(self.root, self.manifest)
        key, source = passcode_key(self.root, keybag, self.options)
        try:
            keys = unlock_keybag(self.root, keybag, key, source)
        finally:
            del key
        self._keys = keys
        self._unlocked = frozenset(keys.keys)
        manifest_key = self.manifest.get("ManifestKey")
        try:
            clas, wrapped = crypto.split_wrapped_key(manifest_key if isinstance(manifest_key, bytes) else b"")
            file_key = crypto.unwrap(keys.key(clas), wrapped)
        except ArtefactError as exc:
            raise EncryptedBackupError(f"{self.root}: Manifest.db cannot be decrypted (ManifestKey: {exc})") from None
        target = self.workdir / "Manifest.db"
        stored, plain = hashlib.sha256(), hashlib.sha256()
        try:
            with path.open("rb") as raw, open(target, "xb") as sink:
                os.chmod(target, 0o600)
                stream = crypto.DecryptingReader(_Hashing(raw, stored), file_key)
                while chunk := stream.read(1 << 20):
                    plain.update(chunk)
                    sink.write(chunk)
        except ArtefactError as exc:
            raise EncryptedBackupError(f"{self.root}: Manifest.db cannot be decrypted ({exc})") from None
        finally:
            del file_key
        with target.open("rb") as handle:
            if handle.read(16) != _SQLITE_HEADER:
                raise EncryptedBackupError(f"{self.root}: Manifest.db did not decrypt to a SQLite database")
        self._manifest_sha256 = (stored.hexdigest(), plain.hexdigest())
        self._meta_doc = {
            "key_from": source,
            "keybag": {
                **keybag.describe(),
                "classes_unlocked": sorted(keys.keys),
                "classes_not_unlocked": {str(c): why for c, why in sorted(keys.not_unlocked.items())},
            },
            "manifest_key_class": clas,
            "files_not_decrypted": [],
            "files_not_decrypted_count": 0,
            "size_disagreements": [],
            "size_disagreements_count": 0,
        }
        return target

    # -- content ----------------------------------------------------------------------------------

    def local_path(self, device_path: str) -> Path | None:
        """``None``: no file of the backup holds plaintext."""
        return None

    def open(self, device_path: str) -> BinaryIO:
        """A stream of the plaintext at a device path, decrypted as it is read; raises
        FileNotFoundError when not stored, :class:`ArtefactError` (with the reason, also listed in
        the metadata) when it cannot be decrypted."""
        done = self._materialized.get(device_path)
        if done is not None:
            return done.open("rb")  # decrypted once already, into the private folder
        entry = self.entry(device_path)
        if entry is None or entry.kind != "file" or not entry.stored:
            raise FileNotFoundError(device_path)
        return self.open_entry(entry)

    def open_entry(self, entry: FileEntry) -> BinaryIO:
        """The plaintext of one Manifest.db row (an entry of :meth:`entries`)."""
        path = self._stored_file(entry.locator, entry.device_path)
        if path is None:
            raise FileNotFoundError(entry.device_path)
        key, recorded = self._file_key(entry)
        if key is None:
            return path.open("rb")  # stored without a key (empty files): as stored

        def ended(size: int) -> None:
            if recorded is not None and size != recorded:
                self._size_disagrees(entry, recorded, size)

        def failed(why: str) -> None:
            self._not_decrypted(entry, why)

        return crypto.open_decrypting(path, key, on_end=ended, on_error=failed)

    @property
    def manifest_db_path(self) -> Path:
        """The decrypted Manifest.db, in the private folder."""
        return self._manifest_db

    def count_files(self) -> int:
        """How many rows of Manifest.db are files."""
        return int(self._fetchall("SELECT count(*) FROM Files WHERE flags = 1")[0][0])

    def size_disagreement(self, device_path: str) -> tuple[int, int] | None:
        """(recorded, decrypted) size of a file read so far whose sizes disagree."""
        item = self._sizes.get(device_path)
        return None if item is None else (item["recorded_size"], item["decrypted_size"])

    def _file_key(self, entry: FileEntry) -> tuple[bytes | None, int | None]:
        """The file key of an entry (``None`` when it is stored without one) and its recorded size."""
        assert self._keys is not None
        rows = self._fetchall("SELECT file FROM Files WHERE fileID = ?", (entry.locator,))
        blob = rows[0][0] if rows and isinstance(rows[0][0], bytes) else None
        try:
            protection, data = plist.mbfile_encryption_key(blob)
            fields = plist.mbfile_fields(blob)
            recorded = fields[0] if fields is not None else None
            if data is None:
                return None, recorded
            prefix, wrapped = crypto.split_wrapped_key(data)
            clas = protection if protection is not None else prefix
            return crypto.unwrap(self._keys.key(clas), wrapped), recorded
        except ArtefactError as exc:
            self._not_decrypted(entry, str(exc))
            raise ArtefactError(f"cannot decrypt: {exc}") from None

    def sha256(self, device_path: str) -> str | None:
        """SHA-256 of the plaintext. A file of moderate size is decrypted once into the private
        folder and hashed as it is written there; the parser then reads that copy."""
        if device_path in self._hashes:
            return self._hashes[device_path]
        entry = self.entry(device_path)
        path = self._stored_file(entry.locator, device_path) if entry is not None and entry.stored else None
        if path is not None and path.stat().st_size <= _HASH_BY_EXTRACTING:
            try:
                self.materialize(device_path)
                return self._hashes.get(device_path)
            except BudgetExceeded:
                pass  # over the temporary-disk budget: hash it as a stream
        return super().sha256(device_path)

    def host_sha256(self, name: str) -> str | None:
        """SHA-256 of a file of the backup's own; ``Manifest.db`` as decrypted (what was parsed)."""
        if name == "Manifest.db" and self._manifest_sha256 is not None:
            return self._manifest_sha256[1]
        return super().host_sha256(name)

    def evidence_hashes(self, hash_all: bool = False) -> dict[str, str]:
        """SHA-256 of the backup's files as stored (encrypted), for integrity."""
        if hash_all:
            return super().evidence_hashes(True)
        hashes: dict[str, str] = {}
        for name in self.own_files:
            if name == "Manifest.db" and self._manifest_sha256 is not None:
                hashes[name] = self._manifest_sha256[0]
                continue
            path = self.host_file(name)
            if path is not None:
                hashes[name] = sha256_file(path)
        return hashes

    # -- what could not be decrypted ---------------------------------------------------------------

    def _not_decrypted(self, entry: FileEntry, why: str, protection: int | None = None) -> None:
        doc = self._meta_doc
        if entry.device_path in self._failed or not doc:
            return
        item: dict[str, Any] = {"device_path": entry.device_path, "file_id": entry.locator, "reason": why}
        if protection is not None:
            item["protection_class"] = protection
        self._failed[entry.device_path] = item
        doc["files_not_decrypted_count"] += 1
        if len(doc["files_not_decrypted"]) < _LIST_CAP:
            doc["files_not_decrypted"].append(item)

    def _locked_file(self, device_path: str, fid: str, protection: int | None) -> None:
        assert self._keys is not None
        if protection is None:
            why = "its MBFile metadata could not be decoded"
        else:
            why = self._keys.not_unlocked.get(protection, "the keybag has no key for this class")
            why = f"protection class {protection}: {why}"
        self._not_decrypted(FileEntry(device_path, locator=fid), why, protection)

    def _size_disagrees(self, entry: FileEntry, recorded: int, size: int) -> None:
        doc = self._meta_doc
        if entry.device_path in self._sizes:
            return
        item = {"device_path": entry.device_path, "file_id": entry.locator, "recorded_size": recorded,
                "decrypted_size": size}
        self._sizes[entry.device_path] = item
        doc["size_disagreements_count"] += 1
        if len(doc["size_disagreements"]) < _LIST_CAP:
            doc["size_disagreements"].append(item)
        self._notes.setdefault(entry.device_path, []).append(
            f"{entry.device_path}: decrypted {size} bytes where Manifest.db records {recorded}; read whole"
        )

    def artefact_notes(self, device_path: str) -> list[str]:
        """What decrypting an artefact showed (a size that disagrees with the Manifest's)."""
        return self._notes.get(device_path, [])

    def _encryption_facts(self) -> dict[str, Any]:
        # The same dict every time, filled in as files are read: attachments screened after the
        # parsers ran still reach info.json, which is written last.
        return {"encrypted": True, "decryption": self._meta_doc}


class _Hashing:
    """A ciphertext source that hashes what is read from it."""

    def __init__(self, handle: BinaryIO, digest: Any) -> None:
        self._handle = handle
        self._digest = digest

    def read(self, size: int = -1, /) -> bytes:
        data = self._handle.read(size)
        self._digest.update(data)
        return data

    def close(self) -> None:
        self._handle.close()


def open_ios_backup(path: Path, options: OpenOptions | None = None) -> Acquisition:
    """Open an iOS backup folder; a folder holding exactly one backup (a UDID folder) is accepted too."""
    if not path.exists():
        raise AcquisitionError(f"{path} does not exist")
    return IOSBackup.open_path(IOSBackup.detect(path) or path, options or OpenOptions())


HOST_PLIST_MAX = 64 << 20
"""The backup's own plists are read up to this size: real ones hold a few megabytes (Info.plist
with app icons at most), and plistlib builds a plist whole in many times its size of memory."""


def _read_capped(path: Path) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(HOST_PLIST_MAX + 1)
    if len(data) > HOST_PLIST_MAX:
        raise ArtefactError(f"{path.name} is larger than {HOST_PLIST_MAX >> 20} MB; not read")
    return data
