"""AndroidQF files.json: every file its collector listed, with metadata and hashes, streamed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask import timeutil
from unmask.model import Obs, Record, Timestamp
from unmask.parsers.android._common import int_of, json_items, text_of
from unmask.parsers.base import ParseContext, Parser, Source


@dataclass(frozen=True, slots=True, kw_only=True)
class AndroidFile(Record):
    """One file listed by AndroidQF (``android-collector/cmd/find.go``: path, size, mode, user and
    group ids, changed/modified/access times in Unix seconds, SELinux context, hashes)."""

    kind: ClassVar[str] = "android/androidqf/file"
    summary: ClassVar[str] = "file {path} ({size} bytes, {mode})"
    path: Annotated[str, Obs.FILE_PATH]
    size: int | None = None
    mode: str | None = None
    user_id: int | None = None
    group_id: int | None = None
    modified: Timestamp | None = None
    changed: Timestamp | None = None
    accessed: Timestamp | None = None
    context: str | None = None
    sha256: Annotated[str | None, Obs.SHA256] = None
    sha1: Annotated[str | None, Obs.SHA1] = None
    md5: Annotated[str | None, Obs.MD5] = None
    mime_type: str | None = None


class FilesParser(Parser):
    """AndroidQF files.json, read incrementally: a 500 MB listing never sits in memory (MVT loads
    it whole, mvt #841)."""

    name = "files"
    platform = "android"
    sources = (Source.host("files.json"),)
    records = (AndroidFile,)

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[AndroidFile]:
        unix = timeutil.unix
        with ctx.open(device_path) as handle:
            for n, item in enumerate(json_items(handle, ctx, device_path)):
                if not isinstance(item, dict) or not isinstance(item.get("path"), str):
                    continue
                yield AndroidFile(
                    device_path=device_path,
                    locator=f"item={n}",
                    path=item["path"][:4096],
                    size=int_of(item.get("size")),
                    mode=text_of(item.get("mode"), 32),
                    user_id=int_of(item.get("user_id")),
                    group_id=int_of(item.get("group_id")),
                    modified=unix(int_of(item.get("modified_time")) or None),
                    changed=unix(int_of(item.get("changed_time")) or None),
                    accessed=unix(int_of(item.get("access_time")) or None),
                    context=text_of(item.get("context"), 256),
                    sha256=text_of(item.get("sha256"), 128),
                    sha1=text_of(item.get("sha1"), 128),
                    md5=text_of(item.get("md5"), 128),
                    mime_type=text_of(item.get("mime_type"), 128),
                )
