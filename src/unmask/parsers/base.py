"""Parsers: one file per artefact, each declaring the device paths it reads and the records it yields.

Parsers yield facts only. They never match indicators, format output or raise alerts; a corrupt or
unexpected artefact raises :class:`~unmask.errors.ArtefactError` (``failed``) or
:class:`~unmask.errors.SchemaUnsupported` (``unsupported``) and the scan goes on.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import Any, ClassVar

from unmask.acquisition.base import Acquisition
from unmask.errors import ArtefactError, SchemaUnsupported
from unmask.model import ArtefactRun, Coverage, Record, Status
from unmask.parsers import plist
from unmask.parsers.sqlite import Database, open_database


@dataclass(frozen=True, slots=True)
class Source:
    """Where a parser looks: a device-path glob, or (``host=True``) a file of the acquisition itself."""

    pattern: str
    host: bool = False


@dataclass
class ParseContext:
    """What a parser gets besides the device path: the acquisition and a place for warnings."""

    acq: Acquisition
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        """Note something the investigator should know that is not a finding (a skipped row…)."""
        if len(self.warnings) < 1000:
            self.warnings.append(message)


class Parser(ABC):
    """Base of all parsers. Subclasses set ``name``, ``sources`` and ``records`` and implement parse."""

    name: ClassVar[str] = ""
    sources: ClassVar[tuple[Source, ...]] = ()
    records: ClassVar[tuple[type[Record], ...]] = ()
    acquisitions: ClassVar[tuple[str, ...]] = ("ios-backup", "ios-fs")

    @classmethod
    def description(cls) -> str:
        """The first line of the parser's docstring."""
        return (inspect.getdoc(cls) or cls.__name__).splitlines()[0]

    def resolve(self, acq: Acquisition) -> list[str]:
        """The device paths (or host file names) this parser will read in an acquisition."""
        found: list[str] = []
        for source in self.sources:
            if source.host:
                if acq.host_file(source.pattern) is not None:
                    found.append(source.pattern)
            else:
                found.extend(p for p in acq.glob(source.pattern) if p not in found)
        return found

    @abstractmethod
    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Record]:
        """Yield the records of one artefact."""


class SqliteParser(Parser):
    """A parser of one SQLite artefact. ``required`` lists the tables and columns it cannot do without."""

    required: ClassVar[dict[str, set[str]]] = {}

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Record]:
        """Open the database safely, check the schema, and yield :meth:`rows`."""
        with open_database(ctx.acq, device_path) as db:
            missing = db.missing(self.required)
            if missing:
                raise SchemaUnsupported(f"schema lacks {', '.join(missing)}")
            for note in db.notes:
                ctx.warn(f"{device_path}: {note}")
            yield from self.rows(ctx, db)

    @abstractmethod
    def rows(self, ctx: ParseContext, db: Database) -> Iterator[Record]:
        """Yield records from an opened database whose schema has the required columns."""


class PlistParser(Parser):
    """A parser of one property list."""

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Record]:
        """Decode the plist and yield :meth:`items`."""
        data = ctx.acq.read_bytes(device_path)
        yield from self.items(ctx, device_path, plist.load(data))

    @abstractmethod
    def items(self, ctx: ParseContext, device_path: str, value: Any) -> Iterator[Record]:
        """Yield records from a decoded plist value."""


# --- tolerant value helpers (device rows hold NULLs, blobs, huge integers, invalid text) ----------


def text(value: object) -> str | None:
    """A column value as text: bytes decoded leniently, numbers formatted, NULL → None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def integer(value: object) -> int | None:
    """A column value as an int when it is one (or a numeric string), else None."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str | bytes):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def flag(value: object) -> bool | None:
    """A boolean column or plist value as a bool: booleans as they are, numbers non-zero = true,
    anything else (NULL, text, blobs) unknown."""
    if isinstance(value, bool):
        return value
    number_ = integer(value)
    return None if number_ is None else number_ != 0


