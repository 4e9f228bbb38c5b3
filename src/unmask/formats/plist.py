"""Reading property lists: the one owner of plist decoding (XML, binary, NSKeyedArchiver).

:func:`load` wraps :mod:`plistlib` with clear errors; :func:`unarchive` resolves NSKeyedArchiver
object graphs into plain Python values with cycle protection.

:func:`mbfile_metadata` and :func:`mbfile_fields_many` read one structure only, the ``MBFile``
archive in every row of an iOS backup's Manifest.db, with the hand-written reader in
:mod:`unmask.formats.mbfile`: no library reads it fast enough (plistlib takes 50 µs a row, 10 s
for a 200,000-row backup, while the fields we need are a handful of integers); the reader,
compiled with mypyc, takes about 1 µs. Whatever it does not recognise goes to plistlib, and
property tests hold the two equal.
"""

from __future__ import annotations

import hashlib
import importlib
import plistlib
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from unmask import timeutil
from unmask.errors import ArtefactError
from unmask.formats import mbfile

_MAX_DEPTH = 64

MAX_NESTING = 512
"""Containers inside containers, at most. Real plists nest a few dozen levels; an XML plist can nest
hundreds of thousands deep, and everything that walks the value afterwards (text conversion, JSON
writing) would recurse that deep."""
MAX_EXPANDED = 5_000_000
"""Values in a plist as it unfolds, at most. A binary plist refers to an object by number, so one
array can hold the same sub-array twice, 40 levels down: 474 bytes that unfold into 2^40 values
the moment anything converts them to text. plistlib shares such objects; this bound refuses the
file before anything unfolds it."""


MAX_INT_BITS = 128
"""Integers wider than this are refused. A binary plist's integers are 1 to 16 bytes (CoreFoundation
reads no wider), but plistlib reads markers for up to 32 KiB, and Python will not turn an integer
of more than 4,300 digits into text: whatever printed such a value (a parser naming a dictionary
key, a writer) would raise."""


