"""DNG rules: CVE-2025-43300 (lossless-JPEG samples), CVE-2025-21043 (opcode lists), LANDFALL."""

from __future__ import annotations

import pytest

from unmask.detect.payloads import screen_bytes

from . import vectors as v


def found(data: bytes, name: str | None = None) -> list[tuple[str, str]]:
    return [(f.rule, f.severity.value) for f in screen_bytes(data, name=name).findings]


def test_consistent_dng_clean_and_typed() -> None:
    r = screen_bytes(v.dng())
    assert r.findings == [] and r.detected_type == "dng"


def test_spp2_nf1_is_the_cve_shape() -> None:
    r = screen_bytes(v.dng(spp=2, nf=1))
    assert [(f.rule, f.severity.value, f.locator) for f in r.findings] == [
        ("DNG-LJPEG-SAMPLES", "high", "dng ifd0/subifd#0 tile#0")
    ]
    ev = r.findings[0].evidence
    assert ev["jpeg_samples"] == 128 and ev["expected_samples"] == 512
    assert ev["samples_per_pixel"] == 2 and r.findings[0].cve == "CVE-2025-43300"
    assert "exploit shape" in r.findings[0].message


def test_fuji_style_spp2_nf2_clean() -> None:
    assert found(v.dng(spp=2, nf=2, x=16)) == []


def test_strips_and_big_endian() -> None:
    assert found(v.dng(spp=2, nf=1, strips=True)) == [("DNG-LJPEG-SAMPLES", "high")]
    assert found(v.dng(strips=True)) == []
    assert found(v.dng(spp=2, nf=1, bo=">")) == [("DNG-LJPEG-SAMPLES", "high")]
    assert found(v.dng(bo=">")) == []


def test_plain_tiff_with_sof3_is_checked_at_lower_severity() -> None:
    assert found(v.dng(spp=2, nf=1, dng_version=False)) == [("DNG-LJPEG-SAMPLES", "medium")]


def test_more_samples_or_precision_mismatch() -> None:
    assert found(v.dng(nf=3)) == [("DNG-LJPEG-MISMATCH", "medium")]
    assert found(v.dng(precision=12)) == [("DNG-LJPEG-MISMATCH", "medium")]


@pytest.mark.parametrize(
    ("oplist", "expected"),
    [
        (b"\x00\x00\x00\x00", []),
        (b"\x00\x0f\x42\x41", [("DNG-OPLIST-COUNT", "high"), ("DNG-OPLIST-FIT", "medium")]),
        (b"\x00\x0f\x42\x40", [("DNG-OPLIST-FIT", "medium")]),
        # one opcode with 4 parameter bytes, exactly filling the tag
        (b"\x00\x00\x00\x01" + b"\x00\x00\x00\x01" * 3 + b"\x00\x00\x00\x04" + b"abcd", []),
        # same, 2 bytes left over
        (
            b"\x00\x00\x00\x01" + b"\x00\x00\x00\x01" * 3 + b"\x00\x00\x00\x04" + b"abcdef",
            [("DNG-OPLIST-FIT", "medium")],
        ),
        # parameter length past the tag
        (
            b"\x00\x00\x00\x01" + b"\x00\x00\x00\x01" * 3 + b"\x00\x00\xff\xff" + b"abcd",
            [("DNG-OPLIST-FIT", "medium")],
        ),
        (b"\x00\x00", [("DNG-OPLIST-FIT", "medium")]),
    ],
)
def test_opcode_lists(oplist: bytes, expected: list[tuple[str, str]]) -> None:
    assert found(v.dng(opcode_list=oplist)) == expected


def test_appended_zip() -> None:
    data = v.dng() + v.zip_bytes({"libpayload.so": b"\x7fELF-not-really"})
    r = screen_bytes(data)
    assert [(f.rule, f.severity.value) for f in r.findings] == [("DNG-APPENDED-ZIP", "high")]
    assert r.findings[0].cve == "CVE-2025-21042"


def test_appended_zip_named_jpg() -> None:
    data = v.dng() + v.zip_bytes({"a.so": b"x"})
    assert set(found(data, "IMG-20250101-WA0000.jpg")) == {("DNG-APPENDED-ZIP", "high"), ("DISGUISE", "high")}


def test_trailing_zero_padding_clean() -> None:
    assert found(v.dng() + b"\x00" * 64) == []


def test_appended_zip_members_are_screened() -> None:
    data = v.dng() + v.zip_bytes({"logo.png": v.webp_overbudget()})
    assert ("BP-VP8L-BUDGET", "high") in found(data)


@pytest.mark.parametrize("two", [False, True])
def test_ifd_loop_terminates_with_finding(two: bool) -> None:
    assert found(v.tiff_loop(two)) == [("TIFF-MALFORMED", "low")]


def test_many_ifds_capped() -> None:
    from unmask.detect.payloads import Limits

    w = v.TiffWriter()
    nxt = 0
    for _ in range(100):
        nxt = w.ifd([(0x0100, v.LONG, [1])], next_ifd=nxt)
    r = screen_bytes(w.finish(nxt), limits=Limits(max_ifds=10))
    assert r.limits_hit == ["ifds"]


def test_truncations_never_raise() -> None:
    data = v.dng(spp=2, nf=1, opcode_list=b"\x00\x00\x00\x00")
    for cut in range(0, len(data), 7):
        r = screen_bytes(data[:cut], name="x.dng")
        assert not any(e.startswith("internal error") for e in r.errors), (cut, r.errors)


def test_shared_offsets_array_is_bounded() -> None:
    # 60 chained IFDs all pointing at one 100,000-entry StripOffsets array: one shared budget.
    import struct
    import time

    from unmask.detect.payloads import Limits

    w = v.TiffWriter()
    shared = w.blob(struct.pack("<100000I", *([8] * 100000)))
    prev = 0
    for _ in range(60):
        if len(w.buf) % 2:
            w.buf += b"\x00"
        off = len(w.buf)
        entries = [
            struct.pack("<HHIHH", 0x0103, v.SHORT, 1, 7, 0),
            struct.pack("<HHII", 0x0111, v.LONG, 100000, shared),
            struct.pack("<HHII", 0x0117, v.LONG, 100000, shared),
        ]
        w.buf += struct.pack("<H", len(entries)) + b"".join(entries) + struct.pack("<I", prev)
        prev = off
    t0 = time.monotonic()
    r = screen_bytes(w.finish(prev), limits=Limits(max_tiles=10_000))
    assert time.monotonic() - t0 < 10
    assert "tiff-values" in r.limits_hit
    assert not [e for e in r.errors if e.startswith("internal error")]
