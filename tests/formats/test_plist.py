from __future__ import annotations

import plistlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import bplist
from tests.builders.ios_backup import mbfile_blob
from unmask.errors import ArtefactError
from unmask.formats import plist
from unmask.formats.plist import mbfile_metadata

_INT = st.integers(min_value=-(2**63), max_value=2**63 - 1)

# The MBFile reader's own properties, compiled and interpreted: tests/formats/test_mbfile.py.


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
def test_mbfile_metadata_equals_plistlib(
    path: str, size: int, mode: int, birth: int, modified: int, changed: int, inode: int
) -> None:
    blob = mbfile_blob(
        path, size=size, mode=mode, birth=birth, modified=modified, changed=changed, inode=inode
    )
    reference = plist._slow_fields(blob)
    assert reference == (size, mode, birth, modified, changed, inode, 501, 501, 3)
    assert plist.mbfile_fields(blob) == reference
    assert plist.mbfile_fields_many([blob]) == [reference]
    assert mbfile_metadata(blob) == plist._meta(reference)


def test_mbfile_metadata_converts_the_times() -> None:
    meta = mbfile_metadata(mbfile_blob("a", size=1, mode=0o100644, birth=0, modified=1709294400, changed=-5))
    assert meta is not None
    assert (meta.size, meta.mode, meta.birth, meta.changed) == (1, 0o100644, None, None)
    assert meta.modified is not None and meta.modified.isoformat() == "2024-03-01T12:00:00+00:00"


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


def _chain(n: int, key: bool = False) -> bytes:
    """Each NSArray lists the next twice: 2^n paths, n objects. With ``key``, the chain is the key
    of a one-entry NSDictionary."""
    objects: list[object] = ["$null", {"$classname": "NSArray", "$classes": ["NSArray", "NSObject"]},
                             {"$classname": "NSDictionary", "$classes": ["NSDictionary", "NSObject"]}]
    for i in range(n):
        nxt = plistlib.UID(3 + i + 1) if i < n - 1 else plistlib.UID(3 + n)
        objects.append({"$class": plistlib.UID(1), "NS.objects": [nxt, nxt]})
    objects.append("leaf")
    root = plistlib.UID(3)
    if key:
        objects.append({"$class": plistlib.UID(2), "NS.keys": [plistlib.UID(3)], "NS.objects": [plistlib.UID(0)]})
        root = plistlib.UID(len(objects) - 1)
    archive = {"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": root}, "$objects": objects}
    return plistlib.dumps(archive, fmt=plistlib.FMT_BINARY)


def test_shared_references_resolve_in_linear_time_and_what_unfolds_is_refused() -> None:
    # Resolving is memoised (linear in the objects); the value it gives, 2^60 values once unfolded,
    # is refused as load() refuses such a plist, before anything walks it.
    with pytest.raises(ArtefactError, match="unfolds"):
        plist.unarchive(plist.load(_chain(60)))
    small = plist.unarchive(plist.load(_chain(4)))
    depth = 0
    while isinstance(small, list):
        small, depth = small[0], depth + 1
    assert (depth, small) == (4, "leaf")


def test_a_key_that_unfolds_is_named_not_turned_into_text() -> None:
    # A 1.3 KB archive whose dictionary key is such a chain once took 33 s and gigabytes (str()).
    assert plist.unarchive(plist.load(_chain(40, key=True))) == {"<list>": None}


def test_references_that_are_not_arrays_are_no_references() -> None:
    archive = {
        "$archiver": "NSKeyedArchiver",
        "$version": 100000,
        "$top": {"root": plistlib.UID(1)},
        "$objects": [
            "$null",
            {"$class": plistlib.UID(2), "NS.keys": plistlib.UID(3), "NS.objects": "x", "k": plistlib.UID(4)},
            {"$classname": "NSDictionary", "$classes": ["NSDictionary", "NSObject"]},
            "key",
            {"$class": plistlib.UID(5), "NS.objects": 7},
            {"$classname": "NSArray", "$classes": ["NSArray", "NSObject"]},
        ],
    }
    assert plist.unarchive(plist.load(plistlib.dumps(archive, fmt=plistlib.FMT_BINARY))) == {}
    archive["$objects"][1] = {"$class": plistlib.UID(5), "NS.objects": None}  # type: ignore[index]
    assert plist.unarchive(plist.load(plistlib.dumps(archive, fmt=plistlib.FMT_BINARY))) == []


def test_unpaired_surrogates_in_utf16_strings_do_not_hide_the_plist() -> None:
    # NSString allows unpaired surrogates and CFBinaryPlist writes them; plistlib refuses the whole
    # file, so one name from outside the device would hide every other value (found by bench.hostile).
    data = bplist.write({
        "Device Name": bplist.Utf16("phone \ud800 \U0001f600 \udfff"),
        "Languages": [bplist.Utf16("\udc80" * 20), "en"],
        "LDMGlobalEnabled": True,
    }, bplist.Options(long_lengths=True))
    with pytest.raises(plistlib.InvalidFileException):
        plistlib.loads(data)
    assert plist.load(data) == {
        "Device Name": "phone \ufffd \U0001f600 \ufffd",
        "Languages": ["\ufffd" * 20, "en"],
        "LDMGlobalEnabled": True,
    }
    with pytest.raises(ArtefactError):  # anything else wrong still refuses the file
        plist.load(data[:-40] + bytes(40))


def test_integers_wider_than_a_plist_holds_are_refused_as_values_and_keys() -> None:
    # plistlib reads integer markers of up to 32 KiB; str() of one raises ValueError (found by the
    # fuzzer as a dictionary key of osanalytics' netUsageBaseline).
    wide = 2**200
    assert plist.load(bplist.write({"ok": bplist.Int(2**127 - 1, 4), "neg": bplist.Int(-(2**127), 4)}))["ok"] == 2**127 - 1
    for value in ({"k": [1, bplist.Int(wide, 5)]}, bplist.Pairs(((bplist.Int(wide, 5), "v"),)), bplist.Int(wide, 5)):
        with pytest.raises(ArtefactError, match="integer of 201 bits"):
            plist.load(bplist.write(value))