def load(data: bytes) -> Any:
    """Decode a binary or XML plist; raise :class:`ArtefactError` with a one-line reason if invalid.

    A UTF-16 string of a binary plist that holds an unpaired surrogate (NSString allows them)
    reads with U+FFFD in its place rather than making the whole file unreadable.

    The value is checked before it is handed out: no cycles (a binary plist can make an array
    contain itself), at most :data:`MAX_NESTING` levels, at most :data:`MAX_EXPANDED` values once
    shared objects are unfolded, no integer (value or dictionary key) wider than
    :data:`MAX_INT_BITS`. Every consumer can then walk, print and serialise it safely.
    """
    if not data:
        raise ArtefactError("empty plist")
    try:
        value = _loads(data)
    except (plistlib.InvalidFileException, ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise ArtefactError(f"not a valid plist ({type(exc).__name__}: {exc})".rstrip()) from None
    except RecursionError:
        raise ArtefactError(f"plist nests deeper than {MAX_NESTING} levels") from None
    except Exception as exc:  # plistlib's XML path can raise expat errors of its own
        raise ArtefactError(f"not a valid plist ({type(exc).__name__})") from None
    check_shape(value)
    return value


def _loads(data: bytes) -> Any:
    try:
        return plistlib.loads(data)
    except plistlib.InvalidFileException:
        repaired = _lone_surrogates_replaced(data)
        if repaired is None:
            raise
        return plistlib.loads(repaired)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogates_replaced(data: bytes) -> bytes | None:
    """A binary plist whose UTF-16 strings hold unpaired surrogates, with each replaced by U+FFFD
    in place; ``None`` when there is none (or the file is not a binary plist we can walk).

    NSString is UTF-16 and allows unpaired surrogates, and CFBinaryPlist writes them as they are;
    plistlib decodes strictly and refuses the whole file, so one such string (a device or network
    name: text from outside the device) would hide everything else in it. A surrogate and its
    replacement are both one UTF-16 unit, so no offset moves. Each string object is read once, so
    the work stays linear in the file's size.
    """
    if len(data) < 40 or not data.startswith(b"bplist"):
        return None
    trailer = len(data) - 32
    width, count = data[trailer + 6], int.from_bytes(data[trailer + 8 : trailer + 16], "big")
    table = int.from_bytes(data[trailer + 24 : trailer + 32], "big")
    if not 1 <= width <= 8 or table + count * width > trailer:
        return None
    out = bytearray(data)
    seen: set[int] = set()
    repaired = False
    for i in range(count):
        at = table + i * width
        pos = int.from_bytes(data[at : at + width], "big")
        if pos >= table or pos in seen or data[pos] >> 4 != 0x6:
            continue
        seen.add(pos)
        length, start = data[pos] & 0xF, pos + 1
        if length == 0xF:  # the length follows as an integer object
            if start >= table or data[start] >> 4 != 0x1 or data[start] & 0xF > 3:
                continue
            size = 1 << (data[start] & 0xF)
            length, start = int.from_bytes(data[start + 1 : start + 1 + size], "big"), start + 1 + size
        end = start + 2 * length
        if end > table:
            continue
        text = data[start:end].decode("utf-16-be", "surrogatepass")  # pairs join, lone units stay
        fixed = _LONE_SURROGATE.sub("\ufffd", text)
        if fixed != text:
            out[start:end] = fixed.encode("utf-16-be")
            repaired = True
    return bytes(out) if repaired else None


def check_shape(value: Any, *, max_nesting: int = MAX_NESTING, max_expanded: int = MAX_EXPANDED) -> None:
    """Raise :class:`ArtefactError` when a decoded value contains itself, nests deeper than
    ``max_nesting``, unfolds into more than ``max_expanded`` values or holds an integer (a value
    or a dictionary key) wider than :data:`MAX_INT_BITS`.

    One iterative post-order walk over the distinct containers (each measured once, however often
    it is shared), so the check itself costs what the value costs to hold, never what it unfolds to.
    """
    if not isinstance(value, dict | list):
        _check_scalar(value)
        return
    sizes: dict[int, tuple[int, int]] = {}  # id → (values unfolded, levels below)
    visiting: set[int] = set()
    stack: list[tuple[Any, Any]] = [(value, iter(_children(value)))]
    visiting.add(id(value))
    while stack:
        node, children = stack[-1]
        child = next(children, _DONE)
        if child is _DONE:
            stack.pop()
            visiting.discard(id(node))
            total, depth = 1, 0
            for item in _children(node):
                if isinstance(item, dict | list):
                    size, below = sizes[id(item)]
                    total += size
                    depth = max(depth, below + 1)
                else:
                    total += 1
                    _check_scalar(item)
                if total > max_expanded:
                    raise ArtefactError(
                        f"plist unfolds into more than {max_expanded:,} values (objects shared over and over)"
                    )
            if depth > max_nesting:
                raise ArtefactError(f"plist nests deeper than {max_nesting} levels")
            if isinstance(node, dict):
                for key in node:
                    _check_scalar(key)
            sizes[id(node)] = (total, depth)
            continue
        if not isinstance(child, dict | list) or id(child) in sizes:
            continue
        if id(child) in visiting:
            raise ArtefactError("plist contains itself (an object that refers back to its own container)")
        if len(stack) > max_nesting:
            raise ArtefactError(f"plist nests deeper than {max_nesting} levels")
        visiting.add(id(child))
        stack.append((child, iter(_children(child))))


_DONE = object()


def _check_scalar(value: Any) -> None:
    if type(value) is int and value.bit_length() > MAX_INT_BITS:
        raise ArtefactError(
            f"plist holds an integer of {value.bit_length()} bits, wider than the {MAX_INT_BITS} a plist can hold"
        )


def _children(node: Any) -> Any:
    return node.values() if isinstance(node, dict) else node


def load_dict(data: bytes) -> dict[str, Any]:
    """Like :func:`load` but the top level must be a dictionary."""
    value = load(data)
    if not isinstance(value, dict):
        raise ArtefactError(f"plist top level is {type(value).__name__}, expected a dictionary")
    return value


def is_keyed_archive(value: Any) -> bool:
    """Whether a decoded plist is an NSKeyedArchiver archive."""
    return isinstance(value, dict) and "$objects" in value and "$top" in value


def unarchive(value: Any) -> Any:
    """Resolve an NSKeyedArchiver archive (already decoded by :func:`load`) into plain values.

    NSDictionary → dict, NSArray/NSSet → list, NSString → str, NSData → bytes, NSDate → aware
    datetime, other objects → dict of their fields plus ``$class``; dictionary keys are text
    (a key that is a container is named by its type). Cycles and dangling references become
    ``None``. Like :func:`load`, raises :class:`ArtefactError` rather than hand out a value that
    unfolds past :data:`MAX_EXPANDED` values or nests past :data:`MAX_NESTING` levels.
    """
    if not is_keyed_archive(value):
        raise ArtefactError("not an NSKeyedArchiver archive")
    objects = value["$objects"]
    if not isinstance(objects, list):
        raise ArtefactError("NSKeyedArchiver $objects is not an array")
    top = value["$top"]
    root = top.get("root", next(iter(top.values()), None)) if isinstance(top, dict) else None
    result = _Unarchiver(objects).resolve(root, 0)
    # Each object is resolved once and shared wherever it is referred to, so a few dozen objects
    # that each refer to the next twice resolve into a value that unfolds into 2^n: refused here,
    # like load() refuses such a plist, before anything walks it.
    check_shape(result)
    return result


_MAX_STEPS = 1_000_000


class _Unarchiver:
    """Resolves UIDs once each (memoised) within a work budget.

    Hostile archives reference objects many times over: without the memo a chain of objects that
    each list the next one twice costs 2^n steps; the budget bounds whatever is left.
    """

    def __init__(self, objects: list[Any]) -> None:
        self.objects = objects
        self.memo: dict[int, Any] = {}
        self.active: set[int] = set()
        self.steps = 0

    def resolve(self, item: Any, depth: int) -> Any:
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise ArtefactError("NSKeyedArchiver archive too large or too deeply shared")
        if depth > _MAX_DEPTH:
            return None
        if isinstance(item, plistlib.UID):
            index = item.data
            if index in self.memo:
                return self.memo[index]
            if index in self.active or not 0 <= index < len(self.objects):
                return None  # a cycle, or a dangling reference
            self.active.add(index)
            try:
                target = self.objects[index]
                result = None if target == "$null" else self._value(target, depth)
            finally:
                self.active.discard(index)
            self.memo[index] = result
            return result
        return self._value(item, depth)

    def _value(self, item: Any, depth: int) -> Any:
        objects, resolve = self.objects, self.resolve
        if isinstance(item, dict):
            class_name = _class_name(objects, item.get("$class"))
            if class_name in ("NSDictionary", "NSMutableDictionary") and "NS.keys" in item:
                keys = [resolve(k, depth + 1) for k in _refs(item.get("NS.keys"))]
                vals = [resolve(v, depth + 1) for v in _refs(item.get("NS.objects"))]
                return {_key(k): v for k, v in zip(keys, vals, strict=False)}
            if class_name in ("NSArray", "NSMutableArray", "NSSet", "NSMutableSet", "NSOrderedSet"):
                return [resolve(v, depth + 1) for v in _refs(item.get("NS.objects"))]
            if class_name in ("NSString", "NSMutableString"):
                return item.get("NS.string")
            if class_name in ("NSData", "NSMutableData"):
                return item.get("NS.data")
            if class_name == "NSDate":
                return timeutil.cocoa(item.get("NS.time"))
            if class_name == "NSURL":
                base = resolve(item.get("NS.base"), depth + 1)
                rel = resolve(item.get("NS.relative"), depth + 1)
                return "".join(part for part in (base, rel) if isinstance(part, str))
            out = {_key(k): resolve(v, depth + 1) for k, v in item.items() if k != "$class"}
            if class_name:
                out["$class"] = class_name
            return out
        if isinstance(item, list):
            return [resolve(v, depth + 1) for v in item]
        return item


def _refs(value: Any) -> list[Any]:
    """The references an archive lists under a key; anything but an array lists none."""
    return value if isinstance(value, list) else []


def _key(value: Any) -> str:
    """A dictionary key as text. Containers are named by their type only: they may be shared
    objects whose text would unfold into more than memory holds."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool | int | float | bytes | datetime | plistlib.UID):
        try:
            return str(value)
        except ValueError:  # an integer of more digits than Python converts to text
            return f"<integer of {value.bit_length() if isinstance(value, int) else '?'} bits>"
    return f"<{type(value).__name__}>"


def _class_name(objects: list[Any], ref: Any) -> str | None:
    if isinstance(ref, plistlib.UID) and 0 <= ref.data < len(objects):
        cls = objects[ref.data]
        if isinstance(cls, dict):
            name = cls.get("$classname")
            return name if isinstance(name, str) else None
    return None


# --- Manifest.db MBFile metadata -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MBFileMeta:
    """The fields of a Manifest.db ``MBFile`` archive that forensics needs."""

    size: int | None
    mode: int | None
    birth: datetime | None
    modified: datetime | None
    changed: datetime | None
    inode: int | None = None
    uid: int | None = None
    gid: int | None = None
    protection_class: int | None = None


MBFileFields = mbfile.Fields
"""(size, mode, birth, modified, changed, inode, uid, gid, protection_class): raw integers, the
times in Unix seconds, ``None`` where the archive has no integer under the key."""

_NATIVE_MODULE = "unmask.formats._mbfile_native"


def _native_reader() -> Any:
    """The mypyc-compiled build of :mod:`unmask.formats.mbfile`, if one was built from this very
    source; ``None`` otherwise (no compiler at install time, or an extension left behind by an
    older checkout in an editable install, which must never decide evidence)."""
    try:
        native = importlib.import_module(_NATIVE_MODULE)
        source = Path(mbfile.__file__).read_bytes()
    except (ImportError, OSError, TypeError):  # TypeError: no __file__ (a frozen application)
        return None
    if getattr(native, "SOURCE_SHA256", None) != hashlib.sha256(source).hexdigest():
        warnings.warn(
            f"{_NATIVE_MODULE} was built from another version of mbfile.py and is not used; "
            "reinstall (pip install -e .) to rebuild it",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return native


_native = _native_reader()
MBFILE_READER = "compiled" if _native is not None else "interpreted"
"""Which build of the MBFile reader is in use: ``compiled`` (mypyc) or ``interpreted``."""
_fields: Callable[[bytes], MBFileFields] = mbfile.fields if _native is None else _native.fields
_fields_many: Callable[
    [Sequence[bytes | None], Callable[[bytes], MBFileFields | None]], list[MBFileFields | None]
] = mbfile.fields_many if _native is None else _native.fields_many

_INT_KEYS = ("Size", "Mode", "Birth", "LastModified", "LastStatusChange", "InodeNumber", "UserID", "GroupID",
             "ProtectionClass")  # fmt: skip


def _slow_fields(blob: bytes) -> MBFileFields | None:
    """The reference decoder: plistlib, for whatever the fast reader does not vouch for."""
    try:
        archive = plistlib.loads(blob)
        objects = archive["$objects"]
        root = objects[archive["$top"]["root"].data]
    except Exception:
        # Hostile input can make plistlib raise almost anything (RecursionError included).
        return None
    if not isinstance(root, dict):
        return None
    size, mode, birth, modified, changed, inode, uid, gid, protection = (
        value if isinstance(value := root.get(key), int) and not isinstance(value, bool) else None
        for key in _INT_KEYS
    )
    return size, mode, birth, modified, changed, inode, uid, gid, protection


def _meta(fields: MBFileFields) -> MBFileMeta:
    size, mode, birth, modified, changed, inode, uid, gid, protection = fields
    return MBFileMeta(
        size=size,
        mode=mode,
        birth=timeutil.unix_int(birth),
        modified=timeutil.unix_int(modified),
        changed=timeutil.unix_int(changed),
        inode=inode,
        uid=uid,
        gid=gid,
        protection_class=protection,
    )


def mbfile_fields(blob: bytes | None) -> MBFileFields | None:
    """The raw integer fields of one Manifest.db ``Files.file`` blob (see :data:`MBFileFields`);
    ``None`` if the blob is empty or not an MBFile archive."""
    if not blob:
        return None
    try:
        return _fields(blob)
    except Exception:
        # The fast reader raises on anything it does not recognise; plistlib decides then.
        return _slow_fields(blob)


def mbfile_fields_many(blobs: Sequence[bytes | None]) -> list[MBFileFields | None]:
    """:func:`mbfile_fields` for every blob of a Manifest.db at once, in order.

    For the Manifest parser: one call decodes all rows in compiled code, with no per-row
    :class:`MBFileMeta` or datetimes. Each item is the tuple (size, mode, birth, modified, changed,
    inode, uid, gid, protection_class) of raw integers, times in Unix seconds (convert with
    :func:`unmask.timeutil.unix_int`), ``None`` for a field the archive lacks; the item is
    ``None`` for an empty blob or one that is not an MBFile archive.

    Measured on the 200,000-row benchmark backup (blobs fetched first, decoding timed alone),
    in µs a row: compiled 1.1, interpreted 20 (:data:`MBFILE_READER` says which is in use);
    plistlib 50. :func:`mbfile_metadata` adds three datetimes and a dataclass: 5.6 compiled.
    """
    return _fields_many(blobs, _slow_fields)


def mbfile_metadata(blob: bytes | None) -> MBFileMeta | None:
    """Size, mode and times from a Manifest.db ``Files.file`` blob; ``None`` if it is not an MBFile."""
    fields = mbfile_fields(blob)
    return None if fields is None else _meta(fields)


def mbfile_encryption_key(blob: bytes | None) -> tuple[int | None, bytes | None]:
    """An encrypted backup's ``MBFile``: its ``ProtectionClass`` and the bytes of its
    ``EncryptionKey`` (an NSData: a 4-byte little-endian class, then the wrapped file key), ``None``
    where the archive has none (folders, links, empty files). Raises :class:`ArtefactError` when
    the blob is not an MBFile archive.

    Read with plistlib (about 50 µs): it is asked only for the files a scan reads, not per row.
    """
    if not blob:
        raise ArtefactError("no MBFile metadata in Manifest.db")
    try:
        archive = plistlib.loads(blob)
        objects = archive["$objects"]
        root = objects[archive["$top"]["root"].data]
    except Exception:  # hostile input can make plistlib raise almost anything
        raise ArtefactError("MBFile metadata in Manifest.db is not a keyed archive") from None
    if not isinstance(root, dict):
        raise ArtefactError("MBFile metadata in Manifest.db is not a dictionary")
    protection = root.get("ProtectionClass")
    protection = protection if isinstance(protection, int) and not isinstance(protection, bool) else None
    ref = root.get("EncryptionKey")
    if ref is None:
        return protection, None
    value: Any = ref
    if isinstance(ref, plistlib.UID):
        value = objects[ref.data] if 0 <= ref.data < len(objects) else None
    if isinstance(value, dict):
        value = value.get("NS.data")
    if not isinstance(value, bytes):
        raise ArtefactError("MBFile EncryptionKey is not data")
    return protection, value
