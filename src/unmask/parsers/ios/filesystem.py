"""The file system of a full-filesystem dump as evidence: every file and folder, with its time and size.

Spyware leaves files behind (staging folders, implant binaries named like system daemons, lock
files, dropped payloads); the public indicator sets name them by absolute path (``file:path``),
by file name (``file:name``) and by process name (``process:name``, which on disk is the name of a
binary or of a folder anywhere in the tree), some by hash. One record per entry of the
acquisition's listing carries those facts:

- ``path``, the absolute device path: a ``file:path`` indicator matches it or any folder above it
  on component boundaries (``/private/var/tmp/hooker`` matches ``/private/var/tmp/hooker/x`` but
  never ``/private/var/tmp/hookerX``), and its last component is the ``file:name``;
- ``name``, matched as a process name: every folder has its own record, so a process indicator
  matches any component of any path exactly once, on the entry so named. Archives that list files
  without their folders get a record for each implied folder (``implied``), so nothing depends on
  how the dump was packed. (MVT's Filesystem module matches process names against every
  component of every path, relative to the dump root; research/mvt.md §3.2.)
- ``modified``, the modification time the dump preserved (a folder dump's change and birth times
  are the extraction host's, not the device's, so they are not kept), for the timeline;
- ``web_hosts``, the site a WebKit website-data folder or file is named after
  (``https_example.com_0`` in ``WebsiteData/IndexedDB``, ``LocalStorage``, SafariViewService's
  ``WebsiteData``…, in every app container): what MVT's WebkitIndexedDB, WebkitLocalStorage and
  WebkitSafariViewService modules read from folder names (research/mvt.md §3.2); read from each
  entry's own name, so a folder is reported once, not once per file inside it;
- ``app``, the bundle id of the app container the entry lies in (:mod:`unmask.parsers.ios.containers`);
- with ``--hash-all`` (:attr:`unmask.acquisition.options.OpenOptions.hash_all`), the MD5, SHA-1
  and SHA-256 of every regular file, matched against ``file:hashes`` indicators.

Every file in a message attachment store (``Library/SMS/Attachments``, WhatsApp's
``Message/Media`` in its app group) is an :class:`AttachmentFile`, a filesystem entry that declares
its content, so each one is screened for exploit payloads (:mod:`unmask.detect.attachments`), also
when the message that delivered it, or its row in the database, is gone.

The parser streams the listing in batches (:meth:`unmask.acquisition.base.Acquisition.listing`) and
keeps only a bounded cache of folders already seen, so memory does not grow with the dump.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from unmask.acquisition.base import Acquisition, FileEntry
from unmask.errors import ArtefactError
from unmask.model import Content, Obs, Record
from unmask.parsers.base import ParseContext, Parser, Source
from unmask.parsers.ios.containers import app_of, split_container
from unmask.parsers.ios.manifest import web_origin_hosts

_SEEN_LIMIT = 16_384
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class FilesystemEntry(Record):
    """One file, folder or link of the dump's file system."""

    kind: ClassVar[str] = "ios/filesystem/entry"
    summary: ClassVar[str] = "{entry_kind} {path}"

    modified: datetime | None = None
    path: Annotated[str, Obs.FILE_PATH]
    name: Annotated[str, Obs.PROCESS]
    entry_kind: str
    size: int | None = None
    mode: int | None = None
    link: str | None = None
    web_hosts: Annotated[tuple[str, ...], Obs.HOST] = ()
    app: str | None = None
    implied: bool = False
    md5: Annotated[str | None, Obs.MD5] = None
    sha1: Annotated[str | None, Obs.SHA1] = None
    sha256: Annotated[str | None, Obs.SHA256] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentFile(FilesystemEntry):
    """A file of a message attachment store on the disk, screened for exploit payloads."""

    kind: ClassVar[str] = "ios/filesystem/attachment"
    content: ClassVar[Content | None] = Content("path", name="name")


