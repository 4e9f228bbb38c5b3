"""Write an iOS full-filesystem dump in code: a folder, a tar (any compression) or a zip.

The tree follows a real device's layout: ``private/var/…`` beside ``System/…``, ``usr/…`` and
``Applications/…``, the ``var``/``etc``/``tmp`` links of the real root, app containers named by
UUID with their container-manager metadata plist, ``SystemVersion.plist`` (ProductName,
ProductVersion, ProductBuildVersion), lockdown's ``data_ark.plist`` and the MobileGestalt cache
(whose ``CacheExtra`` keys are MobileGestalt's obfuscated names). It can be written with or
without the leading ``private/``, inside wrapping folders, and (archives) without folder entries,
the shapes real extraction tools produce.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import plistlib
import stat
import tarfile
import uuid
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.builders.schema import db_bytes

DEFAULT_TIME = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
FORMS = ("folder", "tar", "tar.gz", "tar.bz2", "tar.xz", "tar.zst", "zip")
METADATA = ".com.apple.mobile_container_manager.metadata.plist"
CONTAINER_ROOTS = {
    "data": "/private/var/mobile/Containers/Data/Application",
    "group": "/private/var/mobile/Containers/Shared/AppGroup",
    "plugin": "/private/var/mobile/Containers/Data/PluginKitPlugin",
    "bundle": "/private/var/containers/Bundle/Application",
    "systemgroup": "/private/var/containers/Shared/SystemGroup",
}
# A few binaries of the system partition, so a dump "has the system volume".
SYSTEM_BINARIES = (
    "/usr/libexec/lockdownd",
    "/usr/libexec/nsurlsessiond",
    "/usr/libexec/locationd",
    "/usr/sbin/mDNSResponder",
    "/usr/libexec/identityservicesd",
    "/System/Library/PrivateFrameworks/IMCore.framework/imagent.app/imagent",
    "/System/Library/CoreServices/SpringBoard.app/SpringBoard",
    "/Applications/MobileSMS.app/MobileSMS",
    "/Applications/Preferences.app/Preferences",
)


def gestalt_key(name: str) -> str:
    """MobileGestalt's obfuscated key of an answer: base64(MD5("MGCopyAnswer" + name))[:22]."""
    return base64.b64encode(hashlib.md5(("MGCopyAnswer" + name).encode()).digest()).decode()[:22]


