"""Parsers: one file per artefact, each declaring where it reads and the records it yields.

Parsers yield facts only. They never match indicators, format output or raise alerts; a corrupt or
unexpected artefact raises :class:`~unmask.errors.ArtefactError` (``failed``) or
:class:`~unmask.errors.SchemaUnsupported` (``unsupported``) and the scan goes on.

A parser declares the platform it applies to (``ios``, ``android``, ``any``), never acquisition
kinds, so a new kind of acquisition edits no parser; and each :class:`Source` says in which name
space its pattern lives: a device path, a file of the acquisition itself, or a named section of a
command output that the acquisition maps once per scan.
"""

from __future__ import annotations

import enum
import fnmatch
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cached_property
from typing import Any, BinaryIO, ClassVar

from unmask import timeutil
from unmask.acquisition.base import Acquisition
from unmask.budget import DEFAULT, Allowance, Budget, BudgetExceeded
from unmask.errors import ArtefactError, SchemaUnsupported
from unmask.formats import plist
from unmask.formats.sqlite import Database, open_database
from unmask.formats.text import Line, iter_lines, open_text
from unmask.model import ArtefactRun, Coverage, Record, Status
from unmask.parsers import registry as _registry


class Where(enum.StrEnum):
    """The name space a :class:`Source` pattern lives in."""

    DEVICE = "device"
    """A device path or glob (``/private/var/mobile/Library/SMS/sms.db``, ``/data/system/*.xml``)."""
    HOST = "host"
    """A file of the acquisition itself, not of the device (a backup's ``Info.plist``)."""
    SECTION = "section"
    """A named section of a command output (``dumpsys:package``, ``getprop``, ``sysdiagnose:ps.txt``)."""
    LISTING = "listing"
    """The acquisition's listing of the device's whole file system (a full-filesystem dump only)."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where a parser looks: a pattern in one name space (a device path by default)."""

    pattern: str
    where: Where = Where.DEVICE

    @classmethod
    def host(cls, name: str) -> Source:
        """A file of the acquisition itself (a backup's ``Info.plist``, ``Manifest.db``)."""
        return cls(name, Where.HOST)

    @classmethod
    def section(cls, name: str) -> Source:
        """A named section (glob allowed: ``dumpsys:*``) that the acquisition maps once per scan."""
        return cls(name, Where.SECTION)

    @classmethod
    def listing(cls) -> Source:
        """The device's file system as a whole, one artefact named ``/``, when the acquisition is a
        full-filesystem dump (:attr:`unmask.acquisition.base.Acquisition.full_filesystem`)."""
        return cls("/", Where.LISTING)

    @property
    def is_glob(self) -> bool:
        """Whether the pattern holds glob characters."""
        return any(c in self.pattern for c in "*?[")


PLIST_EXPANSION = 16
"""Bytes of memory that decoding a plist takes per byte of file, at most about (a 42 MB keyed
archive of a million objects grew the process by 590 MB)."""


