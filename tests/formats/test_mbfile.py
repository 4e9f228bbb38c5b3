"""The hand-written MBFile reader against plistlib, compiled and interpreted.

``unmask.formats.mbfile`` is the source module, always interpreted here (the compiled build has
another name, ``unmask.formats._mbfile_native``). The compiled build is tested when
``pip install -e .`` built it from this very source; otherwise its cases are skipped, with the
reason in pytest's summary. Every property holds for each build, and the two must agree on
every input, hostile ones included: compiled i64 arithmetic wraps where Python's would not.
"""

from __future__ import annotations

import hashlib
import plistlib
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import bplist
from tests.builders.bplist import Int, Options, Pairs, Utf16
from tests.builders.ios_backup import mbfile_blob
from unmask.formats import mbfile, plist

COMPILED = plist._native
BUILDS = [mbfile] if COMPILED is None else [mbfile, COMPILED]
READERS = [
    pytest.param(mbfile, id="interpreted"),
    pytest.param(
        COMPILED,
        id="compiled",
        marks=pytest.mark.skipif(
            COMPILED is None,
            reason="mbfile is not compiled: no C compiler at install time, or built from another "
            "version of mbfile.py (pip install -e . rebuilds it)",
        ),
    ),
]

FIELD_KEYS = ("Size", "Mode", "Birth", "LastModified", "LastStatusChange", "InodeNumber", "UserID", "GroupID",
              "ProtectionClass")  # fmt: skip


def _outcome(reader: Any, blob: bytes) -> tuple[Any, ...] | None:
    """What a build makes of a blob: its fields, or ``None`` where it leaves the blob to plistlib.

    Only ValueError is a refusal: anything else escaping the reader is a bug in it.
    """
    try:
        return tuple(reader.fields(blob))
    except ValueError:
        return None


# --- Generated archives ------------------------------------------------------------------------------

_PLAIN_INTS = st.one_of(
    st.integers(0, 2**8),
    st.integers(0, 2**16),
    st.integers(0, 2**32),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, 1, -1, 255, 256, 65535, 65536, 2**31, 2**32 - 1, 2**32, 1709294400, 2**63 - 1,
                     -(2**63), 2**63, 2**64 - 1]),  # 2**63 and up: plistlib writes them unsigned
)  # fmt: skip
# Integers wider than plistlib would write them; 16-byte ones the fast reader leaves to plistlib.
_WIDE_INTS = st.builds(Int, st.integers(-(2**63), 2**63 - 1), st.integers(0, 3)) | st.sampled_from(
    [2**64, -(2**63) - 1, Int(5, 4)]
)
_OTHER_VALUES = st.one_of(
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.text(max_size=4),
    st.binary(max_size=4),
    st.builds(plistlib.UID, st.integers(0, 3)),
)
# Keys that are not fields, near misses and the archive's own names among them.
_OTHER_KEYS = st.sampled_from(
    ["Flags", "Target", "Digest", "size", "Siz", "Sizes", "Size ", "LastModifiedX", "$top", "$objects",
     "root", "ProtectionClasS", "LastStatusChangE", ""]
) | st.text(st.characters(max_codepoint=127), max_size=20)  # fmt: skip


def _is_wide(value: Any) -> bool:
    if isinstance(value, Int):
        return value.code > 3 or not -(2**63) <= value.value < 2**64
    return isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64


