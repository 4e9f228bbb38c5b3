from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unmask.detect.indicators.sets import bundled_files
from unmask.detect.indicators.stix import (
    Comparison,
    UnsupportedPattern,
    fast_parse,
    full_parse,
    load_bytes,
    load_file,
    parse_pattern,
)
from unmask.errors import IndicatorError

# Pattern counts per set and the main types, as published in shared/iocs/README.md.
PUBLIC_COUNTS = {
    "2021-07-18_nso__pegasus.stix2": (
        1549,
        {"domain-name:value": 1438, "process:name": 81, "email-addr:value": 29, "file:name": 1},
    ),
    "2021-12-16_cytrox__cytrox.stix2": (
        343,
        {"domain-name:value": 336, "file:path": 6, "configuration-profile:id": 1},
    ),
    "intellexa_predator__predator.stix2": (
        585,
        {"domain-name:value": 569, "file:path": 15, "configuration-profile:id": 1},
    ),
    "2023-03-29_android_campaign__malware.stix2": (
        2187,
        {"domain-name:value": 2183, "android-property:name": 3, "file:path": 1},
    ),
    "2023-04-11_quadream__kingspawn.stix2": (
        167,
        {"domain-name:value": 164, "file:path": 2, "process:name": 1},
    ),
    "2023-06_01_operation_triangulation__operation_triangulation.stix2": (
        112,
        {"domain-name:value": 75, "email-addr:value": 36, "process:name": 1},
    ),
    "2023-07-25_wyrmspy_dragonegg__wyrmspy_dragonegg.stix2": (
        53,
        {"file:hashes.sha256": 34, "domain-name:value": 7, "app:id": 7, "ipv4-addr:value": 5},
    ),
    "2024-05-02_wintego_helios__wintego_helios.stix2": (175, {"domain-name:value": 175}),
    "2024-12-16_serbia_novispy__novispy.stix2": (
        18,
        {"domain-name:value": 7, "app:id": 4, "file:hashes.sha256": 4, "app:cert.sha256": 3},
    ),
    "2024-12-25_eaglemsgspy__eaglemsgspy.stix2": (
        51,
        {"file:hashes.sha256": 25, "domain-name:value": 13, "ipv4-addr:value": 13},
    ),
    "2026-03-03_coruna_cryptowaters__coruna.stix2": (
        216,
        {"domain-name:value": 177, "file:hashes.sha256": 20, "file:path": 12, "file:name": 7},
    ),
    "2026-03-30_darksword__darksword.stix2": (
        43,
        {
            "file:path": 22,
            "domain-name:value": 10,
            "file:name": 7,
            "ipv4-addr:value": 3,
            "file:hashes.sha256": 1,
        },
    ),
    "ResidentBat__residentbat.stix2": (
        48,
        {"ipv4-addr:value": 24, "app:id": 8, "app:cert.sha256": 8, "file:hashes.sha256": 8},
    ),
    "candiru__candiru.stix2": (125, {"domain-name:value": 125}),
    "cellebrite__cellebrite.stix2": (1, {"app:id": 1}),
    "echap__stalkerware.stix2": (
        6073,
        {
            "file:hashes.sha256": 3228,
            "domain-name:value": 1705,
            "app:id": 652,
            "app:cert.sha1": 486,
            "url:value": 2,
        },
    ),
}


def test_every_public_set_loads_with_the_published_counts() -> None:
    files = {p.name: p for p in bundled_files()}
    assert set(PUBLIC_COUNTS) <= set(files)
    for name, (total, types) in PUBLIC_COUNTS.items():
        loaded = load_file(files[name])
        assert loaded.info.unsupported == 0, name
        assert loaded.info.indicators == total, name
        by_type = dict(loaded.info.by_type)
        for kind, count in types.items():
            assert by_type.get(kind) == count, (name, kind)


def test_collections_come_from_relationships() -> None:
    files = {p.name: p for p in bundled_files()}
    assert load_file(files["2021-07-18_nso__pegasus.stix2"]).info.collections == ("Pegasus",)
    echap = load_file(files["echap__stalkerware.stix2"])
    assert len(echap.info.collections) > 100  # one malware object per stalkerware app
    assert "TheTruthSpy" in echap.info.collections


def _bundle(*objects: dict[str, object]) -> bytes:
    return json.dumps({"type": "bundle", "id": "bundle--1", "objects": list(objects)}).encode()


def _indicator(n: int, pattern: str, **extra: object) -> dict[str, object]:
    return {"type": "indicator", "id": f"indicator--{n}", "pattern": pattern, "pattern_type": "stix", **extra}


def test_report_object_refs_name_the_collection_and_default_is_single_malware() -> None:
    data = _bundle(
        {"type": "malware", "id": "malware--1", "name": "Predator"},
        {"type": "report", "id": "report--1", "name": "Report X", "object_refs": ["indicator--1"]},
        _indicator(1, "[domain-name:value = 'a.example']"),
        _indicator(2, "[domain-name:value = 'b.example']"),
    )
    loaded = load_bytes(data, "x.stix2", "x.stix2")
    assert {i.value: i.collection for i in loaded.indicators} == {
        "a.example": "Report X",
        "b.example": "Predator",
    }


