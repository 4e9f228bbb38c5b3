"""The output folder's format: the one module that writes and reads its framing.

The writers (:mod:`unmask.report.writers`), the HTML report (:mod:`unmask.report.html`) and
``recheck`` all go through here for the names of the files, the CSV headers and time format, the
``<parser>.json`` framing (a JSON array with one record per line, so it can be read back line by
line), and reading JSON with one-line errors.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from unmask.errors import UsageError
from unmask.model import Record, WallClockRecord

TIMELINE_HEADER = ("UTC Timestamp", "Plugin", "Event", "Description")
ALERTS_TIMELINE_HEADER = ("Event Time", "Module", "Severity", "Rule", "Message", "Event")


def csv_time(value: datetime) -> str:
    """Timestamps in the CSV timelines: UTC, sortable, MVT's ``YYYY-MM-DD HH:MM:SS.ffffff`` form."""
    return value.isoformat(" ", "microseconds")[:26]


def dump_json(path: Path, value: Any) -> None:
    """Write JSON atomically (a .part file renamed into place), indented for people."""
    tmp = path.with_suffix(path.suffix + ".part")
    with tmp.open("w", encoding="utf-8", errors="backslashreplace") as handle:
        json.dump(value, handle, ensure_ascii=False, indent=1, default=str)
        handle.write("\n")
    tmp.replace(path)


MAX_JSON_BYTES = 1 << 30
"""A saved info.json or alerts.json larger than this is not read (a results folder can come from
anywhere: a copy sent by someone else, or a folder someone tampered with)."""
MAX_LINE_BYTES = 64 << 20
"""One saved record (one line of ``<parser>.json``) larger than this is not read."""


def output_file(path: Path, max_bytes: int | None = MAX_JSON_BYTES) -> Path:
    """``path`` when it is a regular file of the results folder (not a link, a FIFO or a device)
    no larger than ``max_bytes``; else a one-line :class:`UsageError`."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise UsageError(f"{path.parent}: not an unmask output folder ({path.name} is missing)") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from None
    if stat.S_ISLNK(info.st_mode):
        raise UsageError(f"{path}: is a symbolic link; only regular files of the results folder are read")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{path}: is not a regular file")
    if max_bytes is not None and info.st_size > max_bytes:
        raise UsageError(f"{path}: {info.st_size:,} bytes, more than the {max_bytes:,} unmask reads")
    return path


def read_json(path: Path, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Read a JSON file of a saved output folder; a missing, refused or broken file is a one-line
    UsageError."""
    try:
        with output_file(path, max_bytes).open(encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, UnicodeDecodeError, RecursionError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from None


class RecordsFile:
    """One ``<parser>.json``: a JSON array with one record per line, written as records arrive.

    Records are serialised by orjson from :meth:`Record.field_values` (a few hundred thousand Manifest
    rows per scan make the stdlib encoder a noticeable share of a scan; orjson writes datetimes
    and tuples in the same form as :meth:`Record.to_json`); a record orjson refuses
    (a string with lone surrogates, an integer beyond 64 bits) goes through :meth:`Record.to_json`
    and the stdlib encoder instead, so nothing is dropped.
    """

    def __init__(self, folder: Path, parser: str) -> None:
        self.name = f"{parser}.json"
        self.path = folder / self.name
        self._tmp = folder / (self.name + ".part")
        self._handle = self._tmp.open("wb")
        self._handle.write(b"[\n")
        self._first = True

    def write(self, records: Sequence[Record]) -> None:
        """Append records to the array."""
        # Each line goes to the buffered file at once: orjson's output of a small document holds
        # a page-sized allocation, so a batch of lines kept in a list costs ~4 KB a record.
        write = self._handle.write
        dumps, default = orjson.dumps, _orjson_default
        for record in records:
            if self._first:
                self._first = False
            else:
                write(b",\n")
            try:
                write(dumps(record.field_values(), default=default))
            except (TypeError, orjson.JSONEncodeError):
                write(_stdlib_line(record))

    def close(self) -> None:
        """Finish the array and move the file into place."""
        self._handle.write(b"\n]\n")
        self._handle.close()
        self._tmp.replace(self.path)

    def abort(self) -> None:
        """Drop the unfinished file."""
        self._handle.close()
        self._tmp.unlink(missing_ok=True)


def _orjson_default(value: Any) -> Any:
    # The only field types orjson does not serialise itself; same forms as Record.to_json.
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(type(value).__name__)


def _stdlib_line(record: Record) -> bytes:
    text = json.dumps(record.to_json(), ensure_ascii=False, default=str)
    return text.encode("utf-8", "backslashreplace")


def csv_line(fields: Sequence[str]) -> str:
    """One CSV line exactly as ``csv.writer(quoting=csv.QUOTE_ALL)`` writes it."""
    return ",".join('"' + f.replace('"', '""') + '"' for f in fields) + "\r\n"


def timeline_description(record: Record) -> str:
    """A record's Description in timeline.csv, before CSV quoting and formula neutralising: its
    summary, and what of its time was inferred (``[time: year,zone inferred]``)."""
    text = record.describe()
    if isinstance(record, WallClockRecord) and record.time_inferred:
        text += f" [time: {record.time_inferred} inferred]"
    return text


def parse_csv_time(text: str) -> datetime:
    """The inverse of :func:`csv_time`: timeline.csv holds UTC times without an offset (MVT's column
    format); the result is aware."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def records_file_name(parser: str) -> str:
    """The file a parser's records are saved in: ``<parser>.json``."""
    return f"{parser}.json"


def iter_records_file(path: Path) -> Iterator[dict[str, Any]]:
    """The saved records of one ``<parser>.json``, one at a time, without reading the file whole.

    :class:`RecordsFile` writes one record per line between ``[`` and ``]``; a file in that framing
    is read line by line. A file in another layout (re-serialised by another tool) is read whole
    as a JSON array. Anything unreadable raises :class:`UsageError`: a recheck that silently read
    less than the original run would mislead.
    """
    try:
        with output_file(path, None).open("rb") as handle:
            first = handle.readline(MAX_LINE_BYTES)
            if first.strip() != b"[":
                rows = read_json(path)
                if not isinstance(rows, list):
                    raise UsageError(f"{path}: expected a list of records")
                for row in rows:
                    if not isinstance(row, dict):
                        raise UsageError(f"{path}: expected record objects")
                    yield row
                return
            number = 1
            while line := handle.readline(MAX_LINE_BYTES + 1):
                number += 1
                if len(line) > MAX_LINE_BYTES:
                    raise UsageError(f"{path}: cannot be read (line {number} is longer than {MAX_LINE_BYTES:,} bytes)")
                line = line.strip()
                if line in (b"]", b""):
                    continue
                if line.endswith(b","):
                    line = line[:-1]
                try:
                    value = orjson.loads(line)
                except orjson.JSONDecodeError:
                    value = _lenient_json(line, path, number)
                if not isinstance(value, dict):
                    raise UsageError(f"{path}: cannot be read (line {number} is not a record object)")
                yield value
    except FileNotFoundError:
        raise UsageError(f"{path.parent}: not an unmask output folder ({path.name} is missing)") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from None


def _lenient_json(line: bytes, path: Path, number: int) -> Any:
    # The stdlib fallback of RecordsFile writes lone surrogates as escapes orjson refuses to read.
    try:
        return json.loads(line.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, RecursionError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read (line {number}: {exc})") from None