@st.composite
def archives(draw: st.DrawFn, plain: bool = False) -> tuple[bytes, bool]:
    """An MBFile keyed archive, written in any way the format allows, and whether the fast
    reader must decode it itself (ASCII keys, widths up to 4, no integer wider than 8 bytes);
    ``plain`` draws only those."""
    values = st.one_of(_PLAIN_INTS, _PLAIN_INTS, _PLAIN_INTS, _WIDE_INTS, _OTHER_VALUES)
    other_keys = _OTHER_KEYS
    if plain:
        values = values.filter(lambda value: not _is_wide(value))
    else:
        other_keys |= st.text(max_size=6)
    entries: list[tuple[Any, Any]] = []
    for key in FIELD_KEYS:
        if draw(st.integers(0, 9)):  # most fields, mostly present
            entries.append((key, draw(values)))
    entries.append(("$class", plistlib.UID(3)))
    entries.append(("RelativePath", plistlib.UID(2)))
    # The optional objects of real archives: a symlink's target, a digest, extended attributes.
    extra: list[Any] = []
    for name, value in (
        ("Target", draw(st.text(max_size=10))),
        ("Digest", draw(st.binary(min_size=20, max_size=20))),
        ("ExtendedAttributes", bplist.write({"com.apple.metadata": draw(st.binary(max_size=8))})),
    ):
        if draw(st.booleans()):
            entries.append((name, plistlib.UID(4 + len(extra))))
            extra.append(value)
    entries += draw(st.lists(st.tuples(other_keys, values), max_size=4))
    # Duplicate keys: the last one wins, in plistlib's dict as in the fast reader.
    entries += draw(st.lists(st.tuples(st.sampled_from(FIELD_KEYS), values), max_size=2))
    entries = draw(st.permutations(entries))
    if not plain and draw(st.integers(0, 9)) == 0:
        # One key as UTF-16 text: plistlib reads it as the same str.
        i = draw(st.integers(0, len(entries) - 1))
        entries[i] = (Utf16(entries[i][0]) if isinstance(entries[i][0], str) else entries[i][0], entries[i][1])
    path = draw(st.text(max_size=30))
    mbfile_class = {"$classes": ["MBFile", "NSObject"], "$classname": "MBFile"}
    objects = ["$null", Pairs(tuple(entries)), path, mbfile_class, *extra]
    top = [
        ("$archiver", "NSKeyedArchiver"),
        ("$objects", objects),
        ("$top", {"root": plistlib.UID(1)}),
        ("$version", 100000),
    ]
    widths = [0, 0, 0, 1, 2, 3, 4] if plain else [0, 0, 0, 1, 2, 3, 4, 5, 8]
    options = Options(
        unique=draw(st.booleans()),
        offset_size=draw(st.sampled_from(widths)),
        ref_size=draw(st.sampled_from(widths)),
        long_lengths=draw(st.booleans()),
        order_seed=draw(st.none() | st.integers(0, 2**16)),
    )
    blob = bplist.write(Pairs(tuple(draw(st.permutations(top)))), options)
    last: dict[Any, Any] = dict(entries)
    # Any key written as UTF-16 (non-ASCII text too) might spell one of ours: plistlib's case.
    fast = (
        all(isinstance(key, str) and key.isascii() for key, _ in entries)
        and options.offset_size <= 4
        and options.ref_size <= 4
        and not any(_is_wide(last.get(key)) for key in FIELD_KEYS)
    )
    assert fast or not plain
    return blob, fast


@pytest.mark.parametrize("reader", READERS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans().flatmap(lambda plain: archives(plain=plain)))
def test_reader_equals_plistlib_on_every_encoding(reader: Any, archive: tuple[bytes, bool]) -> None:
    blob, fast = archive
    reference = plist._slow_fields(blob)
    assert reference is not None, "plistlib must read every well-formed archive"
    got = _outcome(reader, blob)
    if fast:
        assert got == reference
    else:
        assert got in (None, reference)
    assert plist.mbfile_fields(blob) == reference
    assert plist.mbfile_metadata(blob) == plist._meta(reference)


@pytest.mark.parametrize("reader", READERS)
def test_the_builders_blobs_take_the_fast_path(reader: Any) -> None:
    blob = mbfile_blob("Library/SMS/sms.db", size=6512640, mode=0o100644, birth=1709294400,
                       modified=1709294400, changed=1709294401, inode=2**40)  # fmt: skip
    assert reader.fields(blob) == (6512640, 0o100644, 1709294400, 1709294400, 1709294401, 2**40, 501, 501, 3)
    assert reader.fields(blob) == plist._slow_fields(blob)


@pytest.mark.parametrize("reader", READERS)
def test_last_of_duplicate_keys_wins(reader: Any) -> None:
    def blob(*entries: tuple[Any, Any]) -> bytes:
        root = Pairs((("$class", plistlib.UID(2)), *entries))
        archive = {"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": plistlib.UID(1)},
                   "$objects": ["$null", root, {"$classname": "MBFile"}]}  # fmt: skip
        return bplist.write(archive)

    assert reader.fields(blob(("Size", 1), ("Size", 2)))[0] == 2
    assert reader.fields(blob(("Size", 1), ("Size", "two")))[0] is None
    assert reader.fields(blob(("Size", True)))[0] is None  # a boolean is no integer field
    for case in (blob(("Size", 1), ("Size", 2)), blob(("Size", 1), ("Size", "two"))):
        assert reader.fields(case) == plist._slow_fields(case)


@pytest.mark.parametrize("reader", READERS)
def test_unusual_encodings_are_left_to_plistlib(reader: Any) -> None:
    def archive(size: Any, key: Any = "Size") -> dict[str, Any]:
        return {"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": plistlib.UID(1)},
                "$objects": ["$null", Pairs(((key, size), ("Mode", 0o644))), "x"]}  # fmt: skip

    for blob in (
        bplist.write(archive(7, key=Utf16("Size"))),  # a UTF-16 key could spell one of ours
        bplist.write(archive(2**64)),  # a 16-byte integer
        bplist.write(archive(7), Options(offset_size=8)),
        bplist.write(archive(7), Options(ref_size=5)),
    ):
        with pytest.raises(ValueError):
            reader.fields(blob)
        assert plist.mbfile_fields(blob) == plist._slow_fields(blob)
        assert plist.mbfile_fields(blob) is not None
    assert plist.mbfile_fields(bplist.write(archive(2**64)))[0] == 2**64  # type: ignore[index]


