"""Manifest: every file and folder an iOS backup lists, with its metadata and web origins."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar

from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Parser, Source

# WebKit names website-data folders and files after the origin: https_example.com_0,
# http_sub.example.org_8080.localstorage. Those hosts are facts about visited sites.
_WEBKIT_ORIGIN = re.compile(
    r"^(?:https?|wss?)_([A-Za-z0-9.-]+\.[A-Za-z0-9-]+)_\d+(?:\.localstorage(?:-shm|-wal)?)?$"
)


def web_origin_hosts(path: str) -> tuple[str, ...]:
    """Hosts named by WebKit origin folders or files in a path (``https_evil.com_0`` → ``evil.com``)."""
    hosts: list[str] = []
    for part in path.split("/"):
        if "_" in part:
            match = _WEBKIT_ORIGIN.match(part)
            if match and match.group(1) not in hosts:
                hosts.append(match.group(1))
    return tuple(hosts)


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestFile(Record):
    """One row of Manifest.db: a file, folder or link the backup lists."""

    kind: ClassVar[str] = "ios/manifest/file"
    summary: ClassVar[str] = "{file_kind} {path} ({size} bytes){missing}"

    modified: datetime | None = None
    created: datetime | None = None
    changed: datetime | None = None
    path: Annotated[str, Obs.FILE_PATH]
    domain: str
    relative_path: str
    file_kind: str
    file_id: str
    size: int | None = None
    mode: int | None = None
    stored: bool = True
    web_hosts: Annotated[tuple[str, ...], Obs.HOST] = ()

    @property
    def missing(self) -> str:
        """Marker for files listed but not stored."""
        return "" if self.stored else " [listed, not stored]"


class ManifestParser(Parser):
    """Files and folders listed in an iOS backup's Manifest.db, with sizes, modes and times."""

    name = "manifest"
    platform = "ios"
    sources = (Source.host("Manifest.db"),)
    records = (ManifestFile,)

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Record]:
        """Yield one record per Manifest.db row, from the backup's listing (the acquisition decodes
        the MBFile metadata)."""
        undecodable = 0
        for batch in ctx.acq.listing():
            for e in batch:
                undecodable += not e.metadata_ok
                rel = e.relative_path
                yield ManifestFile(
                    device_path=e.device_path,
                    locator=f"Files.fileID={e.locator}",
                    path=e.device_path,
                    domain=e.domain,
                    relative_path=rel,
                    file_kind=e.kind,
                    file_id=e.locator,
                    size=e.size,
                    mode=e.mode,
                    created=e.birth,
                    modified=e.modified,
                    changed=e.changed,
                    stored=e.stored,
                    web_hosts=web_origin_hosts(rel) if "_" in rel else (),
                )
        if undecodable:
            ctx.warn(f"{undecodable} Manifest.db rows have metadata that is not an MBFile archive")