def container_uuid(kind: str, ident: str) -> str:
    """A stable container UUID for a bundle or group id (the device picks a random one)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}:{ident}")).upper()


@dataclass
class _Node:
    kind: str  # file | dir | symlink
    data: bytes = b""
    mtime: float = DEFAULT_TIME.timestamp()
    mode: int = 0o644
    target: str = ""


@dataclass
class DumpBuilder:
    """Accumulates device paths, then :meth:`finish` writes the dump in one of :data:`FORMS`."""

    root: Path
    ios_version: str = "17.4.1"
    build: str = "21E236"
    product_type: str = "iPhone14,2"
    device_name: str = "Test iPhone"
    timezone: str = "Europe/Zurich"
    system: bool = True
    _nodes: dict[str, _Node] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._scratch = self.root / ".scratch"

    # -- adding ----------------------------------------------------------------------------------

    def _parents(self, device_path: str, when: float) -> None:
        folder = device_path.rpartition("/")[0]
        while folder and folder not in self._nodes:
            self._nodes[folder] = _Node("dir", mtime=when, mode=0o755)
            folder = folder.rpartition("/")[0]

    def add_file(self, device_path: str, data: bytes, *, when: datetime = DEFAULT_TIME, mode: int = 0o644) -> str:
        """Add a regular file at an absolute device path."""
        assert device_path.startswith("/"), device_path
        self._parents(device_path, when.timestamp())
        self._nodes[device_path] = _Node("file", data, when.timestamp(), mode)
        return device_path

    def add_dir(self, device_path: str, *, when: datetime = DEFAULT_TIME) -> str:
        """Add a folder (its parents are added as needed)."""
        self._parents(device_path, when.timestamp())
        self._nodes[device_path] = _Node("dir", mtime=when.timestamp(), mode=0o755)
        return device_path

    def add_link(self, device_path: str, target: str) -> str:
        """Add a symbolic link (``target`` as written on the device)."""
        self._parents(device_path, DEFAULT_TIME.timestamp())
        self._nodes[device_path] = _Node("symlink", target=target, mode=0o755)
        return device_path

    def add_plist(self, device_path: str, value: Any, *, binary: bool = True, when: datetime = DEFAULT_TIME) -> str:
        """Add a property list."""
        fmt = plistlib.FMT_BINARY if binary else plistlib.FMT_XML
        return self.add_file(device_path, plistlib.dumps(value, fmt=fmt), when=when)

    def add_sqlite(
        self,
        device_path: str,
        schema: str | None,
        rows: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        extra_sql: str = "",
    ) -> str:
        """Add a SQLite database built from a real device DDL file and rows."""
        return self.add_file(device_path, db_bytes(self._scratch, schema, rows, extra_sql))

    def container(self, kind: str, ident: str, *, metadata: bool = True) -> str:
        """The device folder of an app container (``data``, ``group``, ``plugin``, ``bundle``,
        ``systemgroup``) for a bundle or group id, with its container-manager metadata plist."""
        folder = f"{CONTAINER_ROOTS[kind]}/{container_uuid(kind, ident)}"
        if metadata and folder + "/" + METADATA not in self._nodes:
            self.add_plist(folder + "/" + METADATA, {
                "MCMMetadataIdentifier": ident,
                "MCMMetadataContentClass": {"data": 2, "group": 7, "plugin": 4, "bundle": 1, "systemgroup": 13}[kind],
                "MCMMetadataUUID": container_uuid(kind, ident),
                "MCMMetadataSchemaVersion": 1,
                "MCMMetadataInfo": {},
            })
        return folder

    def _system_files(self) -> None:
        self.add_plist("/System/Library/CoreServices/SystemVersion.plist", {
            "ProductBuildVersion": self.build,
            "ProductCopyright": "1983-2024 Apple Inc.",
            "ProductName": "iPhone OS",
            "ProductVersion": self.ios_version,
            "SystemImageID": "00000000-0000-0000-0000-000000000000",
        }, binary=False)
        for binary in SYSTEM_BINARIES:
            self.add_file(binary, b"\xcf\xfa\xed\xfe" + bytes(28), mode=0o755)
        self.add_plist("/private/var/root/Library/Lockdown/data_ark.plist", {
            "-DeviceName": self.device_name,
            "-TimeZone": self.timezone,
            "com.apple.mobile.lockdown_cache-ActivationState": "Activated",
        })
        self.add_plist(
            "/private/var/containers/Shared/SystemGroup/systemgroup.com.apple.mobilegestaltcache/Library/Caches/"
            "com.apple.MobileGestalt.plist",
            {"CacheVersion": self.build, "CacheExtra": {
                gestalt_key("ProductType"): self.product_type,
                gestalt_key("ProductVersion"): self.ios_version,
                gestalt_key("BuildVersion"): self.build,
            }},
        )
        self.add_link("/private/var/db/timezone/localtime", f"/usr/share/zoneinfo/{self.timezone}")
        self.add_link("/var", "private/var")
        self.add_link("/etc", "private/etc")
        self.add_link("/tmp", "private/var/tmp")
        self.add_dir("/private/etc")
        self.add_dir("/private/var/tmp")

    # -- writing ---------------------------------------------------------------------------------

    def _names(self, private: bool, wrap: str) -> list[tuple[str, _Node]]:
        out: list[tuple[str, _Node]] = []
        for path, node in sorted(self._nodes.items()):
            name = path.lstrip("/")
            if not private:
                if name.startswith("private/"):
                    name = name[len("private/") :]
                elif name == "private":
                    continue
                elif name in ("var", "etc", "tmp") and node.kind == "symlink":
                    continue  # the real folders take these names now
            out.append((wrap + name, node))
        return out

    def finish(
        self,
        form: str = "folder",
        *,
        private: bool = True,
        wrap: str = "",
        dirs: bool = True,
        name: str = "dump",
    ) -> Path:
        """Write the dump: ``form`` is one of :data:`FORMS`; ``private=False`` drops the leading
        ``private/`` (``var/mobile/…``); ``wrap`` puts it inside folders (``"case/FFS/"``);
        ``dirs=False`` leaves folder entries out of an archive. Returns the folder or archive."""
        if self.system and "/System/Library/CoreServices/SystemVersion.plist" not in self._nodes:
            self._system_files()
        if self._scratch.exists():
            for p in self._scratch.iterdir():
                p.unlink()
            self._scratch.rmdir()
        entries = self._names(private, wrap)
        if form == "folder":
            return self._folder(self.root / name, entries)
        suffix = {"zip": ".zip"}.get(form, "." + form)
        target = self.root / (name + suffix)
        if form == "zip":
            self._zip(target, entries, dirs)
        else:
            self._tar(target, form, entries, dirs)
        return target

    def _folder(self, top: Path, entries: list[tuple[str, _Node]]) -> Path:
        top.mkdir(parents=True, exist_ok=True)
        for name, node in entries:
            path = top / name
            if node.kind == "dir":
                path.mkdir(parents=True, exist_ok=True)
            elif node.kind == "symlink":
                path.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(node.target, path)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(node.data)
                os.chmod(path, node.mode)
                os.utime(path, (node.mtime, node.mtime))
        for name, node in sorted(entries, key=lambda e: -e[0].count("/")):
            if node.kind == "dir":
                os.utime(top / name, (node.mtime, node.mtime))
        return top

    @staticmethod
    def _tar(target: Path, form: str, entries: list[tuple[str, _Node]], dirs: bool) -> None:
        mode = {"tar": "w", "tar.gz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz"}.get(form)
        plain = target if mode is not None else target.with_suffix(".tmp")
        with tarfile.open(plain, mode or "w", format=tarfile.PAX_FORMAT) as tar:
            for name, node in entries:
                info = tarfile.TarInfo(name)
                info.mtime, info.mode = int(node.mtime), node.mode
                if node.kind == "dir":
                    if not dirs:
                        continue
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                elif node.kind == "symlink":
                    info.type, info.linkname = tarfile.SYMTYPE, node.target
                    tar.addfile(info)
                else:
                    info.size = len(node.data)
                    tar.addfile(info, io.BytesIO(node.data))
        if mode is None:  # zstd: tarfile has no writer for it
            import zstandard

            with plain.open("rb") as source, target.open("wb") as sink:
                zstandard.ZstdCompressor().copy_stream(source, sink)
            plain.unlink()

    @staticmethod
    def _zip(target: Path, entries: list[tuple[str, _Node]], dirs: bool) -> None:
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, node in entries:
                when = datetime.fromtimestamp(node.mtime, UTC).timetuple()[:6]
                if node.kind == "dir":
                    if dirs:
                        info = zipfile.ZipInfo(name + "/", when)
                        info.create_system = 3
                        info.external_attr = (stat.S_IFDIR | 0o755) << 16
                        zf.writestr(info, b"")
                elif node.kind == "symlink":
                    info = zipfile.ZipInfo(name, when)
                    info.create_system = 3
                    info.external_attr = (stat.S_IFLNK | 0o755) << 16
                    zf.writestr(info, node.target)
                else:
                    info = zipfile.ZipInfo(name, when)
                    info.create_system = 3
                    info.external_attr = (stat.S_IFREG | node.mode) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    zf.writestr(info, node.data)