@dataclass
class ParseContext:
    """What a parser gets besides the artefact's name: the acquisition, the device's time zone and
    the time the evidence was taken (for local wall-clock times), and a place for warnings."""

    acq: Acquisition
    warnings: list[str] = field(default_factory=list)
    allowance: Allowance = field(default_factory=DEFAULT.start)

    def warn(self, message: str) -> None:
        """Note something the investigator should know that is not a finding (a skipped row…)."""
        if len(self.warnings) < 1000:
            self.warnings.append(message)

    @cached_property
    def zone(self) -> tzinfo | None:
        """The device's time zone, when the acquisition records one."""
        return timeutil.zone(self.acq.timezone())

    @cached_property
    def year_hint(self) -> datetime | None:
        """When the evidence was taken: the year of a log line that has none is inferred from it."""
        return self.acq.collected()

    def wall_time(self, text: str, formats: Sequence[str]) -> timeutil.WallTime | None:
        """A local wall-clock time from the evidence, in UTC, with what had to be inferred (the
        year, the zone); ``None`` when it does not parse (:func:`unmask.timeutil.parse_wall`)."""
        return timeutil.parse_wall(text, formats, zone=self.zone, year_hint=self.year_hint)

    def read_plist(self, name: str) -> bytes:
        """The bytes of a plist artefact (``name`` as for :meth:`open`), refused with
        :class:`ArtefactError` when decoding it could not fit in the parser's memory budget.

        plistlib builds every object of a plist at once, and no budget check can interrupt it: a
        plist takes up to about :data:`PLIST_EXPANSION` times its size in memory. So a plist is read
        only up to the memory budget divided by that (128 MB for the default 2 GB budget)."""
        limit = self.allowance.memory_limit // PLIST_EXPANSION
        with self.open(name) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise ArtefactError(
                f"plist larger than {limit // (1 << 20)} MB: decoding it would need about {PLIST_EXPANSION} "
                f"times that in memory, over the parser's memory budget of {self.allowance.budget.memory_mb} MB "
                "(--budget-memory)"
            )
        return data

    def open(self, name: str) -> BinaryIO:
        """A binary stream over an artefact this parser resolved: a named section, a device path,
        or a file of the acquisition itself."""
        if name in self.acq.section_names():
            return self.acq.open_section(name)
        if name.startswith("/"):
            return self.acq.open(name)
        return self.acq.open_host(name)


def _abstract(cls: type) -> bool:
    # ABCMeta computes __abstractmethods__ only after __init_subclass__ has run, so work it out
    # the way it will: a method still abstract on the class, own or inherited.
    names = {name for name, value in vars(cls).items() if getattr(value, "__isabstractmethod__", False)}
    for base in cls.__mro__[1:]:
        names.update(getattr(base, "__abstractmethods__", ()))
    return any(getattr(getattr(cls, name, None), "__isabstractmethod__", False) for name in names)


class Parser(ABC):
    """Base of all parsers. Subclasses set ``name``, ``platform``, ``sources`` and ``records`` and
    implement :meth:`parse`.

    Defining a concrete subclass registers it (:mod:`unmask.parsers.registry`); a shared base
    that is not a parser itself says so with ``class Base(Parser, abstract=True)`` or by leaving
    an abstract method unimplemented.
    """

    name: ClassVar[str] = ""
    platform: ClassVar[str] = ""
    sources: ClassVar[tuple[Source, ...]] = ()
    records: ClassVar[tuple[type[Record], ...]] = ()
    declared_abstract: ClassVar[bool] = True
    """Set on every class: whether it is a shared base (not registered) rather than a parser."""

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.declared_abstract = abstract or _abstract(cls)
        if not cls.declared_abstract:
            _registry.register(cls)

    @classmethod
    def description(cls) -> str:
        """The first line of the parser's docstring."""
        return (inspect.getdoc(cls) or cls.__name__).splitlines()[0]

    def resolve(self, acq: Acquisition) -> list[str]:
        """The artefacts (device paths, host file names, section names) this parser will read."""
        found: list[str] = []
        for source in self.sources:
            if source.where is Where.HOST:
                hits = [source.pattern] if acq.has_host(source.pattern) else []
            elif source.where is Where.LISTING:
                hits = [source.pattern] if acq.full_filesystem else []
            elif source.where is Where.SECTION:
                names = acq.section_names()
                hits = sorted(fnmatch.filter(names, source.pattern)) if source.is_glob else (
                    [source.pattern] if source.pattern in names else []
                )
            else:
                hits = acq.glob(source.pattern)
            found.extend(p for p in hits if p not in found)
        return found

    @abstractmethod
    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Record]:
        """Yield the records of one artefact."""


