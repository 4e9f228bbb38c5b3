"""iOS update history from the Analytics journals (``/private/var/db/analyticsd/Analytics-Journal-*.ips``).

analyticsd starts a journal file per period; its first line is a JSON header with the time it was
opened (``"timestamp": "2023-03-01 10:00:00.00 +0100"``, with its own UTC offset) and the OS
version running then (``"os_version": "iPhone OS 16.3.1 (20D67)"``). The series of journals is a
history of the versions the device ran and when it was updated: an update at the time of a
suspected infection, or a downgrade, is worth knowing. Path and fields as MVT's
IOSVersionHistory module reads them (research/mvt.md §3.2); only the first line is read (bounded).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from unmask.errors import ArtefactError
from unmask.formats.text import Line
from unmask.model import Record, WallClockRecord
from unmask.parsers.base import ParseContext, Source, TextParser

_FORMATS = ("%Y-%m-%d %H:%M:%S.%f %z", "%Y-%m-%d %H:%M:%S %z")


@dataclass(frozen=True, slots=True, kw_only=True)
class OSVersionSeen(WallClockRecord):
    """The OS version running when an analytics journal was opened."""

    kind: ClassVar[str] = "ios/ios_version_history/journal"
    summary: ClassVar[str] = "running {os_version} (journal {journal})"

    time: datetime | None = None
    os_version: str | None = None
    journal: str


class IOSVersionHistoryParser(TextParser):
    """The OS versions the device ran, from the headers of its Analytics journals."""

    name = "ios_version_history"
    platform = "ios"
    sources = (Source("/private/var/db/analyticsd/Analytics-Journal-*.ips"),)
    records = (OSVersionSeen,)
    max_line = 1 << 16

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[Record]:
        """One record from the first line (the JSON header)."""
        first = next(lines, None)
        if first is None:
            raise ArtefactError("empty journal")
        try:
            header = json.loads(first.text)
        except ValueError:
            raise ArtefactError("the first line is not a JSON header") from None
        if not isinstance(header, dict):
            raise ArtefactError("the first line is not a JSON object")
        stamp = header.get("timestamp")
        found = ctx.wall_time(stamp, _FORMATS) if isinstance(stamp, str) else None
        version = header.get("os_version")
        yield OSVersionSeen(
            device_path=device_path,
            locator="line=1",
            time=found.value if found else None,
            time_inferred=found.inferred if found else "",
            os_version=version[:256] if isinstance(version, str) else None,
            journal=device_path.rsplit("/", 1)[-1],
        )
