"""TRI-ADJUST (Operation Triangulation, CVE-2023-41990): TrueType bytecode."""

from __future__ import annotations

from unmask.detect.payloads import screen_bytes
from unmask.detect.payloads.font import glyph_program, walk_bytecode

from . import vectors as v


def found(data: bytes, name: str | None = None) -> list[tuple[str, str, str]]:
    return [(f.rule, f.severity.value, f.locator) for f in screen_bytes(data, name=name).findings]


def test_walker_skips_push_data() -> None:
    ops, cut, _ = walk_bytecode(bytes.fromhex("B18F9040028F9021"))
    assert ops == [] and not cut
    ops, _, _ = walk_bytecode(bytes.fromhex("B8008F908F"))  # PUSHW[0] 0x008F, then 0x90 0x8F opcodes
    assert ops == [(3, 0x90), (4, 0x8F)]
    _, cut, _ = walk_bytecode(bytes.fromhex("4005 01 02"))
    assert cut


def test_prep_adjust() -> None:
    r = screen_bytes(v.ttf(prep=b"\x8f"))
    assert [(f.rule, f.severity.value, f.locator) for f in r.findings] == [
        ("TRI-ADJUST", "high", "ttf prep @0")
    ]
    assert r.findings[0].cve == "CVE-2023-41990" and r.findings[0].evidence["opcode"] == "0x8F"


def test_fpgm_adjust() -> None:
    assert [r for r, _, _ in found(v.ttf(fpgm=b"\xb0\x01\x90"))] == ["TRI-ADJUST"]


def test_glyph_adjust_90() -> None:
    assert found(v.ttf(glyph=bytes.fromhex("B00190"))) == [("TRI-ADJUST", "high", "ttf glyph A @2")]


def test_composite_glyph_program() -> None:
    assert found(v.ttf(composite=bytes.fromhex("B0018F"))) == [("TRI-ADJUST", "high", "ttf glyph B @2")]
    assert found(v.ttf(composite=bytes.fromhex("B08F21"))) == []


def test_adjust_only_as_push_data_is_clean() -> None:
    assert found(v.ttf(prep=bytes.fromhex("B18F9040028F9021"))) == []


def test_clean_font() -> None:
    assert found(v.ttf(prep=bytes.fromhex("B00021"))) == []


def test_collection_member() -> None:
    assert found(v.ttc(v.ttf(), v.ttf(prep=b"\x8f"))) == [("TRI-ADJUST", "high", "ttc font#1 prep @0")]
    assert found(v.ttc(v.ttf(), v.ttf())) == []


def test_font_embedded_in_pdf() -> None:
    assert [(r, loc) for r, _, loc in found(v.font_pdf(v.ttf(prep=b"\x8f")))] == [
        ("TRI-ADJUST", "pdf obj 5 0 /FontFile > ttf prep @0")
    ]
    assert found(v.font_pdf(v.ttf())) == []


def test_woff_and_woff2() -> None:
    import io

    from fontTools.ttLib import TTFont

    for flavor in ("woff", "woff2"):
        f = TTFont(io.BytesIO(v.ttf(prep=b"\x8f")))
        f.flavor = flavor
        buf = io.BytesIO()
        f.save(buf)
        assert [r for r, _, _ in found(buf.getvalue())] == ["TRI-ADJUST"], flavor


def test_undefined_opcode_low_unless_idef() -> None:
    assert [(r, s) for r, s, _ in found(v.ttf(prep=b"\x7b"))] == [("TRI-UNDEF", "low")]
    # fpgm: PUSHB[0] 0x7B; IDEF; ENDF -> 0x7B is defined
    assert found(v.ttf(fpgm=bytes.fromhex("B07B892D"), prep=b"\x7b")) == []


def test_adjust_stays_high_when_idef_defined() -> None:
    r = screen_bytes(v.ttf(fpgm=bytes.fromhex("B08F892D"), prep=b"\x8f"))
    assert [(f.rule, f.severity.value) for f in r.findings] == [("TRI-ADJUST", "high")]
    assert r.findings[0].evidence["idef_defined"] is True


def test_glyph_program_parser() -> None:
    # simple glyph: 1 contour, 10-byte header, endPts, instructionLength 2, instructions
    raw = b"\x00\x01" + b"\x00" * 8 + b"\x00\x03" + b"\x00\x02" + b"\xb0\x8f" + b"\x00" * 8
    assert glyph_program(raw) == (b"\xb0\x8f", False)
    assert glyph_program(raw[:14])[1] is True


def test_unreadable_font_is_an_error_not_a_crash() -> None:
    data = v.ttf()[:200]
    r = screen_bytes(data)
    assert r.findings == [] and r.errors


def test_damaged_glyf_still_read_leniently() -> None:
    # Cut the glyf table short (loca now overruns it): fontTools refuses the table, lenient
    # rasterisers still load glyph A; its ADJUST must not be hidden, at reduced confidence.
    import io
    import struct

    from fontTools.ttLib import TTFont

    data = bytearray(v.ttf(glyph=bytes.fromhex("B00190")))
    font = TTFont(io.BytesIO(bytes(data)))
    entry = font.reader.tables["glyf"]
    # shrink glyf's directory length by 2 bytes; glyph A's program stays inside
    num_tables = struct.unpack_from(">H", data, 4)[0]
    for i in range(num_tables):
        rec = 12 + 16 * i
        if data[rec : rec + 4] == b"glyf":
            struct.pack_into(">I", data, rec + 12, entry.length - 1)
    r = screen_bytes(bytes(data))
    assert [(f.rule, f.severity.value) for f in r.findings] == [("TRI-ADJUST", "medium")]
    assert r.findings[0].evidence["damaged_glyf"] is True
    assert any("read leniently" in e for e in r.errors)