@contextmanager
def open_sqlite(acq: Acquisition, device_path: str, allowance: Allowance | None = None) -> Iterator[Database]:
    """The SQLite artefact at a device path, opened safely with its ``-wal``/``-shm`` companions
    (:func:`unmask.formats.sqlite.open_database`) within a budget; :class:`ArtefactError` if it is
    not stored."""
    try:
        source = acq.materialize(device_path)
    except FileNotFoundError:
        raise ArtefactError("not stored in the evidence") from None
    wal = acq.materialize(device_path + "-wal") if acq.exists(device_path + "-wal") else None
    shm = acq.materialize(device_path + "-shm") if wal is not None and acq.exists(device_path + "-shm") else None
    scratch = None if acq.local_path(device_path) is not None and wal is None else acq.workdir
    with open_database(source, device_path, wal=wal, shm=shm, allowance=allowance, scratch=scratch) as db:
        yield db


class SqliteParser(Parser):
    """A parser of one SQLite artefact. ``required`` lists the tables and columns it cannot do without."""

    required: ClassVar[dict[str, set[str]]] = {}

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Record]:
        """Open the database safely, check the schema, and yield :meth:`rows`."""
        with open_sqlite(ctx.acq, device_path, ctx.allowance) as db:
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
        """Decode the plist (if it fits in the memory budget: :meth:`ParseContext.read_plist`) and
        yield :meth:`items`."""
        data = ctx.read_plist(device_path)
        yield from self.items(ctx, device_path, plist.load(data))

    @abstractmethod
    def items(self, ctx: ParseContext, device_path: str, value: Any) -> Iterator[Record]:
        """Yield records from a decoded plist value."""


class TextParser(Parser):
    """A parser of one text artefact (a log, a command output, a section of one), read line by line.

    The artefact may be gzip, bzip2, xz or zstd compressed; memory stays bounded whatever its size
    (:func:`unmask.formats.text.iter_lines`): a line longer than ``max_line`` bytes is cut and
    marked, a record of continuation lines (:meth:`continues`) is capped at ``max_record``
    characters, and reading stops with a failure past ``max_bytes`` decompressed bytes. Records
    name their line as ``line=N`` (:func:`unmask.formats.text.locator`).
    """

    encoding: ClassVar[str] = "utf-8"
    max_line: ClassVar[int] = 1 << 20
    max_record: ClassVar[int] = 4 << 20
    max_bytes: ClassVar[int | None] = 8 << 30

    def continues(self, text: str) -> bool:
        """Whether a physical line continues the record before it (indented lines, stack traces).
        None do, unless a subclass says otherwise."""
        return False

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[Record]:
        """Open the artefact, decompress it if needed, and yield :meth:`lines`."""
        joins = type(self).continues is not TextParser.continues
        with ctx.open(device_path) as raw:
            stream = open_text(raw, max_bytes=self.max_bytes)
            lines = iter_lines(
                stream,
                encoding=self.encoding,
                max_line=self.max_line,
                continues=self.continues if joins else None,
                max_record=self.max_record,
            )
            yield from self.lines(ctx, device_path, _clocked(lines, ctx.allowance.check))

    @abstractmethod
    def lines(self, ctx: ParseContext, device_path: str, lines: Iterator[Line]) -> Iterator[Record]:
        """Yield records from the artefact's lines (or records of continuation lines)."""


def _clocked(lines: Iterator[Line], check: Callable[[], None]) -> Iterator[Line]:
    """The lines, with the parser's budget checked every 4,096 of them: a parser may read millions
    of lines without yielding a record (a 60 KB gzip stream of 17 million lines none of which is a
    service, found by the fuzzer), and the runner's own check comes only between records."""
    for n, line in enumerate(lines, 1):
        if not n & 4095:
            check()
        yield line


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


# --- runner ------------------------------------------------------------------------------------


def run_parser(parser: Parser, acq: Acquisition, budget: Budget = DEFAULT) -> tuple[list[Record], Coverage]:
    """Run one parser over every artefact it finds; never raises for bad evidence."""
    coverage = Coverage(parser.name, parser.description())
    return list(iter_parser(parser, acq, coverage, budget)), coverage


