"""FE-JBIG2 (FORCEDENTRY, CVE-2021-30860): PDF-embedded and standalone JBIG2."""

from __future__ import annotations

import pytest

from unmask.detect.payloads import screen_bytes

from . import vectors as v

A32 = 0x80000000


def found(data: bytes, name: str | None = None) -> list[tuple[str, str, str]]:
    return [(f.rule, f.severity.value, f.locator) for f in screen_bytes(data, name=name).findings]


def test_sum_small_clean() -> None:
    assert found(v.jbig2_pdf(v.jbig2_globals(1), v.jbig2_image(1))) == []


def test_sum_boundary_u32_max_clean() -> None:
    assert found(v.jbig2_pdf(v.jbig2_globals(0xFFFFFFFF), v.jbig2_image(0))) == []


def test_sum_2pow32_flags_with_locator_and_evidence() -> None:
    r = screen_bytes(v.jbig2_pdf(v.jbig2_globals(A32), v.jbig2_image(A32)))
    assert [(f.rule, f.severity.value, f.locator) for f in r.findings] == [
        ("FE-JBIG2-SUM", "high", "pdf obj 5 0 /JBIG2Decode seg#3")
    ]
    f = r.findings[0]
    assert f.cve == "CVE-2021-30860"
    assert f.evidence["sum"] == 2**32
    assert f.evidence["referred"] == [0, 2]
    assert f.evidence["segment_type"] == 6


@pytest.mark.parametrize("region_type", [4, 6, 7])
def test_all_text_region_types(region_type: int) -> None:
    data = v.jbig2_pdf(v.jbig2_globals(A32), v.jbig2_image(A32, region_type=region_type))
    assert [r for r, _, _ in found(data)] == ["FE-JBIG2-SUM"]


def test_non_text_region_not_summed() -> None:
    data = v.jbig2_pdf(v.jbig2_globals(A32), v.jbig2_image(A32, region_type=36))
    assert found(data) == []


def test_filter_chain_flate_then_jbig2() -> None:
    data = v.jbig2_pdf(v.jbig2_globals(A32), v.jbig2_image(A32), flate=True)
    assert [r for r, _, _ in found(data)] == ["FE-JBIG2-SUM"]


def test_parms_in_object_stream_and_indirect_filter() -> None:
    data = v.jbig2_pdf(v.jbig2_globals(A32), v.jbig2_image(A32), objstm_parms=True, filters_indirect=True)
    assert [r for r, _, _ in found(data)] == ["FE-JBIG2-SUM"]


def test_without_globals_dictionaries_in_image_stream() -> None:
    data = v.jbig2_pdf(None, v.jbig2_image(A32, refs=[2], extra_sds=1))
    assert [r for r, _, _ in found(data)] == ["FE-JBIG2-SUM"]
    assert found(v.jbig2_pdf(None, v.jbig2_image(1, refs=[2], extra_sds=1))) == []


def test_long_form_reference_count() -> None:
    # Five referred dictionaries need the long form (count byte E0 00 00 05).
    data = v.jbig2_pdf(None, v.jbig2_image(0x40000000, refs=[2], extra_sds=4))
    assert [r for r, _, _ in found(data)] == ["FE-JBIG2-SUM"]
    data = v.jbig2_pdf(None, v.jbig2_image(0x30000000, refs=[2], extra_sds=4))  # 5 * 0x30000000 < 2^32
    assert found(data) == []


def test_unreferenced_object_is_scanned() -> None:
    # The image XObject is not referenced by any page: still screened.
    pdf = v.jbig2_pdf(v.jbig2_globals(A32), v.jbig2_image(A32))
    pdf = pdf.replace(b"/XObject << /Im0 5 0 R >>", b"/XObject << >>        ")
    assert [r for r, _, _ in found(pdf)] == ["FE-JBIG2-SUM"]


def test_named_gif_escalates() -> None:
    rs = {(r, s) for r, s, _ in found(v.jbig2_pdf(v.jbig2_globals(A32), v.jbig2_image(A32)), "IMG_0001.gif")}
    assert rs == {("FE-JBIG2-SUM", "high"), ("DISGUISE", "high")}


