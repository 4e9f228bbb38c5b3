"""Content sniffing, claims and the DISGUISE rules."""

from __future__ import annotations

import pytest

from unmask.detect.payloads import claim_from_mime, claim_from_name, screen_bytes, sniff
from unmask.model import Severity

from . import vectors as v


def rules(report: object) -> list[tuple[str, str]]:
    return [(f.rule, f.severity.value) for f in report.findings]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (v.GIF_1X1, "gif"),
        (v.png_1x1(), "png"),
        (v.JPEG_STUB, "jpeg"),
        (v.webp_complete(), "webp"),
        (v.psd_1x1(), "psd"),
        (v.dng(), "tiff"),
        (v.jbig2_pdf(None, v.jbig2_image(1, refs=[2])), "pdf"),
        (v.zip_bytes({"a": b"b"}), "zip"),
        (b"\x97JB2\r\n\x1a\n\x01\x00\x00\x00\x01", "jbig2"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heif"),
        (b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1avif", "avif"),
        (b"\x00\x00\x00\x14ftypisom\x00\x00\x02\x00isom", "mp4"),
        (b"true story, not a font", None),
        (b"", None),
    ],
)
def test_sniff(data: bytes, kind: str | None) -> None:
    assert sniff(data)[0] == kind


def test_ttf_sniff() -> None:
    assert sniff(v.ttf())[0] == "ttf"


def test_claims() -> None:
    assert claim_from_name("IMG_0001.GIF") == "gif"
    assert claim_from_name("x.tar.jpeg") == "jpeg"
    assert claim_from_name("noext") is None
    assert claim_from_name("a.pluginPayloadAttachment") is None
    assert claim_from_mime("image/gif; charset=binary") == "gif"
    assert claim_from_mime("com.compuserve.gif") == "gif"
    assert claim_from_mime("application/octet-stream") is None


def test_pdf_named_gif_is_medium() -> None:
    r = screen_bytes(v.jbig2_pdf(None, v.jbig2_image(1, refs=[2])), name="IMG_1.gif")
    assert rules(r) == [("DISGUISE", "medium")]
    assert r.detected_type == "pdf" and r.claimed_type == "gif"


def test_psd_named_gif_is_medium() -> None:
    assert rules(screen_bytes(v.psd_1x1(), name="x.gif")) == [("DISGUISE", "medium")]


def test_mime_claim_alone() -> None:
    r = screen_bytes(v.psd_1x1(), name="4f2a9c", mime="image/gif")
    assert rules(r) == [("DISGUISE", "medium")]
    assert r.findings[0].evidence["claim_source"] == "MIME type"


def test_real_gif_clean() -> None:
    assert rules(screen_bytes(v.GIF_1X1, name="real.gif")) == []


def test_dng_named_jpg_is_medium() -> None:
    assert rules(screen_bytes(v.dng(), name="IMG-20250101-WA0000.jpg")) == [("DISGUISE", "medium")]


def test_webp_named_png_medium_but_gif_low() -> None:
    assert rules(screen_bytes(v.webp_complete(), name="logo.png")) == [("DISGUISE", "medium")]
    assert rules(screen_bytes(v.webp_complete(), name="sticker.gif")) == [("DISGUISE", "low")]


def test_benign_lookalikes() -> None:
    # JPEG in .jpeg/.jfif, DNG in .dng and raw extensions, fonts across font extensions: agree.
    for data, name in [
        (v.JPEG_STUB, "a.jfif"),
        (v.dng(), "a.DNG"),
        (v.dng(), "a.nef"),
        (v.dng(), "a.tif"),
        (v.ttf(), "a.otf"),
        (v.zip_bytes({"a": b"b"}), "a.docx"),
    ]:
        assert rules(screen_bytes(data, name=name)) == [], name


def test_jpeg_named_png_low() -> None:
    assert rules(screen_bytes(v.JPEG_STUB, name="a.png")) == [("DISGUISE", "low")]


def test_no_claim_no_finding() -> None:
    assert rules(screen_bytes(v.psd_1x1())) == []
    assert rules(screen_bytes(v.psd_1x1(), name="Attachment")) == []


