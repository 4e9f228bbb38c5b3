"""Screening throughput (MB/s) of ``unmask.detect.payloads`` on a mixed corpus.

The corpus is generated in code (synthetic PDFs with JBIG2 streams, tiled DNGs, lossless WebP
vectors, fonts, ZIPs, plain images) plus, when already cached by the corpus tests
(``pytest -m corpus tests/payloads``), the benign files of the Pillow, fontTools, pikepdf,
matplotlib and reportlab packages. Nothing is downloaded here.

    PYTHONPATH=src .venv/bin/python bench/bench_payloads.py [--workers N] [--repeat K]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.payloads import corpora  # noqa: E402
from tests.payloads import vectors as v  # noqa: E402

from unmask.detect.payloads import screen_bytes, screen_files  # noqa: E402


def synthetic() -> dict[str, bytes]:
    """A few MB of generated files covering every walker, including larger-than-vector sizes."""
    files: dict[str, bytes] = {}
    a32 = 0x80000000
    # PDF with 300 JBIG2 images and 2 MB of Flate content streams.
    objs: dict[int, bytes] = {1: b"<< /Type /Catalog >>"}
    for i in range(300):
        objs[10 + 2 * i] = v.stream_obj(b"", v.jbig2_globals(1))
        objs[11 + 2 * i] = v.stream_obj(
            b"/Subtype /Image /Filter /JBIG2Decode /DecodeParms << /JBIG2Globals %d 0 R >>" % (10 + 2 * i),
            v.jbig2_image(1),
        )
    blob = bytes(range(256)) * 8192
    objs[2] = v.stream_obj(b"/Filter /FlateDecode", zlib.compress(blob))
    files["many_jbig2.pdf"] = v.pdf_file(objs)
    files["forcedentry_shape.gif"] = v.jbig2_pdf(v.jbig2_globals(a32), v.jbig2_image(a32))
    # DNG with 4096 lossless-JPEG tiles.
    w = v.TiffWriter()
    tile = v.ljpeg_header(8, 16, 2)
    offs = [w.blob(tile) for _ in range(4096)]
    sub = w.ifd(
        [
            (0x0100, v.LONG, [1024]),
            (0x0101, v.LONG, [1024]),
            (0x0102, v.SHORT, [16]),
            (0x0103, v.SHORT, [7]),
            (0x0115, v.SHORT, [1]),
            (0x0142, v.LONG, [16]),
            (0x0143, v.LONG, [16]),
            (0x0144, v.LONG, offs),
            (0x0145, v.LONG, [len(tile)] * len(offs)),
        ]
    )
    files["tiled.dng"] = w.finish(w.ifd([(0x014A, v.LONG, [sub]), (0xC612, v.BYTE, b"\x01\x04\x00\x00")]))
    files["cve_shape.dng"] = v.dng(spp=2, nf=1)
    files["landfall_shape.jpg"] = v.dng() + v.zip_bytes({"a.so": b"\x00" * 4096})
    files["blastpass.pkpass"] = v.pkpass(v.webp_overbudget())
    files["meta.webp"] = v.webp_lossless(v.vp8l_meta_groups(1))
    files["anim.webp"] = v.webp_animated(v.lengths_from_histogram(v.COMPLETE_DIST_HIST, 40))
    files["font.ttf"] = v.ttf(prep=b"\xb0\x00\x21")
    files["font_in.pdf"] = v.font_pdf(v.ttf())
    files["photo.jpg"] = v.JPEG_STUB + b"\x00" * (3 << 20)
    files["image.png"] = v.png_1x1() + b"\x00" * (1 << 20)
    files["bundle.zip"] = v.zip_bytes({f"img{i}.png": v.png_1x1() for i in range(200)})
    return files


def cached_corpora() -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    selectors = {
        "pillow": lambda p: (
            ("/Tests/images/" in p or "/Tests/fonts/" in p)
            and not p.rsplit("/", 1)[-1].startswith(("crash-", "oom-", "timeout-", "fuzz_font-"))
        ),
        "fonttools": lambda p: (
            "/Tests/" in p and p.lower().endswith((".ttf", ".otf", ".ttc", ".woff", ".woff2"))
        ),
        "pikepdf": lambda p: p.lower().endswith(".pdf"),
        "matplotlib": lambda p: "mpl-data/" in p and p.lower().endswith((".ttf", ".png", ".pdf", ".jpg")),
        "reportlab": lambda p: p.lower().endswith((".ttf", ".gif", ".jpg", ".png", ".pdf")),
    }
    for name, sel in selectors.items():
        art = corpora.cached(name)
        if art is not None:
            out += [(f"{name}/{p}", d) for p, d in corpora.members(art, sel)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=None, help="pool size (default: CPUs, max 8)")
    ap.add_argument("--repeat", type=int, default=3, help="copies of the synthetic set")
    args = ap.parse_args()

    syn = [(f"synthetic/{k}/{n}", d) for k in range(args.repeat) for n, d in synthetic().items()]
    real = cached_corpora()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, items in (("synthetic", syn), ("benign corpora (cached)", real), ("mixed", syn + real)):
            if not items:
                rows.append((label, 0, 0.0, None, None))
                continue
            paths = []
            for name, data in items:
                p = Path(tmp) / label.split()[0] / name
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(data)
                paths.append(p)
            mb = sum(len(d) for _, d in items) / 1e6
            t0 = time.perf_counter()
            for name, data in items:
                screen_bytes(data, name=name)
            single = time.perf_counter() - t0
            t0 = time.perf_counter()
            screen_files(paths, workers=args.workers)
            pooled = time.perf_counter() - t0
            rows.append((label, len(items), mb, single, pooled))
    print(f"{'corpus':26} {'files':>6} {'MB':>8} {'1 proc MB/s':>12} {'pool MB/s':>10} {'pool files/s':>13}")
    for label, n, mb, single, pooled in rows:
        if single is None or pooled is None:
            print(f"{label:26} {n:>6} {'-':>8} {'-':>12} {'-':>10} {'-':>13}")
            continue
        print(f"{label:26} {n:>6} {mb:>8.1f} {mb / single:>12.1f} {mb / pooled:>10.1f} {n / pooled:>13.0f}")


if __name__ == "__main__":
    main()
