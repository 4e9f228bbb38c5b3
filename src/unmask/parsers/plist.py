"""Reading property lists: the one owner of plist decoding (XML, binary, NSKeyedArchiver).

:func:`load` wraps :mod:`plistlib` with clear errors; :func:`unarchive` resolves NSKeyedArchiver
object graphs into plain Python values with cycle protection.

:func:`mbfile_metadata` is a hand-written reader for one structure only, the ``MBFile`` archive in
every row of an iOS backup's Manifest.db. No library reads it faster: decoding 200,000 of these
blobs with plistlib takes over 20 seconds, which would dominate a whole scan, while the fields we
need are a handful of integers at known places in the binary plist. The reader falls back to
plistlib for anything it does not recognise, and a property test holds it equal to plistlib.
"""

from __future__ import annotations

import plistlib
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from unmask import timeutil
from unmask.errors import ArtefactError

_MAX_DEPTH = 64


def load(data: bytes) -> Any:
    """Decode a binary or XML plist; raise :class:`ArtefactError` with a one-line reason if invalid."""
    if not data:
        raise ArtefactError("empty plist")
    try:
        return plistlib.loads(data)
    except (plistlib.InvalidFileException, ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise ArtefactError(f"not a valid plist ({type(exc).__name__}: {exc})".rstrip()) from None
    except Exception as exc:  # plistlib's XML path can raise expat errors of its own
        raise ArtefactError(f"not a valid plist ({type(exc).__name__})") from None


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
    datetime, other objects → dict of their fields plus ``$class``. Cycles become ``None``.
    """
    if not is_keyed_archive(value):
        raise ArtefactError("not an NSKeyedArchiver archive")
    objects = value["$objects"]
    if not isinstance(objects, list):
        raise ArtefactError("NSKeyedArchiver $objects is not an array")
    top = value["$top"]
    root = top.get("root", next(iter(top.values()), None)) if isinstance(top, dict) else None
    return _Unarchiver(objects).resolve(root, 0)


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
                keys = [resolve(k, depth + 1) for k in item.get("NS.keys", [])]
                vals = [resolve(v, depth + 1) for v in item.get("NS.objects", [])]
                return {str(k): v for k, v in zip(keys, vals, strict=False)}
            if class_name in ("NSArray", "NSMutableArray", "NSSet", "NSMutableSet", "NSOrderedSet"):
                return [resolve(v, depth + 1) for v in item.get("NS.objects", [])]
            if class_name in ("NSString", "NSMutableString"):
                return item.get("NS.string")
            if class_name in ("NSData", "NSMutableData"):
                return item.get("NS.data")
            if class_name == "NSDate":
                return timeutil.cocoa(item.get("NS.time"))
            if class_name == "NSURL":
                base = resolve(item.get("NS.base"), depth + 1)
                rel = resolve(item.get("NS.relative"), depth + 1)
                return f"{base or ''}{rel or ''}"
            out = {k: resolve(v, depth + 1) for k, v in item.items() if k != "$class"}
            if class_name:
                out["$class"] = class_name
            return out
        if isinstance(item, list):
            return [resolve(v, depth + 1) for v in item]
        return item


def _class_name(objects: list[Any], ref: Any) -> str | None:
    if isinstance(ref, plistlib.UID) and 0 <= ref.data < len(objects):
        cls = objects[ref.data]
        if isinstance(cls, dict):
            name = cls.get("$classname")
            return name if isinstance(name, str) else None
    return None


# --- Manifest.db MBFile fast path ------------------------------------------------------------------


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


_INT_KEYS = {
    "Size": "size",
    "Mode": "mode",
    "Birth": "birth",
    "LastModified": "modified",
    "LastStatusChange": "changed",
    "InodeNumber": "inode",
    "UserID": "uid",
    "GroupID": "gid",
    "ProtectionClass": "protection_class",
}


# Key objects as they are encoded in a bplist (ASCII string marker + text), mapped to our fields.
def _encoded_key(key: str) -> bytes:
    raw = key.encode("ascii")
    if len(raw) < 15:
        return bytes([0x50 | len(raw)]) + raw
    return bytes([0x5F, 0x10, len(raw)]) + raw


_ENCODED_KEYS = {_encoded_key(k): v for k, v in _INT_KEYS.items()}
_KEY_OBJECTS = _encoded_key("$objects")
_KEY_TOP = _encoded_key("$top")
_KEY_ROOT = _encoded_key("root")
_WIDTH_FORMAT = {1: "B", 2: "H", 4: "I", 8: "Q"}


def _fast_mbfile(blob: bytes) -> MBFileMeta:
    """Decode only the integer fields of the root MBFile object, straight from the bplist bytes.

    Object references are resolved through the offset table read in one ``struct`` call; keys are
    recognised by their encoded bytes, so no intermediate objects are built for other fields.
    Written out without helper calls: it runs once per Manifest.db row.
    """
    if blob[:8] != b"bplist00":
        raise ValueError("not bplist00")
    offset_size, ref_size, count, top, table = _TRAILER.unpack_from(blob, len(blob) - 32)
    offsets = struct.unpack_from(f">{count}{_WIDTH_FORMAT[offset_size]}", blob, table)
    ref_format = _WIDTH_FORMAT[ref_size]

    # Top-level dict: find $objects and $top.
    pos = offsets[top]
    marker = blob[pos]
    n = marker & 0xF
    if marker >> 4 != 0xD or n == 0xF:
        raise ValueError("top is not a small dict")
    refs = struct.unpack_from(f">{2 * n}{ref_format}", blob, pos + 1)
    objects_ref = top_ref = -1
    for i in range(n):
        kpos = offsets[refs[i]]
        if blob[kpos : kpos + 9] == _KEY_OBJECTS:
            objects_ref = refs[n + i]
        elif blob[kpos : kpos + 5] == _KEY_TOP:
            top_ref = refs[n + i]
    if objects_ref < 0 or top_ref < 0:
        raise ValueError("not a keyed archive")

    # $top: {root: UID}
    pos = offsets[top_ref]
    marker = blob[pos]
    n = marker & 0xF
    if marker >> 4 != 0xD or n == 0xF:
        raise ValueError("$top is not a small dict")
    refs = struct.unpack_from(f">{2 * n}{ref_format}", blob, pos + 1)
    uid = -1
    for i in range(n):
        kpos = offsets[refs[i]]
        if blob[kpos : kpos + 5] == _KEY_ROOT:
            vpos = offsets[refs[n + i]]
            vmarker = blob[vpos]
            if vmarker >> 4 != 0x8:
                raise ValueError("root is not a UID")
            uid = int.from_bytes(blob[vpos + 1 : vpos + 2 + (vmarker & 0xF)], "big")
    pos = offsets[objects_ref]
    marker = blob[pos]
    if uid < 0 or marker >> 4 != 0xA or marker & 0xF == 0xF or uid >= marker & 0xF:
        raise ValueError("unexpected $objects")
    root_ref = struct.unpack_from(f">{ref_format}", blob, pos + 1 + uid * ref_size)[0]

    # The MBFile dict itself.
    pos = offsets[root_ref]
    marker = blob[pos]
    n = marker & 0xF
    if marker >> 4 != 0xD or n == 0xF:
        raise ValueError("root object is not a small dict")
    refs = struct.unpack_from(f">{2 * n}{ref_format}", blob, pos + 1)
    fields: dict[str, int] = {}
    encoded_keys = _ENCODED_KEYS
    for i in range(n):
        kpos = offsets[refs[i]]
        klen = blob[kpos] & 0xF
        encoded = blob[kpos : kpos + 3 + blob[kpos + 2]] if klen == 0xF else blob[kpos : kpos + 1 + klen]
        target = encoded_keys.get(encoded)
        if target is None:
            continue
        vpos = offsets[refs[n + i]]
        vmarker = blob[vpos]
        if vmarker >> 4 != 0x1:
            continue
        width = 1 << (vmarker & 0xF)
        fields[target] = int.from_bytes(blob[vpos + 1 : vpos + 1 + width], "big", signed=width >= 8)
    return _meta(fields)


_TRAILER = struct.Struct(">6xBBQQQ")


def _meta(values: dict[str, int]) -> MBFileMeta:
    return MBFileMeta(
        size=values.get("size"),
        mode=values.get("mode"),
        birth=timeutil.unix_int(values.get("birth")),
        modified=timeutil.unix_int(values.get("modified")),
        changed=timeutil.unix_int(values.get("changed")),
        inode=values.get("inode"),
        uid=values.get("uid"),
        gid=values.get("gid"),
        protection_class=values.get("protection_class"),
    )


def _slow_mbfile(blob: bytes) -> MBFileMeta | None:
    try:
        archive = plistlib.loads(blob)
        objects = archive["$objects"]
        root = objects[archive["$top"]["root"].data]
    except Exception:
        return None
    if not isinstance(root, dict):
        return None
    values = {
        target: root[key]
        for key, target in _INT_KEYS.items()
        if isinstance(root.get(key), int) and not isinstance(root.get(key), bool)
    }
    return _meta(values)


def mbfile_metadata(blob: bytes | None) -> MBFileMeta | None:
    """Size, mode and times from a Manifest.db ``Files.file`` blob; ``None`` if it is not an MBFile."""
    if not blob:
        return None
    try:
        return _fast_mbfile(blob)
    except (ValueError, IndexError, KeyError, struct.error, TypeError):
        return _slow_mbfile(blob)
