"""Benign corpora shipped in PyPI packages: zero findings; Pillow's hostile files: no crash, no hang.

Downloads (once, cached) with ``pip download --no-deps``; see :mod:`.corpora`. Run with
``pytest -m corpus tests/payloads``. Set ``UNMASK_CORPUS_OFFLINE=1`` to skip when PyPI is unreachable.
"""

from __future__ import annotations

import io
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from unmask.detect.payloads import FileReport, Limits, screen_files

from . import corpora

pytestmark = pytest.mark.corpus

HOSTILE_PREFIXES = ("crash-", "oom-", "timeout-", "fuzz_font-")
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc", ".woff", ".woff2")


def _is_hostile(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.startswith(HOSTILE_PREFIXES) or name.endswith("_loop.tiff")


def _fetch(name: str) -> Path:
    if os.environ.get("UNMASK_CORPUS_OFFLINE") and corpora.cached(name) is None:
        pytest.skip(f"{name} corpus not cached and UNMASK_CORPUS_OFFLINE is set")
    try:
        return corpora.fetch(name)
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.fail(f"cannot download the {name} corpus from PyPI: {exc}")


def _extract(tmp: Path, name: str, select: Callable[[str], bool]) -> list[Path]:
    out: list[Path] = []
    for member, data in corpora.members(_fetch(name), select):
        p = tmp / name / member
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        out.append(p)
    return out


def _problems(reports: list[FileReport]) -> list[str]:
    bad = []
    for r in reports:
        for f in r.findings:
            bad.append(f"{r.path}: {f.rule} {f.severity.value} {f.locator}")
        for e in r.errors:
            if e.startswith("internal error"):
                bad.append(f"{r.path}: {e}")
    return bad


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpora")


def test_pillow_images_benign(workdir: Path) -> None:
    files = _extract(workdir, "pillow", lambda p: "/Tests/images/" in p and not _is_hostile(p))
    assert len(files) > 1000
    reports = screen_files(files)
    assert _problems(reports) == []
    kinds = {r.detected_type for r in reports}
    assert {"webp", "tiff", "psd", "pdf", "png", "gif", "jpeg"} <= kinds
    # Claims agree with content across the whole corpus, so nothing was flagged as disguised.
    assert sum(r.detected_type == "webp" for r in reports) >= 10


def test_pillow_hostile_files_no_crash_no_hang(workdir: Path) -> None:
    files = _extract(
        workdir, "pillow", lambda p: ("/Tests/images/" in p or "/Tests/fonts/" in p) and _is_hostile(p)
    )
    assert len(files) >= 10
    limits = Limits(seconds=10)
    t0 = time.monotonic()
    reports = screen_files(files, limits=limits)
    elapsed = time.monotonic() - t0
    assert len(reports) == len(files)
    assert not [e for r in reports for e in r.errors if e.startswith("internal error")]
    # Bounded by the per-file limit even if every file hit it (two workers at least).
    assert elapsed < len(files) * (limits.seconds + 3)
    loops = {Path(r.path).name: r for r in reports if r.path.endswith("_loop.tiff")}
    assert set(loops) == {"multipage_single_frame_loop.tiff", "multipage_multiple_frame_loop.tiff"}
    for r in loops.values():
        assert [f.rule for f in r.findings] == ["TIFF-MALFORMED"]
        assert r.limits_hit == []


def test_fonts_benign_including_long_loca(workdir: Path) -> None:
    files = _extract(
        workdir,
        "pillow",
        lambda p: "/Tests/fonts/" in p and p.lower().endswith(FONT_SUFFIXES) and not _is_hostile(p),
    )
    files += _extract(workdir, "fonttools", lambda p: "/Tests/" in p and p.lower().endswith(FONT_SUFFIXES))
    files += _extract(
        workdir, "matplotlib", lambda p: "mpl-data/fonts/" in p and p.lower().endswith(FONT_SUFFIXES)
    )
    files += _extract(workdir, "reportlab", lambda p: p.lower().endswith(FONT_SUFFIXES))
    assert len(files) > 250
    reports = screen_files(files)
    assert _problems(reports) == []

    from fontTools.ttLib import TTFont

    long_loca = []
    for p in files:
        try:
            f = TTFont(io.BytesIO(p.read_bytes()), lazy=True)
            if "head" in f and "glyf" in f and f["head"].indexToLocFormat == 1:
                long_loca.append(p.name)
        except Exception:
            continue
    # The fonts another detector false-alarms on are in the set, and they are clean here.
    assert len(long_loca) >= 20
    assert any(n.startswith("DejaVuSans") for n in long_loca)


def test_pikepdf_pdfs_benign_and_jbig2_walked(workdir: Path) -> None:
    files = _extract(workdir, "pikepdf", lambda p: p.lower().endswith(".pdf"))
    assert len(files) > 30
    reports = screen_files(files)
    assert _problems(reports) == []

    from unmask.detect.payloads import jbig2, pdf
    from unmask.detect.payloads.result import Ctx

    exported: dict[str, list[int]] = {}
    for p in files:
        if p.name not in ("jbig2.pdf", "jbig2global.pdf"):
            continue
        ctx = Ctx(Limits())
        doc = pdf.Document(ctx, p.read_bytes(), "")
        doc.scan()
        for obj in doc.objects:
            if obj.stream and isinstance(obj.value, dict) and "JBIG2Decode" in doc.filters(obj.value)[0]:
                walk = jbig2._Walk()
                parms = doc.filters(obj.value)[1][0]
                if isinstance(parms, dict) and isinstance(parms.get("JBIG2Globals"), pdf.Ref):
                    g = doc.decoded(doc.by_num[parms["JBIG2Globals"].num])
                    assert g is not None
                    jbig2.walk_embedded(ctx, walk, g, "g")
                image = doc.decoded(obj, upto="JBIG2Decode")
                assert image is not None
                jbig2.walk_embedded(ctx, walk, image, "i")
                exported.setdefault(p.name, []).extend(
                    s.exported or 0 for s in walk.segments.values() if s.type == 0
                )
                assert any(s.type == 6 for s in walk.segments.values())
        assert ctx.findings == []
    assert 1181 in exported["jbig2.pdf"] and 963 in exported["jbig2global.pdf"]


def test_matplotlib_and_reportlab_data_benign(workdir: Path) -> None:
    files = _extract(
        workdir,
        "matplotlib",
        lambda p: (
            "mpl-data/" in p
            and not p.lower().endswith(FONT_SUFFIXES)
            and p.lower().endswith((".png", ".pdf", ".jpg", ".gif", ".svg", ".afm"))
        ),
    )
    files += _extract(workdir, "reportlab", lambda p: p.lower().endswith((".gif", ".jpg", ".png", ".pdf")))
    assert len(files) > 30
    assert _problems(screen_files(files)) == []
