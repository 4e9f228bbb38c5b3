"""ZIP / .pkpass containers (BLASTPASS delivery)."""

from __future__ import annotations

import io
import zipfile

from unmask.detect.payloads import Limits, screen_bytes

from . import vectors as v


def found(data: bytes, name: str | None = None, limits: Limits | None = None) -> list[tuple[str, str, str]]:
    r = screen_bytes(data, name=name, limits=limits or Limits())
    return [(f.rule, f.severity.value, f.locator) for f in r.findings]


def test_pkpass_with_webp_logo() -> None:
    r = screen_bytes(v.pkpass(v.webp_overbudget()), name="Pass.pkpass")
    assert r.detected_type == "pkpass"
    got = {(f.rule, f.severity.value, f.locator) for f in r.findings}
    assert got == {
        ("BP-VP8L-BUDGET", "high", "zip member logo.png > webp VP8L code#4 (distance)"),
        ("BP-VP8L-KRAFT", "high", "zip member logo.png > webp VP8L code#4 (distance)"),
        ("DISGUISE", "high", "zip member logo.png"),
    }


def test_pkpass_benign() -> None:
    assert found(v.pkpass(v.png_1x1()), "Pass.pkpass") == []


def test_pkpass_webp_logo_disguise_alone_is_medium() -> None:
    assert found(v.pkpass(v.webp_complete())) == [("DISGUISE", "medium", "zip member logo.png")]


def test_pkpass_missing_members_info() -> None:
    data = v.zip_bytes({"pass.json": b"{}", "logo.png": v.png_1x1()})
    assert found(data) == [("PKPASS-STRUCTURE", "info", "zip")]


def test_nested_zip_recursion_and_depth_limit() -> None:
    inner = v.zip_bytes({"doc.gif": v.psd_1x1()})
    data = v.zip_bytes({"inner.zip": inner})
    assert found(data) == [("DISGUISE", "medium", "zip member inner.zip > zip member doc.gif")]
    r = screen_bytes(data, limits=Limits(max_depth=1))
    assert r.findings == [] and "depth" in r.limits_hit


def test_zip_bomb_ratio_cap() -> None:
    data = v.zip_bytes({"zeros.bin": b"\x00" * (8 << 20)})
    r = screen_bytes(data)
    assert "zip-ratio" in r.limits_hit and r.findings == []


def test_member_size_and_count_caps() -> None:
    data = v.zip_bytes({f"f{i}.txt": b"x" * 100 for i in range(20)}, compression=zipfile.ZIP_STORED)
    r = screen_bytes(data, limits=Limits(max_members=5))
    assert "zip-members" in r.limits_hit
    r = screen_bytes(data, limits=Limits(max_member_bytes=50))
    assert "member-size" in r.limits_hit


def test_broken_zip_is_error() -> None:
    r = screen_bytes(b"PK\x03\x04" + b"\x00" * 40)
    assert r.errors and r.findings == []


def test_pdf_embedded_file_is_screened() -> None:
    ef = v.stream_obj(b"/Type /EmbeddedFile", v.webp_overbudget())
    pdf = v.pdf_file(
        {1: b"<< /Type /Catalog >>", 2: ef, 3: b"<< /Type /Filespec /F (logo.png) /EF << /F 2 0 R >> >>"}
    )
    got = {(r, loc) for r, _, loc in found(pdf)}
    assert ("BP-VP8L-BUDGET", "pdf obj 2 0 /EmbeddedFile > webp VP8L code#4 (distance)") in got
    assert ("DISGUISE", "pdf obj 2 0 /EmbeddedFile") in got


def test_claimed_pkpass_without_pass_json() -> None:
    data = v.zip_bytes({"logo.png": v.png_1x1()})
    assert found(data, "Pass.pkpass") == [("PKPASS-STRUCTURE", "info", "file")]
    assert found(data, "bundle.zip") == []


def test_a_member_without_a_name_is_screened_not_an_internal_error() -> None:
    # zipfile's ZipInfo.is_dir() raises IndexError on an empty name (found by the fuzzer).
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        with zf.open(zipfile.ZipInfo(""), "w") as member:  # writestr("") itself trips on the name
            member.write(b"hello")
        zf.writestr("dir/", b"")
    r = screen_bytes(buffer.getvalue(), name="a.zip", limits=Limits())
    assert r.detected_type == "zip" and not [e for e in r.errors if "internal error" in e], r.errors