def test_or_patterns_escaped_quotes_and_equals_signs() -> None:
    data = _bundle(
        _indicator(1, "[domain-name:value = 'a.example' OR domain-name:value = 'b.example']"),
        _indicator(2, "[url:value = 'http://evil.example/a?b=c&d=e']"),
        _indicator(3, r"[file:name = 'it\'s.plist']"),
        _indicator(4, "[file:hashes.'SHA-256' = 'ABCDEF']"),
        _indicator(5, "[domain-name:value = 'x.example'] OR [ipv4-addr:value = '198.51.100.7']"),
    )
    loaded = load_bytes(data, "x.stix2", "x.stix2")
    got = {(i.type, i.value) for i in loaded.indicators}
    assert got == {
        ("domain-name:value", "a.example"),
        ("domain-name:value", "b.example"),
        ("url:value", "http://evil.example/a?b=c&d=e"),
        ("file:name", "it's.plist"),
        ("file:hashes.sha256", "ABCDEF"),
        ("domain-name:value", "x.example"),
        ("ipv4-addr:value", "198.51.100.7"),
    }
    assert loaded.info.unsupported == 0


@pytest.mark.parametrize(
    "pattern",
    [
        "[domain-name:value = 'a' AND url:value = 'b']",
        "[domain-name:value LIKE '%.example']",
        "[x509-certificate:serial_number = '12']",
        "[domain-name:value = 'a'] FOLLOWEDBY [domain-name:value = 'b']",
        "[domain-name:value = 'a'] WITHIN 10 SECONDS",
        "not a pattern",
        "[file:size = 12]",
    ],
)
def test_unusable_patterns_are_counted_not_fatal(pattern: str) -> None:
    with pytest.raises(UnsupportedPattern):
        parse_pattern(pattern)
    loaded = load_bytes(
        _bundle(_indicator(1, pattern), _indicator(2, "[domain-name:value='ok.example']")), "f", "f"
    )
    assert loaded.info.unsupported == 1
    assert [i.value for i in loaded.indicators] == ["ok.example"]
    assert loaded.info.unsupported_examples


@pytest.mark.parametrize("data", [b"", b"{not json", b'{"type": "bundle"}', b"[1, 2]\xff"])
def test_files_that_are_not_stix_raise_a_clear_error(data: bytes) -> None:
    with pytest.raises(IndicatorError):
        load_bytes(data, "bad", "bad.stix2")


def test_revoked_and_non_stix_indicators_are_skipped() -> None:
    loaded = load_bytes(
        _bundle(
            _indicator(1, "[domain-name:value='a.example']", revoked=True),
            _indicator(2, "rule x { }", pattern_type="yara"),
        ),
        "f",
        "f",
    )
    assert loaded.indicators == [] and loaded.info.unsupported == 1


_PATHS = st.sampled_from(
    [
        "domain-name:value",
        "process:name",
        "file:path",
        "email-addr:value",
        "app:id",
        "url:value",
        "file:hashes.sha256",
        "file:hashes.'SHA-256'",
        "app:cert.sha1",
    ]
)
_VALUES = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=40)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


@settings(max_examples=300, deadline=None)
@given(path=_PATHS, value=_VALUES, spaces=st.sampled_from(["", " ", "  "]))
def test_fast_path_equals_the_reference_parser(path: str, value: str, spaces: str) -> None:
    object_type, prop = path.split(":", 1)
    pattern = f"[{object_type}:{prop}{spaces}={spaces}'{_escape(value)}']"
    fast = fast_parse(pattern)
    try:
        full = full_parse(pattern)
    except UnsupportedPattern:
        assert fast is None or not value.strip(), pattern
        return
    if fast is not None:
        assert fast == full
    assert parse_pattern(pattern) == full
    assert full[0].value == value


def test_fast_path_declines_what_it_does_not_fully_understand() -> None:
    assert fast_parse("[domain-name:value = 'a' OR domain-name:value = 'b']") is None
    assert fast_parse("[domain-name:value != 'a']") is None
    assert fast_parse("[domain-name:value = 'a'") is None
    assert fast_parse("[domain-name:value = 'a'] ") == [Comparison("domain-name:value", "a")]


def test_bundled_sets_match_the_shared_copies_when_present() -> None:
    shared = Path(__file__).resolve().parents[4] / "shared" / "iocs"
    if not shared.is_dir():
        pytest.skip("shared/iocs not beside the checkout")
    for path in bundled_files():
        if path.name == "echap__stalkerware-patterns.stix2":
            continue  # unmask's own conversion of Echap's ioc.yaml (tools/echap_stix.py), not a published file
        assert path.read_bytes() == (shared / path.name).read_bytes(), path.name