def direction(is_from_me: object) -> str:
    """``sent`` / ``received`` from an ``is_from_me`` flag; ``unknown`` when it is NULL or odd."""
    value = integer(is_from_me)
    return "sent" if value == 1 else "received" if value == 0 else "unknown"


def number(value: object) -> float | None:
    """A column value as a float when numeric, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(text(value) or "")
    except ValueError:
        return None


# --- registry and runner ------------------------------------------------------------------------

_PACKAGES = ("unmask.parsers.ios", "unmask.parsers.android")


def _import_all(package_name: str) -> None:
    try:
        package = importlib.import_module(package_name)
    except ModuleNotFoundError:
        return
    for info in pkgutil.walk_packages(package.__path__, package_name + "."):
        importlib.import_module(info.name)


def _concrete(cls: type[Parser]) -> Iterator[type[Parser]]:
    for sub in cls.__subclasses__():
        if sub.name and not inspect.isabstract(sub):
            yield sub
        yield from _concrete(sub)


@cache
def registry() -> tuple[type[Parser], ...]:
    """Every parser: the built-in packages plus the ``unmask.parsers`` entry point group."""
    for name in _PACKAGES:
        _import_all(name)
    for ep in entry_points(group="unmask.parsers"):
        ep.load()
    seen: dict[str, type[Parser]] = {}
    for cls in _concrete(Parser):  # type: ignore[type-abstract]
        seen.setdefault(cls.name, cls)
    return tuple(sorted(seen.values(), key=lambda c: c.name))


def parsers_for(kind: str) -> list[type[Parser]]:
    """Parsers that apply to an acquisition kind."""
    return [p for p in registry() if kind in p.acquisitions]


def run_parser(parser: Parser, acq: Acquisition) -> tuple[list[Record], Coverage]:
    """Run one parser over every artefact it finds; never raises for bad evidence."""
    coverage = Coverage(parser.name, parser.description())
    return list(iter_parser(parser, acq, coverage)), coverage


def iter_parser(parser: Parser, acq: Acquisition, coverage: Coverage) -> Iterator[Record]:
    """Yield the records of one parser over every artefact it finds, filling ``coverage`` as it
    goes; never raises for bad evidence (a failure ends that artefact and is recorded)."""
    paths = parser.resolve(acq)
    if not paths:
        listed = [
            s.pattern
            for s in parser.sources
            if not s.host and not any(c in s.pattern for c in "*?[") and acq.entry(s.pattern) is not None
        ]
        if listed:
            coverage.absent_reason = "listed in the acquisition but its content is not stored: " + ", ".join(
                listed
            )
        else:
            coverage.absent_reason = "not in the evidence"
        return
    for path in paths:
        ctx = ParseContext(acq)
        run = ArtefactRun(path, Status.PARSED)
        coverage.artefacts.append(run)
        try:
            run.sha256 = _hash(acq, parser, path)
            for record in parser.parse(ctx, path):
                run.records += 1
                yield record
        except SchemaUnsupported as exc:
            run.status, run.reason = Status.UNSUPPORTED, str(exc)
        except ArtefactError as exc:
            run.status, run.reason = Status.FAILED, _partial(str(exc), run.records)
        except (OSError, MemoryError, RecursionError) as exc:
            run.status, run.reason = Status.FAILED, _partial(f"{type(exc).__name__}: {exc}", run.records)
        except Exception as exc:  # a parser bug must not end the scan; it is reported as coverage
            run.status = Status.FAILED
            run.reason = _partial(f"unexpected {type(exc).__name__}: {exc}", run.records)
        coverage.warnings.extend(ctx.warnings)


def _partial(reason: str, count: int) -> str:
    return f"{reason} (after {count} records)" if count else reason


def _hash(acq: Acquisition, parser: Parser, path: str) -> str | None:
    if any(s.host and s.pattern == path for s in parser.sources):
        from unmask.acquisition.base import sha256_file

        host = acq.host_file(path)
        return sha256_file(host) if host else None
    return acq.sha256(path)