def test_fields_many_matches_one_by_one() -> None:
    good = mbfile_blob("a", size=1, mode=2, birth=3, modified=4, changed=5)
    odd = bplist.write({"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": plistlib.UID(1)},
                        "$objects": ["$null", {"Size": 2**64}]})  # fmt: skip
    blobs: list[bytes | None] = [good, None, b"", b"garbage", b"bplist00" + bytes(40), odd, plistlib.dumps({})]
    expected = [plist.mbfile_fields(b) for b in blobs]
    assert expected[0] == (1, 2, 3, 4, 5, 1000, 501, 501, 3)
    assert expected[1:5] == [None] * 4 and expected[5] is not None and expected[6] is None
    assert plist.mbfile_fields_many(blobs) == expected
    for build in BUILDS:
        assert build.fields_many(blobs, plist._slow_fields) == expected


# --- Hostile bytes ----------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A generated archive with bytes overwritten, cut, or inserted: mostly one that the fast
    reader decodes, with few changes, so that many stay readable and the answers are compared."""
    blob = bytearray(draw(archives(plain=draw(st.integers(0, 3)) > 0))[0])
    for _ in range(draw(st.just(1) | st.integers(1, 6))):
        what = draw(st.integers(0, 9))
        pos = draw(st.integers(0, len(blob) - 1))
        if what < 7:
            blob[pos] = draw(st.integers(0, 255))
        elif what < 8:
            blob[pos:] = blob[pos + draw(st.integers(1, 40)) :]
        elif what < 9:
            del blob[pos]
        else:
            blob.insert(pos, draw(st.integers(0, 255)))
    return bytes(blob)


def _check_hostile(blob: bytes) -> None:
    outcomes = {_outcome(build, blob) for build in BUILDS}
    assert len(outcomes) == 1, f"compiled and interpreted disagree: {outcomes}"
    got = outcomes.pop()
    reference = plist._slow_fields(blob)
    if got is not None and reference is not None:
        assert got == reference  # wherever plistlib can read a blob, the answers agree
    fields = plist.mbfile_fields(blob)
    assert fields == (got if got is not None else reference)
    assert plist.mbfile_metadata(blob) == (None if fields is None else plist._meta(fields))
    assert plist.mbfile_fields_many([blob, None, blob]) == [fields, None, fields]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_archives_never_escape(blob: bytes) -> None:
    _check_hostile(blob)


_TRAILER_FIELDS = st.tuples(
    st.integers(0, 9), st.integers(0, 9),
    st.one_of(st.integers(0, 64), st.integers(0, 2**64 - 1)),
    st.one_of(st.integers(0, 64), st.integers(0, 2**64 - 1)),
    st.one_of(st.integers(0, 400), st.integers(0, 2**64 - 1)),
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300), _TRAILER_FIELDS)
def test_garbage_with_a_plausible_trailer_never_escapes(body: bytes, trailer: tuple[int, ...]) -> None:
    offset_size, ref_size, count, top, table = trailer
    blob = b"bplist00" + body + bytes(6) + bytes([offset_size, ref_size])
    blob += count.to_bytes(8, "big") + top.to_bytes(8, "big") + table.to_bytes(8, "big")
    _check_hostile(blob)
    _check_hostile(body)


# --- Which build is used -----------------------------------------------------------------------------


def test_an_extension_built_from_other_source_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    digest = hashlib.sha256(Path(mbfile.__file__).read_bytes()).hexdigest()
    fresh = types.SimpleNamespace(SOURCE_SHA256=digest, fields=None)
    stale = types.SimpleNamespace(SOURCE_SHA256="0" * 64, fields=None)
    monkeypatch.setattr(plist.importlib, "import_module", lambda name: fresh)
    assert plist._native_reader() is fresh
    monkeypatch.setattr(plist.importlib, "import_module", lambda name: stale)
    with pytest.warns(RuntimeWarning, match="another version"):
        assert plist._native_reader() is None


def test_the_compiled_build_is_the_one_in_use_when_there_is_one() -> None:
    expected = "interpreted" if COMPILED is None else "compiled"
    assert expected == plist.MBFILE_READER
    if COMPILED is not None:
        assert plist._fields is COMPILED.fields
        assert COMPILED.__file__ != mbfile.__file__
