"""Fuzz targets: what unmask must survive, each with a seed corpus built in code.

A :class:`Target` is a name, a mutation family (``kind``: which structure-aware mutations of
:mod:`tests.fuzz.mutate` apply), seeds built with the project's builders (real device DDL,
plistlib, NSKeyedArchiver archives, MBFile blobs, text logs, ZIP files; never opaque blobs) and
``run(data)``, which feeds the bytes to unmask and raises only when the contract is broken:

* the format owners (``plist.*``, ``sqlite.*``, ``text.*``) refuse input only with
  :class:`unmask.errors.ArtefactError` (:class:`~unmask.budget.BudgetExceeded` and
  :class:`~unmask.formats.text.TextLimit` included), and what they hand out keeps their promises
  (a keyed archive resolves into a value that can be walked; the fast MBFile reader agrees with
  plistlib; sections tile the text);
* every registered parser (:mod:`tests.fuzz.parser_targets`) reads the bytes at every place it
  reads (a one-artefact acquisition of its platform; a one-file backup for the files an iOS backup
  reads itself), within a small budget, and ends ``parsed``/``partial``/``failed``/``unsupported``,
  never with a reason starting "unexpected", with records that every writer takes, without
  changing its input; its seeds are harvested from the sample builders
  (:mod:`tests.fuzz.harvest`), with the hand-made extras of :data:`_PARSER_SEEDS`;
* ZIP files screened as message attachments by ``detect/payloads`` report no internal error;
* the archive layer and the acquisitions that arrive as one file
  (:mod:`tests.fuzz.archive_targets`) refuse input only with ``ArtefactError``/``AcquisitionError``,
  write nothing outside their scratch folder and leave no private folder behind.

:func:`execute` runs one input under a per-input time limit (``signal.setitimer``) and returns
the :class:`Failure`, if any: an exception the contract does not allow, a broken promise
(:class:`Violation`), running past the limit, or raising the process's peak memory by more than
:data:`MEMORY_GROWTH_MB`.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import itertools
import json
import lzma
import plistlib
import re
import resource
import signal
import sqlite3
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import zstandard

from tests.builders import bplist
from tests.builders.ios_backup import BackupBuilder, mbfile_blob
from tests.builders.schema import populate
from unmask.acquisition import open_ios_backup
from unmask.acquisition.ios_backup import candidates, file_id
from unmask.budget import Budget
from unmask.detect.payloads.engine import screen_bytes
from unmask.detect.payloads.result import Limits
from unmask.errors import AcquisitionError, ArtefactError
from unmask.formats import mbfile, plist
from unmask.formats.sqlite import open_database
from unmask.formats.text import iter_lines, open_text, section_lines, split_sections
from unmask.parsers.base import Parser, Where, run_parser
from unmask.parsers.registry import qualified, registry
from unmask.timeutil import to_cocoa

TIME_LIMIT = 5.0
"""Seconds one input may take, whatever the target; past it the input is a crash."""
BUDGET = Budget(seconds=2, memory_mb=256)
"""The budget of every target whose API takes one: a query or a parser stops within it."""
MAX_INPUT = 1 << 20
"""Inputs are kept below this size: big enough for any seed, small enough to run many."""


class TimeLimit(BaseException):
    """The per-input time limit passed. A ``BaseException``, so that no ``except Exception`` in
    unmask swallows it."""


class Violation(AssertionError):
    """A target's contract was broken without an exception of unmask's own (a wrong coverage
    status, a fast reader that disagrees with its reference, sections that do not tile the text)."""


@dataclass(frozen=True)
class Target:
    """One fuzz target: its seeds (built once, on first use) and what to run on an input."""

    name: str
    kind: str
    """Mutation family: ``plist``, ``mbfile``, ``sqlite``, ``wal``, ``text``, ``zip``."""
    build_seeds: Callable[[], list[bytes]]
    run: Callable[[bytes], None]

    def seeds(self) -> list[bytes]:
        """The seed corpus (built on first call, then cached), inputs of at most :data:`MAX_INPUT`."""
        if self.name not in _SEEDS:
            _SEEDS[self.name] = [s for s in self.build_seeds() if len(s) <= MAX_INPUT]
        return _SEEDS[self.name]


_SEEDS: dict[str, list[bytes]] = {}


@dataclass(frozen=True)
class Failure:
    """How one input broke a target."""

    target: str
    kind: str
    """The exception's class name, or ``time limit``."""
    message: str
    where: str
    """The innermost frame in unmask (``unmask/formats/plist.py:_value``), else in the tests."""
    trace: str = field(default="", compare=False, repr=False)
    """The formatted traceback, for a person looking into it."""

    @property
    def signature(self) -> str:
        """What makes two failures the same bug: target, kind and place (not the message). A
        broken promise is raised by the target itself, so its message without numbers and quoted
        text stands in for the place (``parser bug: unexpected ValueError: …``)."""
        if self.kind == "Violation":
            return f"{self.target}|{self.kind}|{_VARIABLE.sub('#', self.message)[:60]}"
        return f"{self.target}|{self.kind}|{self.where}"

    @property
    def summary(self) -> str:
        """One line: kind, message, place."""
        message = " ".join(self.message.split())
        if len(message) > 240:
            message = message[:240] + "…"
        return f"{self.kind}: {message} (at {self.where})"


@dataclass(frozen=True)
class Result:
    """What one input did: the failure if any, an outcome class for corpus feedback, the time."""

    failure: Failure | None
    outcome: str
    seconds: float


# --- running one input --------------------------------------------------------------------------

_notes: list[str] | None = None


def note(outcome: str) -> None:
    """Say what an input did (``refused:…``, ``parsed:3``): new outcomes keep an input in the
    fuzzer's corpus."""
    if _notes is not None and len(_notes) < 8:
        _notes.append(outcome)