_ATTACHMENT_STORES = ("/private/var/mobile/Library/SMS/Attachments/", "/Message/Media/")


def _is_attachment(path: str) -> bool:
    if path.startswith(_ATTACHMENT_STORES[0]):
        return True
    return _ATTACHMENT_STORES[1] in path and path.startswith("/private/var/mobile/Containers/Shared/AppGroup/")


def _hashes(acq: Acquisition, path: str) -> tuple[str, str, str] | None:
    md5, sha1, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha1(usedforsecurity=False), hashlib.sha256()
    try:
        with acq.open(path) as handle:
            while chunk := handle.read(_CHUNK):
                md5.update(chunk)
                sha1.update(chunk)
                sha256.update(chunk)
    except (OSError, ArtefactError):
        return None
    return md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest()


class FilesystemParser(Parser):
    """Every file and folder of a full-filesystem dump: path, name, size, mode, modification time."""

    name = "filesystem"
    platform = "ios"
    sources = (Source.listing(),)
    records = (FilesystemEntry, AttachmentFile)

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Record]:
        """One record per listed entry (and per folder the listing only implies), in listing order."""
        acq = ctx.acq
        hash_all = acq.options.hash_all
        apps: dict[str, str | None] = {}
        seen: set[str] = set()
        unhashed = 0

        def app(path: str) -> str | None:
            if "ontainers/" not in path:
                return None
            found = split_container(path)
            if found is None:
                return None
            folder = found[0]
            if folder not in apps:
                apps[folder] = app_of(acq, path)
            return apps[folder]

        def implied(path: str) -> Iterator[FilesystemEntry]:
            # The folders above ``path`` that the listing does not hold, top first; a folder that
            # the listing holds (before or after this entry) gets its own record from it.
            missing: list[str] = []
            folder = path.rpartition("/")[0]
            while folder and folder not in seen:
                if len(seen) >= _SEEN_LIMIT:
                    seen.clear()
                seen.add(folder)
                if acq.entry(folder) is not None:
                    break
                missing.append(folder)
                folder = folder.rpartition("/")[0]
            for name in reversed(missing):
                yield FilesystemEntry(
                    device_path=name, locator="implied folder", path=name, name=name.rpartition("/")[2],
                    entry_kind="dir", app=app(name), implied=True,
                )

        for batch in acq.listing():
            for e in batch:
                path = e.device_path
                if path == "/":
                    continue
                folder = path.rpartition("/")[0]
                if folder and folder not in seen:
                    yield from implied(path)
                if e.kind == "dir":
                    if len(seen) >= _SEEN_LIMIT:
                        seen.clear()
                    seen.add(path)
                digests = None
                if hash_all and e.kind == "file" and e.stored:
                    digests = _hashes(acq, path)
                    unhashed += digests is None
                cls = AttachmentFile if e.kind == "file" and _is_attachment(path) else FilesystemEntry
                yield _record(e, app(path) if path.startswith("/private/var/") else None, digests, cls)
        if unhashed:
            ctx.warn(f"{unhashed} files could not be read to be hashed")


def _record(
    e: FileEntry, app: str | None, digests: tuple[str, str, str] | None, cls: type[FilesystemEntry] = FilesystemEntry
) -> FilesystemEntry:
    path = e.device_path
    name = path.rpartition("/")[2]
    return cls(
        device_path=path,
        # The entry's name in the dump, when it is not simply the device path (a wrapping folder,
        # a dump without private/): the device path says the rest.
        locator=e.locator if isinstance(e.locator, str) and e.locator != path[1:] else "",
        modified=e.modified,
        path=path,
        name=name,
        entry_kind=e.kind,
        size=e.size,
        mode=e.mode,
        link=e.link or None,
        web_hosts=web_origin_hosts(name) if "_" in name and name[:1] in "hw" else (),
        app=app,
        md5=digests[0] if digests else None,
        sha1=digests[1] if digests else None,
        sha256=digests[2] if digests else None,
    )
