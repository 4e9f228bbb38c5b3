"""Public API: report JSON, cross-file escalation, input expansion and the worker pool's limits."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from unmask.detect.payloads import (
    DEFAULT_LIMITS,
    FileReport,
    Limits,
    ScreenItem,
    escalate,
    expand_inputs,
    screen_bytes,
    screen_files,
)
from unmask.model import Severity

from . import vectors as v

A32 = 0x80000000


def test_report_json_shape() -> None:
    r = screen_bytes(v.jbig2_pdf(v.jbig2_globals(A32), v.jbig2_image(A32)), name="IMG_0001.gif")
    doc = r.to_json()
    assert set(doc) == {
        "path",
        "sha256",
        "size",
        "detected_type",
        "claimed_type",
        "findings",
        "errors",
        "limits_hit",
    }
    assert doc["detected_type"] == "pdf" and doc["claimed_type"] == "gif" and len(doc["sha256"]) == 64
    f = next(x for x in doc["findings"] if x["rule"] == "FE-JBIG2-SUM")  # type: ignore[union-attr]
    assert f == {
        "rule": "FE-JBIG2-SUM",
        "severity": "high",
        "cve": "CVE-2021-30860",
        "message": f["message"],
        "locator": "pdf obj 5 0 /JBIG2Decode seg#3",
        "evidence": f["evidence"],
    }
    json.dumps(doc)  # every evidence value is JSON-serialisable


def test_every_vector_report_is_json_serialisable() -> None:
    for data in (
        v.webp_overbudget(),
        v.dng(spp=2, nf=1),
        v.ttf(prep=b"\x8f"),
        v.pkpass(v.webp_overbudget()),
        v.dng(opcode_list=b"\x00\x0f\x42\x41"),
        v.tiff_loop(),
    ):
        json.dumps(screen_bytes(data).to_json())


def _report(path: str, sha: str, sev: Severity | None = None) -> FileReport:
    from unmask.detect.payloads import PayloadFinding

    findings = [PayloadFinding("DISGUISE", sev, "m", None, "file", {})] if sev else []
    return FileReport(path, sha, 10, "pdf", "gif", findings)


def test_many_copies_escalates() -> None:
    reps = [_report(f"Attachments/{i:02d}/x.gif", "a" * 64, Severity.MEDIUM) for i in range(27)]
    out = escalate(reps, group_by=lambda r: "sms-attachments")
    assert all(r.findings[0].severity == Severity.HIGH for r in out)
    many = [f for f in out[0].findings if f.rule == "MANY-COPIES"]
    assert many and many[0].evidence["copies"] == 27 and many[0].severity == Severity.MEDIUM
    assert reps[0].findings[0].severity == Severity.MEDIUM  # input untouched


def test_many_copies_boundary_and_clean_files() -> None:
    four = [_report(f"d/{i}.gif", "b" * 64, Severity.MEDIUM) for i in range(4)]
    assert escalate(four) == four
    clean = [_report(f"d/{i}.jpg", "c" * 64) for i in range(5)]
    out = escalate(clean)
    assert [(f.rule, f.severity) for f in out[0].findings] == [("MANY-COPIES", Severity.INFO)]
    # different folders are different groups by default
    spread = [_report(f"d{i}/x.gif", "d" * 64, Severity.MEDIUM) for i in range(5)]
    assert escalate(spread) == spread


def test_expand_inputs(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.gif").write_bytes(v.GIF_1X1)
    (tmp_path / "a.webp").write_bytes(v.webp_complete())
    (tmp_path / "link").symlink_to(tmp_path / "b")
    items = list(expand_inputs([tmp_path]))
    assert [i.path.relative_to(tmp_path).as_posix() for i in items] == ["a.webp", "b/x.gif"]
    with pytest.raises(FileNotFoundError):
        list(expand_inputs([tmp_path / "missing"]))


def test_screen_files_parallel_in_order(tmp_path: Path) -> None:
    files = {
        "logo.png": v.webp_overbudget(),
        "real.gif": v.GIF_1X1,
        "IMG.gif": v.jbig2_pdf(v.jbig2_globals(A32), v.jbig2_image(A32)),
        "pass.pkpass": v.pkpass(v.webp_overbudget()),
        "font.ttf": v.ttf(prep=b"\x8f"),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    seen: list[str] = []
    reps = screen_files(sorted(tmp_path.iterdir()), workers=2, on_progress=lambda r: seen.append(r.path))
    assert [Path(r.path).name for r in reps] == sorted(files)
    assert sorted(seen) == sorted(r.path for r in reps)
    by = {Path(r.path).name: r for r in reps}
    assert by["real.gif"].findings == []
    assert {f.rule for f in by["IMG.gif"].findings} == {"FE-JBIG2-SUM", "DISGUISE"}
    assert {f.rule for f in by["font.ttf"].findings} == {"TRI-ADJUST"}
    # In-process mode gives the same results.
    again = screen_files(sorted(tmp_path.iterdir()), workers=0)
    assert [r.to_json() for r in again] == [r.to_json() for r in reps]


def test_claim_passed_separately_from_hashed_path(tmp_path: Path) -> None:
    p = tmp_path / "3f1c0a5e9b"
    p.write_bytes(v.psd_1x1())
    [r] = screen_files([ScreenItem(p, name="IMG_0042.GIF", mime="image/gif")], workers=1)
    assert r.path == str(p) and r.claimed_type == "gif"
    assert [(f.rule, f.severity.value) for f in r.findings] == [("DISGUISE", "medium")]


def test_zip_on_command_line_is_a_container(tmp_path: Path) -> None:
    p = tmp_path / "export.zip"
    p.write_bytes(v.zip_bytes({"a/logo.png": v.webp_overbudget(), "b.txt": b"hello"}))
    [item] = list(expand_inputs([p]))
    [r] = screen_files([item], workers=1)
    assert {f.locator.split(" > ")[0] for f in r.findings} == {"zip member a/logo.png"}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_hanging_file_is_killed_and_scan_continues(tmp_path: Path) -> None:
    # Reading a FIFO with no writer blocks forever: the stand-in for a parser that hangs.
    fifo = tmp_path / "hang.gif"
    os.mkfifo(fifo)
    ok = tmp_path / "ok.gif"
    ok.write_bytes(v.GIF_1X1)
    t0 = time.monotonic()
    reps = screen_files([fifo, ok, ok], workers=1, limits=Limits(seconds=0.5))
    assert time.monotonic() - t0 < 30
    assert reps[0].limits_hit == ["time"] and "worker killed" in reps[0].errors[0]
    assert reps[1].errors == [] and reps[2].errors == []


def test_memory_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x00" * (64 << 20))
    small = tmp_path / "ok.gif"
    small.write_bytes(v.GIF_1X1)
    reps = screen_files([big, small], workers=1, limits=Limits(memory_bytes=16 << 20))
    assert reps[0].limits_hit in (["memory"], ["crash"])
    assert reps[1].errors == [] and reps[1].limits_hit == []


def test_file_size_limit(tmp_path: Path) -> None:
    p = tmp_path / "x.gif"
    p.write_bytes(v.GIF_1X1 + b"\x00" * 100)
    [r] = screen_files([p], workers=0, limits=Limits(max_file_bytes=50))
    assert r.limits_hit == ["file-size"] and r.size == len(v.GIF_1X1) + 100 and len(r.sha256) == 64


def test_cooperative_time_limit_keeps_partial_results() -> None:
    segs = b"".join(v.jbig2_segment(i, 40, [], 1, b"") for i in range(1, 50_000))
    r = screen_bytes(v.jbig2_pdf(None, segs), limits=Limits(seconds=0.0))
    assert r.limits_hit == ["time"]
    assert DEFAULT_LIMITS.seconds > 0


def test_summarise_adds_up_a_run() -> None:
    from unmask.detect.payloads import screen_bytes, summarise
    from unmask.model import Severity

    clean = screen_bytes(v.GIF_1X1, name="a.gif")
    disguised = screen_bytes(v.png_1x1(), name="photo.gif")
    summary = summarise([clean, disguised])
    assert (summary.files, summary.bytes) == (2, clean.size + disguised.size)
    assert summary.worst is not None and summary.at_or_above(Severity.INFO)
    assert sum(summary.by_severity.values()) == len(disguised.findings) >= 1
    assert not summarise([clean]).at_or_above(Severity.INFO)