def test_pdf_header_offset() -> None:
    pdf = v.jbig2_pdf(None, v.jbig2_image(1, refs=[2]))
    r = screen_bytes(b" " * 100 + pdf, name="a.pdf")
    assert rules(r) == [("DISGUISE-OFFSET", "low")]
    assert r.findings[0].evidence["header_offset"] == 100
    assert rules(screen_bytes(pdf, name="a.pdf")) == []
    # Past the 1 KiB window readers search, it is not a PDF at all.
    assert screen_bytes(b" " * 1100 + pdf).detected_type is None


def test_trailing_archive_after_webp() -> None:
    data = v.webp_complete() + v.zip_bytes({"payload": b"x"})
    assert ("DISGUISE-TRAILING", "low") in rules(screen_bytes(data, name="a.webp"))
    assert rules(screen_bytes(v.webp_complete() + b"\x00" * 8, name="a.webp")) == []


def test_disguise_plus_structural_escalates() -> None:
    pdf = v.jbig2_pdf(v.jbig2_globals(0x80000000), v.jbig2_image(0x80000000))
    r = screen_bytes(pdf, name="IMG_0001.gif")
    got = {f.rule: f.severity for f in r.findings}
    assert got == {"FE-JBIG2-SUM": Severity.HIGH, "DISGUISE": Severity.HIGH}
    d = next(f for f in r.findings if f.rule == "DISGUISE")
    assert d.evidence["escalated_from"] == "medium"


def test_medium_structural_plus_disguise_becomes_high() -> None:
    kraft = v.webp_lossless(v.vp8l_bitstream(v.lengths_from_histogram((0, 0, 3), 40)))
    assert {(f.rule, f.severity.value) for f in screen_bytes(kraft, name="a.webp").findings} == {
        ("BP-VP8L-KRAFT", "medium")
    }
    assert {(f.rule, f.severity.value) for f in screen_bytes(kraft, name="a.png").findings} == {
        ("BP-VP8L-KRAFT", "high"),
        ("DISGUISE", "high"),
    }


def test_qmage_under_image_claim() -> None:
    data = b"QG\x01\x0b" + b"\x00" * 32
    assert sniff(data)[0] == "qmage"
    assert rules(screen_bytes(data, name="photo.jpg")) == [("DISGUISE", "medium")]


def test_jpeg_trailing_archive_info_and_screened() -> None:
    data = v.JPEG_STUB + v.zip_bytes({"logo.png": v.webp_overbudget()})
    got = {(f.rule, f.severity.value) for f in screen_bytes(data, name="a.jpg").findings}
    assert ("DISGUISE-TRAILING", "info") in got and ("BP-VP8L-BUDGET", "high") in got
    exe = screen_bytes(v.JPEG_STUB + b"\x7fELF" + b"\x00" * 60, name="a.jpg")
    assert [(f.rule, f.evidence["trailing_type"]) for f in exe.findings] == [("DISGUISE-TRAILING", "elf")]


def test_jpeg_trailing_benign_data_ignored() -> None:
    # Motion-photo style MP4 and padding after EOI are normal.
    mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isommp42" + b"\x00" * 64
    assert screen_bytes(v.JPEG_STUB + mp4, name="a.jpg").findings == []
    assert screen_bytes(v.JPEG_STUB + b"\x00" * 100, name="a.jpg").findings == []


def test_jpeg_eoi_found_past_entropy_data() -> None:
    from unmask.detect.payloads import DEFAULT_LIMITS
    from unmask.detect.payloads.jpeg import end_of_image
    from unmask.detect.payloads.result import Ctx

    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    body = b"\x12\xff\x00\x34\xff\xd3\x56"  # stuffed FF and a restart marker inside scan data
    data = b"\xff\xd8\xff\xe0\x00\x04ab" + sos + body + b"\xff\xd9" + b"TAIL"
    assert end_of_image(Ctx(DEFAULT_LIMITS), data) == len(data) - 4
