"""BP-VP8L (BLASTPASS, CVE-2023-4863 / CVE-2023-41064): WebP lossless prefix codes."""

from __future__ import annotations

import pytest

from unmask.detect.payloads import screen_bytes
from unmask.detect.payloads.webp import GREEN_BUDGET, kraft_sum, max_table_write

from . import vectors as v

OVER = v.lengths_from_histogram(v.OVERBUDGET_HIST, 40)


def found(data: bytes, name: str | None = None) -> list[tuple[str, str, str]]:
    return [(f.rule, f.severity.value, f.locator) for f in screen_bytes(data, name=name).findings]


def test_histogram_emulation_matches_public_test() -> None:
    assert max_table_write(list(v.OVERBUDGET_HIST)) == 412
    assert kraft_sum(list(v.OVERBUDGET_HIST)) == 32726
    assert max_table_write([0, 0, 0, 0, 0, 24, 16]) == 255
    assert kraft_sum([0, 0, 0, 0, 0, 24, 16]) == 32768


def test_emulation_complete_codes_stay_within_budget() -> None:
    # Every complete code with all 40 distance symbols at length <= 15 fits the 410 budget; spot-check
    # the deepest complete shapes (one symbol per level, then two at the bottom).
    hist = [0] + [1] * 14 + [2]
    assert kraft_sum(hist) == 32768
    assert max_table_write(hist) < 410


def test_complete_code_clean() -> None:
    assert found(v.webp_complete()) == []


def test_overbudget_flags_budget_and_kraft() -> None:
    r = screen_bytes(v.webp_overbudget())
    assert [(f.rule, f.severity.value, f.locator) for f in r.findings] == [
        ("BP-VP8L-BUDGET", "high", "webp VP8L code#4 (distance)"),
        ("BP-VP8L-KRAFT", "medium", "webp VP8L code#4 (distance)"),
    ]
    ev = r.findings[0].evidence
    assert ev["max_write_index"] == 412 and ev["budget"] == 410 and ev["kraft_sum"] == 32726
    assert r.findings[0].cve == "CVE-2023-4863"


def test_incomplete_without_second_level_is_kraft_only() -> None:
    data = v.webp_lossless(v.vp8l_bitstream(v.lengths_from_histogram((0, 0, 3), 40)))
    assert [(r, s) for r, s, _ in found(data)] == [("BP-VP8L-KRAFT", "medium")]


def test_oversubscribed_is_kraft() -> None:
    data = v.webp_lossless(v.vp8l_bitstream(v.lengths_from_histogram((0, 3), 40)))
    assert [(r, s) for r, s, _ in found(data)] == [("BP-VP8L-KRAFT", "medium")]


def test_same_code_in_green_fits_larger_budget() -> None:
    # Boundary: the distance-overflowing histogram as the green code (ccb 0, budget 654) is not BUDGET.
    assert GREEN_BUDGET[0] == 654
    data = v.webp_lossless(v.vp8l_bitstream(green_lengths=v.lengths_from_histogram(v.OVERBUDGET_HIST, 280)))
    assert [(r, s) for r, s, _ in found(data)] == [("BP-VP8L-KRAFT", "medium")]


def test_offending_code_in_predictor_subimage() -> None:
    data = v.webp_lossless(v.vp8l_with_predictor(OVER))
    assert next((r, loc) for r, _, loc in found(data)) == (
        "BP-VP8L-BUDGET",
        "webp VP8L predictor sub-image code#4 (distance)",
    )


def test_clean_predictor_subimage() -> None:
    data = v.webp_lossless(v.vp8l_with_predictor(v.lengths_from_histogram(v.COMPLETE_DIST_HIST, 40)))
    assert found(data) == []


@pytest.mark.parametrize("group", [0, 1])
def test_meta_prefix_groups_all_walked(group: int) -> None:
    data = v.webp_lossless(v.vp8l_meta_groups(group))
    assert next((r, loc) for r, _, loc in found(data)) == (
        "BP-VP8L-BUDGET",
        f"webp VP8L group#{group} code#{9 + 5 * group} (distance)",
    )


def test_lossless_alpha() -> None:
    assert [r for r, _, _ in found(v.webp_alph(OVER))] == ["BP-VP8L-BUDGET", "BP-VP8L-KRAFT"]
    assert found(v.webp_alph(v.lengths_from_histogram(v.COMPLETE_DIST_HIST, 40))) == []


def test_animation_frame() -> None:
    f = found(v.webp_animated(OVER, frame=1))
    assert f[0] == ("BP-VP8L-BUDGET", "high", "webp ANMF#1 VP8L code#4 (distance)")
    assert found(v.webp_animated(v.lengths_from_histogram(v.COMPLETE_DIST_HIST, 40))) == []


def test_bad_backward_reference_is_malformed() -> None:
    assert [(r, s) for r, s, _ in found(v.webp_lossless(v.vp8l_bad_backref()))] == [
        ("BP-VP8L-MALFORMED", "low")
    ]


def test_truncated_stream_is_malformed_not_crash() -> None:
    data = v.webp_overbudget()
    for cut in range(20, len(data)):
        r = screen_bytes(data[:cut])
        assert not r.errors, r.errors


def test_named_png_is_blastpass_shape() -> None:
    got = {(r, s) for r, s, _ in found(v.webp_overbudget(), "logo.png")}
    assert got == {("BP-VP8L-BUDGET", "high"), ("BP-VP8L-KRAFT", "high"), ("DISGUISE", "high")}


def test_color_cache_bits_out_of_range() -> None:
    data = v.webp_lossless(v.vp8l_bitstream(color_cache=12))
    assert [(r, s) for r, s, _ in found(data)] == [("BP-VP8L-MALFORMED", "low")]
    assert found(v.webp_lossless(v.vp8l_bitstream(color_cache=11))) == []


def test_subimage_channels_decoded_in_bitstream_order() -> None:
    # Regression: Pillow's iss634.webp (42 valid lossless frames) desynchronised when alpha was read
    # before red and blue.
    f = found(v.webp_lossless(v.vp8l_entropy_channel_order()))
    assert f[0] == ("BP-VP8L-BUDGET", "high", "webp VP8L group#1 code#14 (distance)")
