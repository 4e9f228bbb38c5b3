"""Device log files AndroidQF pulls into ``logs/`` (ANR traces, ``/data/log``, kernel logs,
``uiderrors.txt``; mvt-project/androidqf ``modules/logs.go``) and a bugreport's ``FS/data/anr``:
each file's modification time, and the lines that name links or addresses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask.formats.text import Line, locator
from unmask.model import Obs, Record, Timestamp
from unmask.observables import find_urls
from unmask.parsers.android._common import LogLineBase, addresses_in
from unmask.parsers.base import ParseContext, Source, TextParser


@dataclass(frozen=True, slots=True, kw_only=True)
class LogFile(Record):
    """One log file of the device and when it was last written."""

    kind: ClassVar[str] = "android/logs/file"
    summary: ClassVar[str] = "log file {path} modified {modified}"
    path: Annotated[str, Obs.FILE_PATH]
    modified: Timestamp | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LogFileLine(LogLineBase):
    """A line of a device log file that names a link or an address."""

    kind: ClassVar[str] = "android/logs/line"
    summary: ClassVar[str] = "{source}: {message}"


class LogFilesParser(TextParser):
    """Device log files (ANR traces, /data/log, kernel and pstore logs, uiderrors.txt)."""

    name = "log_files"
    platform = "android"
    sources = (
        Source("/data/anr/*"), Source("/data/log/**/*"), Source("/sdcard/log/**/*"),
        Source("/data/system/uiderrors.txt"), Source("/proc/kmsg"), Source("/proc/last_kmsg"),
        Source("/sys/fs/pstore/console-ramoops*"),
    )
    records = (LogFile, LogFileLine)
    max_line = 64 << 10

    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[Record]:
        entry = ctx.acq.stat(device_path)
        yield LogFile(device_path=device_path, path=device_path, modified=entry.modified if entry else None,
                      size=entry.size if entry else None)
        for line in lines:
            if "." not in line.text:
                continue
            links, addresses = find_urls(line.text), addresses_in(line.text)
            if links or addresses:
                yield LogFileLine(device_path=device_path, locator=locator(line), source=device_path,
                                  message=line.text[:4096], links=links[:50], addresses=addresses[:50])