def test_missing_reference_is_malformed() -> None:
    assert [(r, s) for r, s, _ in found(v.jbig2_pdf(None, v.jbig2_image(1, refs=[0, 2])))] == [
        ("FE-JBIG2-MALFORMED", "medium")
    ]


def test_symbol_dictionary_sum_variant() -> None:
    sd1 = v.jbig2_segment(0, 0, [], 1, v.sd_data(0xFFFFFFFF, 0xFFFFFFFF))
    sd2 = v.jbig2_segment(1, 0, [0], 1, v.sd_data(2, 2))
    assert [r for r, _, _ in found(v.jbig2_pdf(None, sd1 + sd2))] == ["FE-JBIG2-SDSUM"]
    sd2 = v.jbig2_segment(1, 0, [0], 1, v.sd_data(0, 0))
    assert found(v.jbig2_pdf(None, sd1 + sd2)) == []


def test_exports_more_than_it_has() -> None:
    sd = v.jbig2_segment(0, 0, [], 1, v.sd_data(10, 5))
    assert [(r, s) for r, s, _ in found(v.jbig2_pdf(None, sd))] == [("FE-JBIG2-MALFORMED", "medium")]


def test_truncated_segment() -> None:
    data = v.jbig2_image(1, refs=[2])[:-12]
    assert ("FE-JBIG2-MALFORMED", "medium") in {(r, s) for r, s, _ in found(v.jbig2_pdf(None, data))}


def test_invalid_count_field() -> None:
    seg = b"\x00\x00\x00\x05\x06\xa0" + b"\x00" * 10  # count field 5
    assert [(r, s) for r, s, _ in found(v.jbig2_pdf(None, seg))] == [("FE-JBIG2-MALFORMED", "medium")]


def test_parser_differential_long_form_7() -> None:
    refs = [2] * 7
    seg = v.jbig2_segment(3, 6, refs, 1, v.text_region_data(), long_form=True)
    page = v.jbig2_segment(1, 48, [], 1, v.PAGE_INFO) + v.jbig2_segment(2, 0, [], 1, v.sd_data(1, 1))
    rules = {r for r, _, _ in found(v.jbig2_pdf(None, page + seg))}
    assert "FE-JBIG2-DIFF" in rules and "FE-JBIG2-SUM" not in rules


def test_volume_many_segments() -> None:
    segs = b"".join(v.jbig2_segment(i, 40, [], 1, b"") for i in range(1, 1100))
    assert [(r, s) for r, s, _ in found(v.jbig2_pdf(None, segs))] == [("FE-JBIG2-VOLUME", "low")]
    segs = b"".join(v.jbig2_segment(i, 40, [], 1, b"") for i in range(1, 900))
    assert found(v.jbig2_pdf(None, segs)) == []


def test_standalone_file_sequential_and_random_access() -> None:
    assert [r for r, _, _ in found(v.jbig2_file(v.jbig2_image(A32, refs=[2], extra_sds=1)))] == [
        "FE-JBIG2-SUM"
    ]
    assert found(v.jbig2_file(v.jbig2_image(1, refs=[2], extra_sds=1))) == []
    # Random access: all headers first, then all data.
    segs = [
        (1, 48, [], v.PAGE_INFO),
        (2, 0, [], v.sd_data(A32, A32)),
        (5, 0, [], v.sd_data(A32, A32)),
        (3, 6, [2, 5], v.text_region_data()),
        (4, 51, [], b""),
    ]
    headers = b"".join(v.jbig2_segment(n, t, r, 1, b"", length=len(d)) for n, t, r, d in segs)
    data = b"".join(d for *_, d in segs)
    assert [r for r, _, _ in found(v.jbig2_file(headers + data, sequential=False))] == ["FE-JBIG2-SUM"]


def test_compressed_globals() -> None:
    import zlib

    pdf = v.jbig2_pdf(b"PLACEHOLDER", v.jbig2_image(A32))
    body = zlib.compress(v.jbig2_globals(A32))
    pdf = pdf.replace(v.stream_obj(b"", b"PLACEHOLDER"), v.stream_obj(b"/Filter /FlateDecode", body))
    assert [r for r, _, _ in found(pdf)] == ["FE-JBIG2-SUM"]
