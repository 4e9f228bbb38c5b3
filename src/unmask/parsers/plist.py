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
    return _resolve(objects, root, frozenset(), 0)


def _resolve(objects: list[Any], item: Any, seen: frozenset[int], depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return None
    if isinstance(item, plistlib.UID):
        index = item.data
        if index in seen or not 0 <= index < len(objects):
            return None
        seen = seen | {index}
        item = objects[index]
        if item == "$null":
            return None
    if isinstance(item, dict):
        class_name = _class_name(objects, item.get("$class"))
        if class_name in ("NSDictionary", "NSMutableDictionary") and "NS.keys" in item:
            keys = [_resolve(objects, k, seen, depth + 1) for k in item.get("NS.keys", [])]
            vals = [_resolve(objects, v, seen, depth + 1) for v in item.get("NS.objects", [])]
            return {str(k): v for k, v in zip(keys, vals, strict=False)}
        if class_name in ("NSArray", "NSMutableArray", "NSSet", "NSMutableSet", "NSOrderedSet"):
            return [_resolve(objects, v, seen, depth + 1) for v in item.get("NS.objects", [])]
        if class_name in ("NSString", "NSMutableString"):
            return item.get("NS.string")
        if class_name in ("NSData", "NSMutableData"):
            return item.get("NS.data")
        if class_name == "NSDate":
            return timeutil.cocoa(item.get("NS.time"))
        if class_name in ("NSURL",):
            base = _resolve(objects, item.get("NS.base"), seen, depth + 1)
            rel = _resolve(objects, item.get("NS.relative"), seen, depth + 1)
            return f"{base or ''}{rel or ''}"
        out = {k: _resolve(objects, v, seen, depth + 1) for k, v in item.items() if k != "$class"}
        if class_name:
            out["$class"] = class_name
        return out
    if isinstance(item, list):
        return [_resolve(objects, v, seen, depth + 1) for v in item]
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


class _BPlist:
    """Minimal bplist00 object reader: only what the MBFile archive uses (dict, array, str, int, UID)."""

    __slots__ = ("data", "objects_count", "offsets_at", "offset_size", "ref_size", "top")

    def __init__(self, data: bytes) -> None:
        if len(data) < 40 or data[:8] != b"bplist00":
            raise ValueError("not bplist00")
        self.data = data
        (self.offset_size, self.ref_size, self.objects_count, self.top, self.offsets_at) = struct.unpack(
            ">6xBBQQQ", data[-32:]
        )

    def _offset(self, ref: int) -> int:
        if ref >= self.objects_count:
            raise ValueError("object reference out of range")
        at = self.offsets_at + ref * self.offset_size
        return int.from_bytes(self.data[at : at + self.offset_size], "big")

    def _length(self, pos: int, low: int) -> tuple[int, int]:
        if low != 0xF:
            return low, pos + 1
        marker = self.data[pos + 1]
        if marker >> 4 != 0x1:
            raise ValueError("bad length")
        width = 1 << (marker & 0xF)
        return int.from_bytes(self.data[pos + 2 : pos + 2 + width], "big"), pos + 2 + width

    def _refs(self, pos: int, count: int) -> list[int]:
        size = self.ref_size
        data = self.data
        return [int.from_bytes(data[pos + i * size : pos + (i + 1) * size], "big") for i in range(count)]

    def obj(self, ref: int) -> Any:
        pos = self._offset(ref)
        marker = self.data[pos]
        high, low = marker >> 4, marker & 0xF
        if high == 0x1:
            width = 1 << low
            return int.from_bytes(self.data[pos + 1 : pos + 1 + width], "big", signed=width >= 8)
        if high == 0x5:
            n, start = self._length(pos, low)
            return self.data[start : start + n].decode("ascii")
        if high == 0x6:
            n, start = self._length(pos, low)
            return self.data[start : start + 2 * n].decode("utf-16-be")
        if high == 0x8:
            return plistlib.UID(int.from_bytes(self.data[pos + 1 : pos + 2 + low], "big"))
        if high == 0xD:
            n, start = self._length(pos, low)
            return ("dict", self._refs(start, n), self._refs(start + n * self.ref_size, n))
        if high == 0xA:
            n, start = self._length(pos, low)
            return ("array", self._refs(start, n))
        raise ValueError(f"marker {marker:#x} not handled by the fast path")


def _fast_mbfile(blob: bytes) -> MBFileMeta:
    plist = _BPlist(blob)
    top = plist.obj(plist.top)
    if not (isinstance(top, tuple) and top[0] == "dict"):
        raise ValueError("top is not a dict")
    top_keys = [plist.obj(k) for k in top[1]]
    objects = plist.obj(top[2][top_keys.index("$objects")])
    toplevel = plist.obj(top[2][top_keys.index("$top")])
    if not (isinstance(objects, tuple) and objects[0] == "array" and toplevel[0] == "dict"):
        raise ValueError("unexpected archive layout")
    root_keys = [plist.obj(k) for k in toplevel[1]]
    root_uid = plist.obj(toplevel[2][root_keys.index("root")])
    if not isinstance(root_uid, plistlib.UID):
        raise ValueError("root is not a UID")
    root = plist.obj(objects[1][root_uid.data])
    if not (isinstance(root, tuple) and root[0] == "dict"):
        raise ValueError("root object is not a dict")
    values: dict[str, int] = {}
    for key_ref, value_ref in zip(root[1], root[2], strict=True):
        key = plist.obj(key_ref)
        target = _INT_KEYS.get(key)
        if target is None:
            continue
        value = plist.obj(value_ref)
        if isinstance(value, int) and not isinstance(value, bool):
            values[target] = value
    return _meta(values)


def _meta(values: dict[str, int]) -> MBFileMeta:
    return MBFileMeta(
        size=values.get("size"),
        mode=values.get("mode"),
        birth=timeutil.unix(values.get("birth")),
        modified=timeutil.unix(values.get("modified")),
        changed=timeutil.unix(values.get("changed")),
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
    except (ValueError, IndexError, KeyError, struct.error, UnicodeDecodeError, TypeError):
        return _slow_mbfile(blob)