def _raise_time_limit(signum: int, frame: object) -> None:
    raise TimeLimit(f"over the time limit of {_limit:g} s")


_limit = TIME_LIMIT


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeLimit` in the main thread after ``seconds``; restore whatever alarm was set
    before (pytest-timeout's included). Elsewhere than in the main thread, no alarm (the caller
    still measures the time)."""
    global _limit
    try:
        previous = signal.signal(signal.SIGALRM, _raise_time_limit)
    except ValueError:  # not the main thread
        yield
        return
    _limit = seconds
    started = time.monotonic()
    before, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if before:
            signal.setitimer(signal.ITIMER_REAL, max(before - (time.monotonic() - started), 0.001))


MEMORY_GROWTH_MB = 512
"""How much one input may raise the process's peak memory (resident set) before it is a crash; the
fuzzer also runs under an address-space limit (``--memory-mb``), past which allocations fail."""


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/src/unmask/" in f.filename]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return "?"
    name = frame.filename
    for marker in ("/src/", "/tests/"):
        if marker in name:
            name = name[name.rindex(marker) + 1 :].removeprefix("src/")
            break
    return f"{name}:{frame.name}"


_VARIABLE = re.compile(r"0x[0-9a-fA-F]+|\d+|'[^']*'|\"[^\"]*\"")
VARIABLE = _VARIABLE
"""What varies between two refusals of one kind (numbers, quoted text): left out of outcomes."""


def _outcome_of(exc: BaseException) -> str:
    return f"refused:{type(exc).__name__}:{_VARIABLE.sub('#', str(exc))[:60]}"


def execute(target: Target, data: bytes, *, time_limit: float = TIME_LIMIT) -> Result:
    """Run one input through a target; never raises for what the input does."""
    global _notes
    _notes = []
    peak = _peak_mb()
    started = time.monotonic()
    failure: Failure | None = None
    outcome = "ok"
    try:
        with _alarm(time_limit):
            target.run(data)
    except TimeLimit as exc:
        failure = Failure(target.name, "time limit", str(exc), _where(exc), traceback.format_exc())
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        failure = Failure(target.name, type(exc).__name__, str(exc) or repr(exc), _where(exc), traceback.format_exc())
    finally:
        notes, _notes = _notes, None
    seconds = time.monotonic() - started
    if failure is None and seconds > time_limit:
        # The alarm can be lost in C code (a SQLite callback turns it into an interrupted query).
        failure = Failure(target.name, "time limit", f"took {seconds:.1f} s, over {time_limit:g} s", "?")
    grown = _peak_mb() - peak
    if failure is None and grown > MEMORY_GROWTH_MB:
        failure = Failure(target.name, "memory", f"the peak memory grew by {grown:.0f} MB on one input", "?")
    if notes:
        outcome = "|".join(notes)
    return Result(failure, outcome, seconds)


def execute_at(target: ParserTarget, data: bytes, place: Any, *, time_limit: float = TIME_LIMIT) -> Result:
    """:func:`execute` for a parser target with the input served at one place only."""
    at = Target(target.name, target.kind, target.build_seeds, lambda d: target.run_at(d, place))
    return execute(at, data, time_limit=time_limit)


# --- scratch space --------------------------------------------------------------------------------


@cache
def _scratch_root() -> Path:
    holder = tempfile.TemporaryDirectory(prefix="unmask-fuzz-")
    _keep.append(holder)  # removed at interpreter exit
    return Path(holder.name)


_keep: list[Any] = []


def _scratch(name: str) -> Path:
    folder = _scratch_root() / name.replace("/", "_")
    folder.mkdir(exist_ok=True)
    return folder


# --- seeds: plists and keyed archives ------------------------------------------------------------

WHEN = datetime(2024, 3, 1, 12, 0, 5, tzinfo=UTC)


def keyed_archive(value: Any, *, extra_objects: int = 0) -> bytes:
    """``value`` archived the way NSKeyedArchiver does: every object in ``$objects``, referred to by
    UID; dict → NSDictionary, list → NSArray, bytes → NSData, datetime → NSDate, ``Url(base, rel)``
    → NSURL, ``Obj(cls, fields)`` → an object of its own class."""
    objects: list[Any] = ["$null"]
    classes: dict[str, plistlib.UID] = {}

    def cls(name: str) -> plistlib.UID:
        if name not in classes:
            classes[name] = plistlib.UID(len(objects))
            objects.append({"$classes": [name, "NSObject"], "$classname": name})
        return classes[name]

    def ref(v: Any) -> plistlib.UID:
        if v is None:
            return plistlib.UID(0)
        index = len(objects)
        objects.append(None)
        if isinstance(v, dict):
            keys = [ref(k) for k in v]
            values = [ref(x) for x in v.values()]
            objects[index] = {"NS.keys": keys, "NS.objects": values, "$class": cls("NSDictionary")}
        elif isinstance(v, list):
            objects[index] = {"NS.objects": [ref(x) for x in v], "$class": cls("NSArray")}
        elif isinstance(v, bytes):
            objects[index] = {"NS.data": v, "$class": cls("NSMutableData")}
        elif isinstance(v, datetime):
            objects[index] = {"NS.time": to_cocoa(v), "$class": cls("NSDate")}
        elif isinstance(v, Url):
            objects[index] = {"NS.base": ref(v.base), "NS.relative": ref(v.relative), "$class": cls("NSURL")}
        elif isinstance(v, Obj):
            fields = {k: ref(x) for k, x in v.fields.items()}
            objects[index] = {**fields, "$class": cls(v.cls)}
        else:
            objects[index] = v
        return plistlib.UID(index)

    top = ref(value)
    objects.extend(f"unused-{i}" for i in range(extra_objects))
    archive = {"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": top}, "$objects": objects}
    return plistlib.dumps(archive, fmt=plistlib.FMT_BINARY)


@dataclass(frozen=True)
class Url:
    """An NSURL for :func:`keyed_archive`."""

    base: Any
    relative: Any


@dataclass(frozen=True)
class Obj:
    """An object of a class of its own for :func:`keyed_archive`."""

    cls: str
    fields: dict[str, Any]


def shared_chain(levels: int) -> bytes:
    """A keyed archive whose NSArrays each hold the next one twice: ``levels`` objects that
    resolve into 2^levels values once unfolded."""
    objects: list[Any] = ["$null", {"$classes": ["NSArray", "NSObject"], "$classname": "NSArray"}]
    for i in range(levels):
        nxt = plistlib.UID(len(objects) + 1) if i < levels - 1 else plistlib.UID(0)
        objects.append({"$class": plistlib.UID(1), "NS.objects": [nxt, nxt]})
    archive = {"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": plistlib.UID(2)},
               "$objects": objects}
    return plistlib.dumps(archive, fmt=plistlib.FMT_BINARY)


IDS_CACHE = {
    "CacheVersion": 3,
    "com.apple.madrid": {
        "mailto:someone@example.com": {"LookupDate": to_cocoa(WHEN), "IDStatus": 1, "ValidExpiry": 7.5e8},
        "tel:+41791234567": {"LookupDate": to_cocoa(WHEN), "IDStatus": 2},
    },
    "com.apple.ess": {"urn:biz:1234": {"LookupDate": 7e8, "IDStatus": 1}},
}
PREFERENCES = {"AppleLocale": "en_CH", "AppleLanguages": ["en-CH", "de-CH"], "LDMGlobalEnabled": False}
ADDAILY = {
    "netUsageBaseline": {
        "roleaboutd": [WHEN.replace(tzinfo=None), 1024, 2048, 0, 12.5],
        "com.apple.WebKit.WebContent": [WHEN.replace(tzinfo=None), 1, 2],
    },
    "otherKey": 1,
}
PROFILE = {
    "PayloadUUID": "76DAB334-7E17-475D-A5D6-0794EB5818A5",
    "PayloadIdentifier": "com.example.profile",
    "PayloadDisplayName": "Notifications",
    "PayloadOrganization": "Example",
    "PayloadRemovalDisallowed": False,
    "InstallDate": WHEN.replace(tzinfo=None),
    "PayloadContent": [{"PayloadType": "com.apple.notificationsettings", "PayloadUUID": "A-1"}, "odd"],
}
VARIED = {
    "string": "text",
    "unicode": "Zürich ☃ 東京",
    "int": 7,
    "negative": -(2**63),
    "big": 2**64 - 1,
    "real": 3.25,
    "true": True,
    "false": False,
    "date": WHEN.replace(tzinfo=None),
    "data": b"\x00\x01\xff",
    "uid-like": [1, 2, [3, {"deep": [4.5, "x"]}]],
    "empty": {},
}


def _binary(value: Any) -> bytes:
    return plistlib.dumps(value, fmt=plistlib.FMT_BINARY)


def _xml(value: Any) -> bytes:
    return plistlib.dumps(value, fmt=plistlib.FMT_XML)


def _plist_seeds() -> list[bytes]:
    odd = bplist.Options(unique=False, offset_size=4, ref_size=2, long_lengths=True, order_seed=3)
    return [
        _binary(VARIED),
        _xml(VARIED),
        _binary(PREFERENCES),
        _xml(IDS_CACHE),
        _binary([1, "two", [3.0, b"4"], {"five": 5}]),
        bplist.write(
            bplist.Pairs((("k", bplist.Int(1, 3)), ("k", bplist.Utf16("dup")), ("u", plistlib.UID(7)))), odd
        ),
        bplist.write({"list": [bplist.Int(-1, 3), bplist.Int(2**70, 4), "ascii", bplist.Utf16("wide")]}, odd),
        keyed_archive(IDS_CACHE),
    ]


def _archive_seeds() -> list[bytes]:
    return [
        keyed_archive(IDS_CACHE),
        keyed_archive({"when": WHEN, "data": b"\x01\x02", "url": Url("https://example.com/", "a/b"),
                       "list": [1, "x", None], "object": Obj("MBFile", {"Size": 5, "Path": "a/b"})}),
        keyed_archive(["a", ["b", ["c", ["d"]]], {"k": {"k2": "v"}}], extra_objects=3),
        shared_chain(6),
        mbfile_blob("Library/SMS/sms.db", size=4096, mode=0o100644, birth=1, modified=2, changed=3),
    ]


def _mbfile_seeds() -> list[bytes]:
    seeds = [
        mbfile_blob("Library/SMS/sms.db", size=4096, mode=0o100644, birth=1709294400, modified=1709294400,
                    changed=1709294400),
        mbfile_blob("Media/DCIM/100APPLE/IMG_0001.HEIC", size=2**40, mode=0o100600, birth=0, modified=-1,
                    changed=2**31, inode=2**63 - 1, uid=0, gid=2**32, protection=4),
        mbfile_blob("", size=0, mode=0o040755, birth=-(2**63), modified=2**63 - 1, changed=5, uid=501, gid=501),
    ]
    fields: list[tuple[Any, Any]] = [
        ("Birth", bplist.Int(1709294400, 3)), ("GroupID", 501), ("InodeNumber", bplist.Int(77, 2)),
        ("LastModified", 1709294400), ("LastStatusChange", bplist.Int(1709294401, 4)), ("Mode", 0o100644),
        ("ProtectionClass", 3), ("RelativePath", plistlib.UID(2)), ("Size", bplist.Int(12, 1)),
        ("UserID", 501), ("Size", 13),
    ]
    archive = {
        "$archiver": "NSKeyedArchiver",
        "$objects": ["$null", bplist.Pairs((("$class", plistlib.UID(3)), *fields)), "a/b",
                     {"$classes": ["MBFile", "NSObject"], "$classname": "MBFile"}],
        "$top": {"root": plistlib.UID(1)},
        "$version": 100000,
    }
    for options in (
        bplist.Options(),
        bplist.Options(unique=False, order_seed=1),
        bplist.Options(offset_size=4, ref_size=4, long_lengths=True, order_seed=2),
    ):
        seeds.append(bplist.write(archive, options))
    return seeds


# --- seeds: SQLite --------------------------------------------------------------------------------


def sqlite_bytes(
    schema: str | None, rows: dict[str, list[dict[str, Any]]] | None = None, *, page_size: int = 1024,
    extra_sql: str = "",
) -> bytes:
    """A database from a real device DDL file and rows, built in memory with a small page size
    (so that a seed is a few dozen pages and a mutation often hits structure)."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"PRAGMA page_size = {page_size}")  # before the first table is made
        populate(conn, schema, rows, extra_sql)
        return conn.serialize()
    finally:
        conn.close()


def _cocoa_ns(when: datetime) -> int:
    return int(to_cocoa(when)) * 1_000_000_000


def typedstream(body: str) -> bytes:
    """An attributedBody as Messages writes it (typedstream with one NSString)."""
    raw = body.encode()
    length = bytes([len(raw)]) if len(raw) < 0x80 else b"\x81" + len(raw).to_bytes(2, "little")
    return (
        b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00\x84\x84\x08NSObject"
        b"\x00\x85\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01+" + length + raw + b"\x86\x84\x02iI\x01\x05\x92"
    )


def _sms_rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "handle": [{"ROWID": 1, "id": "+41791234567", "service": "SMS"},
                   {"ROWID": 2, "id": "friend@example.org", "service": "iMessage"}],
        "message": [
            {"ROWID": 7, "guid": "G-7", "text": "parcel: https://t.example.com/a?b=1", "handle_id": 1,
             "service": "SMS", "date": _cocoa_ns(WHEN), "date_read": _cocoa_ns(WHEN), "is_from_me": 0},
            {"ROWID": 8, "guid": "G-8", "text": None, "attributedBody": typedstream("see evil.example.net"),
             "handle_id": 2, "service": "iMessage", "date": int(to_cocoa(WHEN)), "is_from_me": 1},
        ],
        "attachment": [
            {"ROWID": 1, "guid": "A-1", "created_date": int(to_cocoa(WHEN)),
             "filename": "~/Library/SMS/Attachments/ab/11/A-1/photo.gif", "mime_type": "image/gif",
             "transfer_name": "photo.gif", "total_bytes": 1234, "is_outgoing": 0, "original_guid": "A-1"},
            {"ROWID": 2, "guid": "A-2", "filename": "/var/tmp/com.apple.messages/x-1", "is_outgoing": 1,
             "original_guid": "A-2"},
        ],
        "message_attachment_join": [{"message_id": 7, "attachment_id": 1}],
    }


def _tcc_rows() -> dict[str, list[dict[str, Any]]]:
    return {"access": [
        {"service": "kTCCServiceMicrophone", "client": "com.example.Recorder", "client_type": 0, "auth_value": 2,
         "auth_reason": 2, "auth_version": 1, "last_modified": int(WHEN.timestamp())},
        {"service": "kTCCServiceCamera", "client": "/private/var/db/x/roleaboutd", "client_type": 1,
         "auth_value": 0, "auth_reason": 4, "auth_version": 1, "last_modified": 0},
    ]}


def _whatsapp_rows() -> dict[str, list[dict[str, Any]]]:
    peer = "491701234567@s.whatsapp.net"
    return {
        "ZWAMESSAGE": [
            {"Z_PK": 1, "ZISFROMME": 0, "ZFROMJID": peer, "ZMESSAGEDATE": to_cocoa(WHEN),
             "ZTEXT": "look https://news.example.org/story", "ZMESSAGETYPE": 0, "ZCHATSESSION": 3},
            {"Z_PK": 2, "ZISFROMME": 1, "ZTOJID": peer, "ZMESSAGEDATE": to_cocoa(WHEN), "ZMESSAGETYPE": 1,
             "ZMEDIAITEM": 5},
        ],
        "ZWAMEDIAITEM": [{"Z_PK": 5, "ZMESSAGE": 2, "ZMEDIAURL": "https://mmg.whatsapp.net/d/f/abc.enc",
                          "ZMEDIALOCALPATH": "Media/491701234567@s.whatsapp.net/a/b/photo.jpg",
                          "ZTITLE": "see evil.example.com", "ZFILESIZE": 2048}],
        "ZWAMESSAGEDATAITEM": [{"Z_PK": 8, "ZMESSAGE": 1, "ZMATCHEDTEXT": "https://news.example.org/story",
                                "ZCONTENT1": "https://cdn.example.org/img.png", "ZDATE": to_cocoa(WHEN),
                                "ZSENDERJID": peer}],
    }


def _calendar_seeds() -> list[bytes]:
    from tests.parsers.ios.test_calendar import calendar_rows

    return [sqlite_bytes(f"ios/Calendar.sqlitedb/{v}.sql", calendar_rows(v)) for v in ("ios16", "ios9")]


def _chrome_seeds() -> list[bytes]:
    from tests.parsers.ios.test_chrome_history import rows

    return [sqlite_bytes(s, rows()) for s in ("chrome/History/meta70.sql", "chrome/History/meta20.sql")]


def _datausage_seeds() -> list[bytes]:
    from tests.parsers.ios.test_datausage import _rows

    return [sqlite_bytes(s, _rows()) for s in ("ios/DataUsage.sqlite/ios15.sql", "ios/DataUsage.sqlite/ios7.sql")]


def _netusage_seeds() -> list[bytes]:
    from tests.parsers.ios.test_netusage import _rows

    return [sqlite_bytes("ios/netusage.sqlite/ios14.sql", _rows())]


def _browserstate_seeds() -> list[bytes]:
    from tests.parsers.ios.test_safari_browserstate import rows, session

    first = session(("https://www.example.com/", "Example", None), ("https://b.example/", "B", "https://a.example/"))
    xml = session(("https://x.example/", "X", None), fmt=plistlib.FMT_XML)
    return [sqlite_bytes("ios/BrowserState.db/ios15.sql", rows({"T1": first, "T2": xml, "T3": None}))]


def _history_seeds() -> list[bytes]:
    from tests.parsers.ios.test_safari_history import rows

    return [sqlite_bytes(s, rows(s)) for s in ("ios/History.db/ios11.sql", "ios/History.db/ios9.sql")]


def _sms_attachment_seeds() -> list[bytes]:
    from tests.parsers.ios.test_sms_attachments import attachment_rows

    return [sqlite_bytes(s, attachment_rows(s)) for s in ("ios/sms.db/ios12.sql", "ios/sms.db/ios9.sql")]


def _webkit_seeds() -> list[bytes]:
    from tests.parsers.ios.test_webkit_rls import ROWS

    return [sqlite_bytes("ios/observations.db/ios16.sql", ROWS)]


def _call_history_seeds() -> list[bytes]:
    from tests.parsers.ios.test_call_history import T0, T1, T2

    core_data = {
        "ZCALLRECORD": [
            {"Z_PK": 1, "Z_ENT": 2, "ZDATE": to_cocoa(T0), "ZDURATION": 95.5, "ZORIGINATED": 0, "ZANSWERED": 1,
             "ZCALLTYPE": 1, "ZSERVICE_PROVIDER": "com.apple.Telephony", "ZADDRESS": "+41791234567", "ZNAME": "Alice",
             "ZUNIQUE_ID": "8F0C6E2A-0000-4000-8000-000000000001"},
            {"Z_PK": 2, "ZDATE": to_cocoa(T1), "ZDURATION": 12, "ZORIGINATED": 1, "ZCALLTYPE": 8,
             "ZSERVICE_PROVIDER": "com.apple.FaceTime", "ZADDRESS": "attacker@example.com", "ZUNIQUE_ID": "U-2"},
        ],
        "ZHANDLE": [{"Z_PK": 12, "ZTYPE": 3, "ZVALUE": "attacker@example.com", "ZNORMALIZEDVALUE": None}],
        "Z_2REMOTEPARTICIPANTHANDLES": [{"Z_2REMOTEPARTICIPANTCALLS": 2, "Z_3REMOTEPARTICIPANTHANDLES": 12}],
    }
    unix = int(T2.timestamp())
    legacy = {"call": [{"ROWID": 1, "address": "0791234567", "date": unix, "duration": 42, "flags": 4, "name": "Bob"},
                       {"ROWID": 2, "address": "friend@me.com", "date": unix + 60, "duration": 30, "flags": 17}]}
    return [sqlite_bytes("ios/CallHistory.storedata/ios17.sql", core_data),
            sqlite_bytes("ios/CallHistory.storedata/ios10.sql", {"ZCALLRECORD": core_data["ZCALLRECORD"][:1]}),
            sqlite_bytes("ios/call_history.db/ios7.sql", legacy)]


def _wifi_seeds() -> list[bytes]:
    from tests.parsers.ios.test_wifi_networks import ios15_network, ios16_captive_network, legacy_network

    known = {"wifi.network.ssid.Garden_Cafe": ios15_network(b"Garden_Cafe"),
             "wifi.network.ssid.Free Airport WiFi": ios16_captive_network()}
    return [_binary(known), _xml(known), _binary({"Version": 14, "List of known networks": [legacy_network()]})]


def _adb_seeds() -> list[bytes]:
    from tests.builders.android_sample import abx_key_store

    body = b"ADB MANAGER STATE (dumpsys adb):\n{\n  debugging_manager={\n    keystore="
    return [b"-" * 79 + b"\nDUMP OF SERVICE adb:\n" + body + abx_key_store("QAAAAZZZ host@x", 1714640000000)
            + b"\n  }\n}\n"]


def _manifest_db_seed() -> bytes:
    builder = BackupBuilder(_scratch("manifest-seed") / "backup")
    builder.add_file("HomeDomain", "Library/SMS/sms.db", b"x" * 10)
    builder.add_file("AppDomain-com.example.app", "Library/Caches/foo.bin", b"", stored=False)
    builder.add_dir("HomeDomain", "Library/WebKit/WebsiteData/LocalStorage")
    builder.add_file("HomeDomain", "Library/WebKit/WebsiteData/LocalStorage/https_evil.example_0.localstorage", b"x")
    builder.add_file("RootDomain", "Library/Caches/locationd/clients.plist", b"x")
    return (builder.finish() / "Manifest.db").read_bytes()


def _info_plist_seeds() -> list[bytes]:
    root = BackupBuilder(_scratch("info-seed") / "backup").finish()
    info = plistlib.loads((root / "Info.plist").read_bytes())
    return [(root / "Info.plist").read_bytes(), _binary(info)]


def _sqlite_seeds() -> list[bytes]:
    return [
        sqlite_bytes("ios/sms.db/ios12.sql", _sms_rows(), page_size=512),
        sqlite_bytes("ios/TCC.db/ios14.sql", _tcc_rows()),
        _manifest_db_seed(),
        sqlite_bytes(
            None,
            {"t": [{"a": i, "b": "x" * (i * 12), "c": bytes(range(i % 256))} for i in range(40)]},
            extra_sql=(
                "PRAGMA auto_vacuum = FULL; PRAGMA encoding = 'UTF-16le';"
                "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT, c BLOB);"
                "CREATE INDEX t_b ON t (b);"
                "CREATE TABLE w (k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
                "INSERT INTO w VALUES ('one', 1), ('two', x'00ff');"
                "CREATE VIEW v AS SELECT a, length(b) FROM t WHERE a % 2;"
                "CREATE TRIGGER tr AFTER DELETE ON t BEGIN DELETE FROM w; END;"
            ),
            page_size=512,
        ),
    ]


def _wal_set() -> tuple[bytes, list[bytes]]:
    """A database (as it is on disk before any checkpoint) and write-ahead logs over it."""
    folder = _scratch("wal-seed")
    db = folder / "db.sqlite"
    for side in (db, folder / "db.sqlite-wal", folder / "db.sqlite-shm"):
        side.unlink(missing_ok=True)
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA page_size = 512")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("CREATE TABLE message (ROWID INTEGER PRIMARY KEY, text TEXT, date INTEGER)")
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        base = db.read_bytes()
        logs: list[bytes] = []
        for batch in range(3):
            conn.executemany("INSERT INTO message (text, date) VALUES (?, ?)",
                             [(f"message {batch}-{i} https://e{i}.example/", i) for i in range(10 * (batch + 1))])
            conn.commit()
            logs.append((folder / "db.sqlite-wal").read_bytes())
        return base, logs
    finally:
        conn.close()


# --- seeds: text and ZIP --------------------------------------------------------------------------

LOG = (
    b"Mar  1 12:00:01 iPhone kernel[0] <Notice>: boot args\n"
    b"Mar  1 12:00:02 iPhone com.apple.xpc.launchd[1] (com.apple.mobile.x): exited\n"
    b"  continuation of the previous entry\n"
    b"\tand another\r\n"
    b"2024-03-01 12:00:03.123 +0100 roleaccountd[77]: connect https://evil.example.net/x\n"
    b"invalid \xff\xfe bytes and a NUL \x00 here\n"
    b"last line without newline"
)
DUMPSTATE = (
    b"== dumpstate: 2024-03-01 12:00:00\n"
    b"------ SYSTEM PROPERTIES (getprop) ------\n[ro.build.version.release]: [14]\n\n"
    b"------ DUMPSYS (dumpsys) ------\nDUMP OF SERVICE package:\n  Package [com.example] (abc):\n"
    b"    versionName=1.0\nDUMP OF SERVICE activity:\n  nothing\n"
)


def _text_seeds() -> list[bytes]:
    utf16 = b"\xff\xfe" + LOG.decode("utf-8", "replace").encode("utf-16-le")
    members = gzip.compress(LOG[:100]) + gzip.compress(LOG[100:])
    return [
        LOG,
        DUMPSTATE,
        b"\xef\xbb\xbf" + LOG.replace(b"\n", b"\r\n"),
        utf16,
        gzip.compress(LOG),
        members,
        bz2.compress(DUMPSTATE),
        lzma.compress(LOG),
        zstandard.ZstdCompressor().compress(DUMPSTATE) + zstandard.ZstdCompressor().compress(LOG),
        b"x" * 3000 + b"\n" + b"  " + b"y" * 2000 + b"\nz\n",
    ]


def _zip(members: list[tuple[str, bytes, int]], *, comment: bytes = b"", zip64: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data, method in members:
            info = zipfile.ZipInfo(name, (2024, 3, 1, 12, 0, 0))
            info.compress_type = method
            with zf.open(info, "w", force_zip64=zip64) as handle:
                handle.write(data)
        zf.comment = comment
    return buffer.getvalue()


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(48) + b"\xff\xd9"


def _zip_seeds() -> list[bytes]:
    inner = _zip([("logo.png", JPEG, zipfile.ZIP_DEFLATED)])
    return [
        _zip([("a.txt", b"hello " * 50, zipfile.ZIP_DEFLATED), ("b.jpg", JPEG, zipfile.ZIP_STORED)]),
        _zip([("pass.json", b'{"formatVersion": 1}', zipfile.ZIP_DEFLATED), ("logo.png", JPEG, zipfile.ZIP_STORED),
              ("manifest.json", b"{}", zipfile.ZIP_BZIP2)], comment=b"pkpass"),
        _zip([("nested.zip", inner, zipfile.ZIP_STORED), ("dir/", b"", zipfile.ZIP_STORED),
              ("x.bin", bytes(4000), zipfile.ZIP_LZMA)]),
        _zip([("zip64.bin", b"z" * 100, zipfile.ZIP_DEFLATED)], zip64=True),
    ]


# --- runs of the format targets ---------------------------------------------------------------------


def _refused(exc: ArtefactError) -> None:
    note(_outcome_of(exc))


def _walkable(value: Any) -> None:
    try:
        plist.check_shape(value)
    except ArtefactError as exc:
        raise Violation(f"unarchive handed out a value that cannot be walked: {exc}") from None


def run_plist(data: bytes) -> None:
    """``plist.load``; then ``plist.unarchive`` when the value is a keyed archive, whose result
    must be as safe to walk as what ``load`` hands out."""
    try:
        value = plist.load(data)
    except ArtefactError as exc:
        return _refused(exc)
    note(f"loaded:{type(value).__name__}")
    if not plist.is_keyed_archive(value):
        return None
    try:
        resolved = plist.unarchive(value)
    except ArtefactError as exc:
        return _refused(exc)
    note(f"unarchived:{type(resolved).__name__}")
    _walkable(resolved)
    return None


_MISSING = object()


def _attempt(reader: Callable[[bytes], Any], data: bytes) -> Any:
    try:
        return reader(data)
    except (TimeLimit, KeyboardInterrupt):
        raise
    except Exception as exc:
        return ("raised", type(exc).__name__)


def run_mbfile(data: bytes) -> None:
    """``plist.mbfile_fields`` never raises, agrees with ``mbfile_fields_many`` and
    ``mbfile_metadata``; the fast reader agrees with plistlib (the reference) whenever both decode,
    and the compiled build with the interpreted one."""
    fields = plist.mbfile_fields(data)
    many = plist.mbfile_fields_many([data, None, b"", data])
    if many != [fields, None, None, fields]:
        raise Violation(f"mbfile_fields_many gives {many[0]!r}, mbfile_fields {fields!r}")
    meta = plist.mbfile_metadata(data)
    if (meta is None) != (fields is None):
        raise Violation("mbfile_metadata and mbfile_fields disagree on whether this is an MBFile")
    fast = _attempt(mbfile.fields, data)
    native = plist._native
    if native is not None and _attempt(native.fields, data) != fast:
        raise Violation(f"compiled reader gives {_attempt(native.fields, data)!r}, interpreted {fast!r}")
    reference = plist._slow_fields(data)
    fast_read = not (isinstance(fast, tuple) and fast[:1] == ("raised",))
    note("fast" if fast_read else "fallback" if reference is not None else "none")
    if not fast_read:
        return
    try:
        plistlib.loads(data)
    except Exception:
        return  # plistlib cannot decode it: nothing to compare with
    if fast != reference:
        raise Violation(f"fast MBFile reader gives {fast!r}, plistlib {reference!r}")


def _read_everything(db: Any) -> None:
    db.user_version()
    for table in sorted(db.tables):
        columns = db.columns(table)
        db.has(table, *sorted(columns)[:3])
        db.missing({table: {"ROWID", "text"}})
        quoted = table.replace('"', '""')
        for row in itertools.islice(db.query(f'SELECT * FROM "{quoted}"'), 500):
            tuple(row)
    note(f"tables:{min(len(db.tables), 9)}" + ("+notes" if db.notes else ""))


def run_sqlite(data: bytes) -> None:
    """``formats.sqlite.open_database`` and a query over every table and view, within a budget."""
    path = _scratch("sqlite") / "evidence.sqlite"
    path.write_bytes(data)
    try:
        with open_database(path, "/fuzz/evidence.sqlite", allowance=BUDGET.start()) as db:
            _read_everything(db)
    except ArtefactError as exc:
        _refused(exc)


@cache
def _wal_base() -> bytes:
    return _wal_set()[0]


def run_wal(data: bytes) -> None:
    """``open_database`` of a sound database with a write-ahead log made of the input."""
    folder = _scratch("wal")
    db, wal = folder / "db.sqlite", folder / "db.sqlite-wal"
    db.write_bytes(_wal_base())
    wal.write_bytes(data)
    try:
        with open_database(db, "/fuzz/db.sqlite", wal=wal, allowance=BUDGET.start()) as opened:
            _read_everything(opened)
    except ArtefactError as exc:
        _refused(exc)


def _indented(text: str) -> bool:
    return text.startswith((" ", "\t"))


def _header(text: str) -> str | None:
    if text.startswith("------ ") and text.endswith(" ------"):
        return text[7:-7]
    if text.startswith("DUMP OF SERVICE ") and text.endswith(":"):
        return text[16:-1]
    return None


def run_text_lines(data: bytes) -> None:
    """``open_text`` (any compression, capped) and ``iter_lines`` with and without continuation
    records, over small chunks: numbers go up, cut lines say so."""
    encoding = ("utf-8", "utf-8", "utf-8", "utf-8", "utf-8", "utf-16-le", "latin-1", "utf-32")[len(data) % 8]
    try:
        for continues in (None, _indented):
            stream = open_text(io.BytesIO(data), max_bytes=1 << 18)
            previous = 0
            count = 0
            for line in iter_lines(stream, encoding=encoding, max_line=300, continues=continues,
                                   max_record=700, chunk_size=97):
                count += 1
                if line.number <= previous or (continues is None and line.number != previous + 1):
                    raise Violation(f"line {line.number} after line {previous}")
                if continues is not None and len(line.text) > 700:
                    raise Violation(f"record of {len(line.text)} characters, over max_record")
                previous = line.number
            note(f"lines:{min(count, 5)}:{encoding}")
    except ArtefactError as exc:
        _refused(exc)


def run_text_sections(data: bytes) -> None:
    """``split_sections`` tiles the decompressed text; ``section_lines`` reads each section back with
    the numbers of the whole file."""
    try:
        # Decompressed once: how much of a corrupt zstd frame comes out depends on the read size
        # (python-zstandard drops what the decoder still holds when the input ends).
        text = open_text(io.BytesIO(data), max_bytes=1 << 18).read()
    except ArtefactError as exc:
        return _refused(exc)
    sections = list(split_sections(io.BytesIO(text), _header, chunk_size=61))
    note(f"sections:{min(len(sections), 5)}")
    for before, after in itertools.pairwise(sections):
        if before.end != after.start or after.line <= before.line:
            raise Violation(f"sections do not tile: {before} then {after}")
    if sections and sections[-1].end != len(text):
        raise Violation(f"the last section ends at {sections[-1].end}, the text at {len(text)}")
    stream = io.BytesIO(text)
    for section in sections:
        lines = list(section_lines(stream, section))
        if lines and lines[0].number != section.line:
            raise Violation(f"section {section.name!r} starts at line {lines[0].number}, not {section.line}")
    return None


LIMITS = Limits(seconds=2.0, max_decompressed_bytes=16 << 20, max_member_bytes=8 << 20)


def run_zip(data: bytes) -> None:
    """A ZIP attachment screened by ``detect/payloads``: never an internal error, a JSON report."""
    report = screen_bytes(data, name="attachment.zip", mime="application/zip", limits=LIMITS)
    json.dumps(report.to_json())
    internal = [e for e in report.errors if e.startswith("internal error")]
    if internal:
        raise Violation(internal[0])
    note(f"{report.detected_type}:{','.join(sorted(report.limits_hit))}:{len(report.findings)}")


# --- parsers --------------------------------------------------------------------------------------


def _example(pattern: str) -> str:
    """A device path that a source glob matches."""
    return pattern.replace("**", "mobile").replace("*", "fuzz")


@dataclass(frozen=True)
class Location:
    """Where a parser's input lives in a backup: a host file, or a (domain, relativePath) row."""

    host: str | None = None
    domain: str = ""
    relative_path: str = ""


def location(parser: type[Parser]) -> Location:
    """The first source of a parser as a place in a one-file backup."""
    source = parser.sources[0]
    if source.where is Where.HOST:
        return Location(host=source.pattern)
    domain, relative_path = candidates(_example(source.pattern))[0]
    return Location(domain=domain, relative_path=relative_path)


class OneFileBackup:
    """A backup holding one file at a parser's source path; each input overwrites that file."""

    def __init__(self, parser: type[Parser], seed: bytes) -> None:
        self.parser = parser
        where = location(parser)
        builder = BackupBuilder(_scratch(f"backup-{parser.platform}-{parser.name}") / "backup")
        if where.host is None:
            builder.add_file(where.domain, where.relative_path, seed)
            self.root = builder.finish()
            fid = file_id(where.domain, where.relative_path)
            self.file = self.root / fid[:2] / fid
        else:
            builder.add_file("HomeDomain", "Library/SMS/sms.db", b"x")
            self.root = builder.finish()
            self.file = self.root / where.host

    def run(self, data: bytes) -> None:
        self.file.write_bytes(data)
        try:
            acq = open_ios_backup(self.root)
        except AcquisitionError as exc:
            if self.parser.sources[0].pattern != "Manifest.db":
                raise
            note(_outcome_of(exc))  # the backup's own index is unreadable: the CLI's exit 2
            return
        try:
            records, coverage = run_parser(self.parser(), acq, BUDGET)
        finally:
            acq.close()
        from tests.fuzz.parser_targets import note_run

        note_run(records, coverage)


_PARSER_SEEDS: dict[str, Callable[[], list[bytes]]] = {
    "android/dumpsys_adb": _adb_seeds,
    "ios/backup_info": _info_plist_seeds,
    "ios/call_history": _call_history_seeds,
    "ios/calendar": _calendar_seeds,
    "ios/chrome_history": _chrome_seeds,
    "ios/configuration_profiles": lambda: [_binary(PROFILE), _xml(PROFILE)],
    "ios/datausage": _datausage_seeds,
    "ios/global_preferences": lambda: [_binary(PREFERENCES), _xml(PREFERENCES)],
    "ios/idstatuscache": lambda: [_binary(IDS_CACHE), _xml(IDS_CACHE), keyed_archive(IDS_CACHE)],
    "ios/manifest": lambda: [_manifest_db_seed()],
    "ios/netusage": _netusage_seeds,
    "ios/osanalytics_addaily": lambda: [_binary(ADDAILY), _xml(ADDAILY)],
    "ios/safari_browserstate": _browserstate_seeds,
    "ios/safari_history": _history_seeds,
    "ios/sms": lambda: [sqlite_bytes("ios/sms.db/ios12.sql", _sms_rows(), page_size=512)],
    "ios/sms_attachments": _sms_attachment_seeds,
    "ios/tcc": lambda: [sqlite_bytes("ios/TCC.db/ios14.sql", _tcc_rows())],
    "ios/webkit_rls": _webkit_seeds,
    "ios/whatsapp": lambda: [sqlite_bytes("ios/ChatStorage.sqlite/ios15.sql", _whatsapp_rows())],
    "ios/wifi_networks": _wifi_seeds,
}
"""Hand-made seeds per parser (``platform/name``), besides those harvested from the sample
builders (:mod:`tests.fuzz.harvest`): other schema versions, small pages, odd forms. A parser that
neither gives seeds to fails ``tests/fuzz/test_regressions.py``."""


@dataclass(frozen=True)
class ParserTarget(Target):
    """A registered parser as a target (:mod:`tests.fuzz.parser_targets`): ``run(data, place)``
    serves the input at every place the parser reads, or at ``place`` only; ``origins`` are the
    harvested seeds with the place each came from."""

    parser: type[Parser] | None = None
    origins: list[tuple[bytes, Any]] = field(default_factory=list, compare=False)

    def run_at(self, data: bytes, place: Any) -> None:
        """Run one input served at one place only (a seed where its builder put it)."""
        self.run(data, place)  # type: ignore[call-arg]


def _format_targets() -> list[Target]:
    return [
        Target("plist.load", "plist", _plist_seeds, run_plist),
        Target("plist.unarchive", "plist", _archive_seeds, run_plist),
        Target("plist.mbfile_fields", "mbfile", _mbfile_seeds, run_mbfile),
        Target("sqlite.open_database", "sqlite", _sqlite_seeds, run_sqlite),
        Target("sqlite.wal", "wal", lambda: _wal_set()[1], run_wal),
        Target("text.iter_lines", "text", _text_seeds, run_text_lines),
        Target("text.split_sections", "text", _text_seeds, run_text_sections),
        Target("payloads.zip", "zip", _zip_seeds, run_zip),
    ]


@cache
def targets() -> dict[str, Target]:
    """Every target by name: the format owners, the archive layer, and one per registered parser
    that has seeds (harvested from the sample builders, or hand-made in :data:`_PARSER_SEEDS`)."""
    from tests.fuzz.archive_targets import archive_targets
    from tests.fuzz.parser_targets import parser_targets

    out = {t.name: t for t in [*_format_targets(), *archive_targets()]}
    for target in parser_targets(_scratch, _PARSER_SEEDS):
        out[target.name] = target
    return out


def parsers_without_seeds() -> list[str]:
    """Registered parsers the fuzzer cannot run: no builder gives them data and
    :data:`_PARSER_SEEDS` has none."""
    return [qualified(p) for p in registry() if f"parser.{qualified(p)}" not in targets()]

