"""AndroidQF root_binaries.json: what ``which -a`` found for su, busybox, magisk and the like."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask.errors import ArtefactError
from unmask.model import Obs, Record
from unmask.parsers.base import ParseContext, Parser, Source


@dataclass(frozen=True, slots=True, kw_only=True)
class RootBinary(Record):
    """One path of a rooting tool found on the device (``modules/root_binaries.go``: ``which -a``
    of su, busybox, supersu, Superuser.apk, KingoUser.apk, SuperSu.apk, magisk, magiskhide,
    magiskinit, magiskpolicy)."""

    kind: ClassVar[str] = "android/androidqf/root_binary"
    summary: ClassVar[str] = "root binary {path}"
    path: Annotated[str, Obs.FILE_PATH]
    binary: str = ""


class RootBinariesParser(Parser):
    """AndroidQF root_binaries.json (a list of ``which -a`` outputs)."""

    name = "root_binaries"
    platform = "android"
    sources = (Source.host("root_binaries.json"),)
    records = (RootBinary,)

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[RootBinary]:
        with ctx.open(device_path) as handle:
            data = handle.read(16 << 20)
        try:
            found = json.loads(data)
        except (ValueError, RecursionError):
            raise ArtefactError("root_binaries.json is not JSON") from None
        if not isinstance(found, list):
            raise ArtefactError("root_binaries.json is not a JSON list")
        for n, item in enumerate(found):
            if not isinstance(item, str):
                continue
            for path in item.splitlines():  # ``which -a`` prints every hit on its own line
                path = path.strip()
                if path.startswith("/"):
                    yield RootBinary(device_path=device_path, locator=f"item={n}", path=path[:4096],
                                     binary=path.rsplit("/", 1)[-1])
