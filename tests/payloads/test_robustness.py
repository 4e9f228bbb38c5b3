"""Hostile-input robustness: truncated and bit-flipped vectors never raise out of the parsers."""

from __future__ import annotations

import random

import pytest

from unmask.detect.payloads import screen_bytes

from . import vectors as v

A32 = 0x80000000

VECTORS = {
    "jbig2-pdf": lambda: v.jbig2_pdf(v.jbig2_globals(A32), v.jbig2_image(A32), flate=True),
    "jbig2-file": lambda: v.jbig2_file(v.jbig2_image(A32, refs=[2], extra_sds=1)),
    "webp": v.webp_overbudget,
    "webp-meta": lambda: v.webp_lossless(v.vp8l_meta_groups(1)),
    "webp-alph": lambda: v.webp_alph(v.lengths_from_histogram(v.OVERBUDGET_HIST, 40)),
    "ttf": lambda: v.ttf(prep=b"\x8f", composite=b"\xb0\x01"),
    "dng": lambda: v.dng(spp=2, nf=1, opcode_list=b"\x00\x00\x00\x00"),
    "pkpass": lambda: v.pkpass(v.webp_overbudget()),
    "font-pdf": lambda: v.font_pdf(v.ttf(prep=b"\x8f")),
}


def _internal(errors: list[str]) -> list[str]:
    return [e for e in errors if e.startswith("internal error")]


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_truncations(name: str) -> None:
    data = VECTORS[name]()
    step = max(1, len(data) // 150)
    for cut in range(0, len(data), step):
        r = screen_bytes(data[:cut])
        assert not _internal(r.errors), (cut, r.errors)


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_byte_flips(name: str) -> None:
    data = VECTORS[name]()
    rng = random.Random(name)
    for _ in range(150):
        buf = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        r = screen_bytes(bytes(buf))
        assert not _internal(r.errors), r.errors


def test_deterministic() -> None:
    data = v.pkpass(v.webp_overbudget())
    assert screen_bytes(data, name="a.pkpass").to_json() == screen_bytes(data, name="a.pkpass").to_json()


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_MAGICS = [
    b"%PDF-1.7\n",
    b"RIFF\x00\x01\x00\x00WEBPVP8L",
    b"II*\x00",
    b"MM\x00*",
    b"II+\x00\x08\x00\x00\x00",
    b"\x00\x01\x00\x00\x00\x05",
    b"ttcf",
    b"wOFF",
    b"wOF2",
    b"PK\x03\x04",
    b"\x97JB2\r\n\x1a\n",
    b"8BPS\x00\x01",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_MAGICS), st.binary(max_size=2048), st.sampled_from([None, "a.gif", "a.png", "a.jpg"]))
def test_random_bodies_behind_every_magic(magic: bytes, body: bytes, name: str | None) -> None:
    r = screen_bytes(magic + body, name=name)
    assert not _internal(r.errors), r.errors
    assert r.size == len(magic) + len(body)
