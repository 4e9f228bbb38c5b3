from __future__ import annotations

import plistlib

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.ios_backup import mbfile_blob
from unmask.parsers import plist
from unmask.parsers.plist import _fast_mbfile, _slow_mbfile, mbfile_metadata

_INT = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@settings(max_examples=200, deadline=None)
@given(
    path=st.text(max_size=200),
    size=_INT,
    mode=st.integers(0, 2**16),
    birth=_INT,
    modified=_INT,
    changed=_INT,
    inode=st.integers(0, 2**63 - 1),
)
def test_fast_mbfile_reader_equals_plistlib(
    path: str, size: int, mode: int, birth: int, modified: int, changed: int, inode: int
) -> None:
    blob = mbfile_blob(
        path, size=size, mode=mode, birth=birth, modified=modified, changed=changed, inode=inode
    )
    assert _fast_mbfile(blob) == _slow_mbfile(blob)


@given(st.binary(max_size=300))
def test_garbage_blobs_never_raise(blob: bytes) -> None:
    mbfile_metadata(blob)
    mbfile_metadata(b"bplist00" + blob)


def test_unarchive_resolves_a_keyed_archive_with_cycles() -> None:
    archive = {
        "$archiver": "NSKeyedArchiver",
        "$version": 100000,
        "$top": {"root": plistlib.UID(1)},
        "$objects": [
            "$null",
            {"$class": plistlib.UID(4), "NS.keys": [plistlib.UID(2)], "NS.objects": [plistlib.UID(3)]},
            "url",
            {"$class": plistlib.UID(5), "NS.objects": [plistlib.UID(6), plistlib.UID(1)]},
            {"$classname": "NSDictionary", "$classes": ["NSDictionary", "NSObject"]},
            {"$classname": "NSArray", "$classes": ["NSArray", "NSObject"]},
            "https://evil.example/",
        ],
    }
    value = plist.unarchive(plist.load(plistlib.dumps(archive, fmt=plistlib.FMT_BINARY)))
    assert value == {"url": ["https://evil.example/", None]}


def test_shared_references_resolve_in_linear_time() -> None:
    # Each object lists the next twice: 2^60 paths without memoisation.
    n = 60
    objects: list[object] = ["$null", {"$classname": "NSArray", "$classes": ["NSArray", "NSObject"]}]
    for i in range(n):
        nxt = plistlib.UID(2 + i + 1) if i < n - 1 else plistlib.UID(2 + n)
        objects.append({"$class": plistlib.UID(1), "NS.objects": [nxt, nxt]})
    objects.append("leaf")
    archive = {"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": plistlib.UID(2)},
               "$objects": objects}
    value = plist.unarchive(plist.load(plistlib.dumps(archive, fmt=plistlib.FMT_BINARY)))
    depth = 0
    while isinstance(value, list):
        value, depth = value[0], depth + 1
    assert depth > 0