def iter_parser(parser: Parser, acq: Acquisition, coverage: Coverage, budget: Budget = DEFAULT) -> Iterator[Record]:
    """Yield the records of one parser over every artefact it finds, filling ``coverage`` as it
    goes; never raises for bad evidence (a failure ends that artefact and is recorded).

    A record of a type the parser does not declare ends its artefact as ``failed``: every
    consumer (the writers, recheck, the heuristics) relies on the declaration. The parser spends
    one ``budget`` over all its artefacts (time and memory checked between records and inside
    SQLite queries); once it is spent, the artefact at hand fails and the rest are not read.
    """
    allowance = budget.start()
    try:
        paths = parser.resolve(acq)
    except Exception as exc:  # the acquisition's own index is evidence too, and may be damaged
        coverage.artefacts.append(
            ArtefactRun("(looking up its artefacts)", Status.FAILED, reason=f"{type(exc).__name__}: {exc}")
        )
        return
    for source in parser.sources:
        why = None if source.is_glob else acq.refused.get(source.pattern)
        if why is not None and source.pattern not in paths:
            coverage.artefacts.append(ArtefactRun(source.pattern, Status.FAILED, reason=f"refused: {why}"))
    if not paths:
        if coverage.artefacts:
            return
        listed = [
            s.pattern
            for s in parser.sources
            if s.where is Where.DEVICE and not s.is_glob and acq.entry(s.pattern) is not None
        ]
        if listed:
            coverage.absent_reason = "listed in the acquisition but its content is not stored: " + ", ".join(
                listed
            )
        elif all(s.where is Where.LISTING for s in parser.sources):
            coverage.absent_reason = "not a full-filesystem acquisition"
        else:
            coverage.absent_reason = "not in the evidence"
        return
    declared = frozenset(parser.records)
    check = allowance.check
    for i, path in enumerate(paths):
        ctx = ParseContext(acq, allowance=allowance)
        run = ArtefactRun(path, Status.PARSED)
        coverage.artefacts.append(run)
        try:
            check()
            run.sha256 = _hash(acq, parser, path)
            for record in parser.parse(ctx, path):
                if type(record) not in declared:
                    raise _Undeclared(type(record))
                run.records += 1
                if not run.records & 63:  # the clock every 64 records (SQLite checks on its own)
                    check()
                yield record
        except SchemaUnsupported as exc:
            run.status, run.reason = Status.UNSUPPORTED, str(exc)
        except BudgetExceeded as exc:
            run.status, run.reason = Status.FAILED, _partial(str(exc), run.records)
            coverage.warnings.extend(ctx.warnings)
            for skipped in paths[i + 1 :]:
                coverage.artefacts.append(ArtefactRun(skipped, Status.FAILED, reason="not read: the parser's budget was spent"))
            return
        except ArtefactError as exc:
            run.status, run.reason = Status.FAILED, _partial(str(exc), run.records)
        except (OSError, MemoryError, RecursionError) as exc:
            run.status, run.reason = Status.FAILED, _partial(f"{type(exc).__name__}: {exc}", run.records)
        except Exception as exc:  # a parser bug must not end the scan; it is reported as coverage
            run.status = Status.FAILED
            run.reason = _partial(f"unexpected {type(exc).__name__}: {exc}", run.records)
        coverage.warnings.extend(ctx.warnings)
        coverage.warnings.extend(acq.artefact_notes(path))


class _Undeclared(Exception):
    def __init__(self, cls: type) -> None:
        super().__init__(f"parser bug: yielded a {cls.__name__}, which it does not declare in records")


def _partial(reason: str, count: int) -> str:
    return f"{reason} (after {count} records)" if count else reason


def _hash(acq: Acquisition, parser: Parser, path: str) -> str | None:
    where = next((s.where for s in parser.sources if s.where is not Where.DEVICE and s.pattern == path), None)
    if where is Where.LISTING:
        return None  # the whole file system: each file is hashed where it is named (--hash-all)
    if where is Where.HOST:
        return acq.host_sha256(path)
    if where is Where.SECTION or (where is None and path in acq.section_names()):
        return acq.section_sha256(path)
    return acq.sha256(path)
