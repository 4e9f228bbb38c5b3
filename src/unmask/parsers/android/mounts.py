"""AndroidQF mounts.json: the lines of ``mount`` and ``/proc/mounts``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask.errors import ArtefactError
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Parser, Source

# "dev on /mnt type fs (opts)" (toybox mount) or "dev /mnt fs opts 0 0" (/proc/mounts)
_MOUNT = re.compile(r"(\S+) on (\S+) type (\S+) \((.*)\)\Z")
_PROC = re.compile(r"(\S+) (\S+) (\S+) (\S+) \d+ \d+\Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class Mount(Record):
    """One mounted file system (``modules/mounts.go``: ``mount`` and ``cat /proc/mounts``, de-duplicated)."""

    kind: ClassVar[str] = "android/androidqf/mount"
    summary: ClassVar[str] = "{device} on {mount_point} ({fs_type}, {options})"
    mount_point: Annotated[str, Obs.FILE_PATH]
    device: Annotated[str | None, Obs.FILE_PATH] = None
    fs_type: str | None = None
    options: tuple[str, ...] = ()


class MountsParser(Parser):
    """AndroidQF mounts.json (both line forms)."""

    name = "mounts"
    platform = "android"
    sources = (Source.host("mounts.json"),)
    records = (Mount,)

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Mount]:
        with ctx.open(device_path) as handle:
            data = handle.read(64 << 20)
        try:
            lines = json.loads(data)
        except (ValueError, RecursionError):
            raise ArtefactError("mounts.json is not JSON") from None
        if not isinstance(lines, list):
            raise ArtefactError("mounts.json is not a JSON list")
        seen: set[tuple[str, str]] = set()
        for n, line in enumerate(lines):
            if not isinstance(line, str):
                continue
            match = _MOUNT.match(line.strip()) or _PROC.match(line.strip())
            if match is None:
                ctx.warn(f"{device_path}: item {n} is not a mount line")
                continue
            device, point, fs, opts = match.groups()
            if (device, point) in seen:
                continue  # the same mount from both commands
            seen.add((device, point))
            yield Mount(device_path=device_path, locator=f"item={n}", mount_point=point, device=device,
                        fs_type=fs, options=tuple(o for o in opts.split(",") if o))
