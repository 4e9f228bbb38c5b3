"""Confidential matching answers exactly what the plaintext index answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.matching import INDICATORS, OBSERVATIONS, ind
from unmask.detect.indicators import confidential, oprf
from unmask.detect.indicators.confidential import (
    Campaign,
    ConfidentialMatcher,
    PublishedSet,
    canonical_key,
    lookup_keys,
    published_entries,
)
from unmask.detect.indicators.index import IndicatorIndex, naive_match
from unmask.intel.publish import build_epoch, key_info
from unmask.intel.store import epoch_dir
from unmask.model import Indicator, Obs, Observable
from unmask.observables import expand


def _by_keys(entries: confidential.Entries, obs: Observable) -> set[Indicator]:
    return {i for key in lookup_keys(obs) for i in entries.by_key.get(key, ())}


@settings(max_examples=400, deadline=None)
@given(indicators=st.lists(INDICATORS, max_size=25), observation=OBSERVATIONS)
def test_lookup_keys_reproduce_plaintext_matching(indicators: list[Indicator], observation: Observable) -> None:
    """Set membership over (published keys, looked-up keys) == the plaintext index == the naive scan."""
    index = IndicatorIndex.build(indicators)
    entries = published_entries(indicators)
    for obs in expand(observation):
        plain = set(index.match(obs))
        assert _by_keys(entries, obs) == plain, (obs, indicators)
        assert plain == set(naive_match(obs, indicators))


def test_lookup_keys_shapes() -> None:
    assert lookup_keys(Observable(Obs.DOMAIN, "a.b.example.com")) == [
        ("domain-name:value", "a.b.example.com"),
        ("domain-name:value", "b.example.com"),
        ("domain-name:value", "example.com"),
        ("domain-name:value", "com"),
    ]
    assert lookup_keys(Observable(Obs.FILE_PATH, "/private/var/x")) == [
        ("file:path", "/"),
        ("file:path", "/private"),
        ("file:path", "/private/var"),
        ("file:path", "/private/var/x"),
    ]
    assert lookup_keys(Observable(Obs.PROCESS, "/usr/libexec/com.apple.xpc.ro")) == [
        ("process:name", "com.apple.xpc.ro"),
        (confidential.TRUNCATED, "com.apple.xpc.ro"),
    ]
    assert lookup_keys(Observable(Obs.URL, "HTTPS://Evil.Example:443")) == [
        ("url:value", "HTTPS://Evil.Example:443"),
        ("url:value", "https://evil.example/"),
    ]
    assert lookup_keys(Observable(Obs.PHONE, "+15551234567")) == []  # no indicator type for phones
    # Types are kept apart in the OPRF input: the same text under two types is two inputs.
    assert canonical_key("file:name", "x") != canonical_key("process:name", "x")
    long_key = canonical_key("url:value", "u" * 70_000)  # over RFC 9497's input limit: hashed
    assert b"\x00sha256:" in long_key and len(long_key) < 200


def test_truncated_process_entries_are_published_under_their_own_type() -> None:
    entries = published_entries([ind("process:name", "com.apple.xpc.roleaccountd")])
    assert set(entries.by_key) == {
        ("process:name", "com.apple.xpc.roleaccountd"),
        (confidential.TRUNCATED, "com.apple.xpc.r"),
        (confidential.TRUNCATED, "com.apple.xpc.ro"),
    }
    # A process literally named like the prefix, not truncated by the kernel, must not match.
    assert not _by_keys(entries, Observable(Obs.PROCESS, "com.apple.xpc."))


_CAMPAIGNS = [Campaign("Pegasus", "a.stix2"), Campaign("Other", "b.stix2")]


@settings(max_examples=100, deadline=None)
@given(
    value=st.text(max_size=40),
    rows=st.lists(
        st.tuples(st.sampled_from([*confidential.TYPE_CODES, "x-custom:thing"]), st.text(max_size=30),
                  st.sampled_from(_CAMPAIGNS), st.one_of(st.uuids().map(lambda u: f"indicator--{u}"), st.text())),
        min_size=1, max_size=4,
    ),
    same=st.booleans(),
)
def test_metadata_round_trip(value: str, rows: list[tuple[str, str, Campaign, str]], same: bool) -> None:
    indicators = [Indicator(t, value if same else v, c.name, s, c.source) for t, v, c, s in rows]
    number = {c: i for i, c in enumerate(_CAMPAIGNS)}
    plaintext = confidential.encode_metadata(value, indicators, number)
    output = oprf.evaluate(oprf.random_scalar(), b"x")
    sealed = confidential.seal_metadata(output, plaintext)
    assert len(sealed) % 16 == 0
    body = confidential.open_metadata(output, sealed)
    assert body is not None
    assert confidential.decode_metadata(value, body, _CAMPAIGNS) == indicators
    other = oprf.evaluate(oprf.random_scalar(), b"x")
    assert confidential.open_metadata(other[:12] + output[12:32] + other[32:], sealed) is None


TRICKY = [
    ind("domain-name:value", "weather4free.com", "Pegasus"),
    ind("domain-name:value", "178.220.122.57", "Android"),  # an IP filed as a domain
    ind("domain-name:value", "evil.example/landing", "Predator"),  # a URL filed as a domain
    ind("process:name", "com.apple.xpc.roleaccountd", "Pegasus"),
    ind("file:path", "/var/db/com.apple.xpc.roleaccountd.staging/", "Pegasus"),
    ind("file:name", "pred.so", "Predator"),
    ind("url:value", "HTTPS://Bad.Example:443/x?y=1", "Predator"),
    ind("email-addr:value", "NonBaguette@Yahoo.com", "Triangulation"),
    ind("file:hashes.sha256", "AB:CD:EF", "NoviSpy"),
    ind("app:id", "com.Evil.App", "NoviSpy", stix_id="indicator--not-a-uuid"),
    ind("domain-name:value", "weather4free.com", "Another collection"),  # one key, two indicators
]
OBSERVED = [
    Observable(Obs.HOST, "cdn.WEATHER4FREE.com."),
    Observable(Obs.HOST, "178.220.122.57"),
    Observable(Obs.URL, "http://evil.example/landing"),
    Observable(Obs.PROCESS, "com.apple.xpc.r"),
    Observable(Obs.PROCESS, "com.apple.xpc.ro"),
    Observable(Obs.PROCESS, "com.apple.xpc.rol"),
    Observable(Obs.FILE_PATH, "/private/var/db/com.apple.xpc.roleaccountd.staging/a/b"),
    Observable(Obs.FILE_PATH, "/private/var/db/com.apple.xpc.roleaccountd.stagingX"),
    Observable(Obs.FILE_PATH, "/data/local/tmp/pred.so"),
    Observable(Obs.URL, "https://bad.example/x?y=1"),
    Observable(Obs.PHONE_OR_EMAIL, "nonbaguette@yahoo.COM"),
    Observable(Obs.SHA256, "abcdef"),
    Observable(Obs.APP_ID, "COM.EVIL.APP"),
    Observable(Obs.HOST, "benign.example"),
]


def local_matcher(folder: Path, chunk: int = 65536) -> ConfidentialMatcher:
    """A matcher on a published folder whose evaluator is called in-process (no HTTP)."""
    state = json.loads((folder / "epochs.json").read_text())
    epoch = state["current"]
    target = epoch_dir(folder, epoch)
    secret, _ = oprf.derive_key_pair((target / "seed").read_bytes(), key_info(epoch))
    catalogue = json.loads((target / "catalogue.json").read_text())
    campaigns = [Campaign(c["name"], c["source"]) for c in catalogue["campaigns"]]
    return ConfidentialMatcher(
        PublishedSet((target / "set.bin").read_bytes()),
        campaigns,
        lambda blinded: oprf.blind_evaluate_batch(secret, blinded),
        chunk=chunk,
    )


@pytest.mark.parametrize("chunk", [65536, 5])
def test_confidential_matcher_equals_index_on_tricky_cases(tmp_path: Path, chunk: int) -> None:
    report = build_epoch(TRICKY, tmp_path / "intel")
    assert report.records == 1024 and report.keys == len(published_entries(TRICKY).by_key)
    matcher = local_matcher(tmp_path / "intel", chunk)  # small chunks: the pipelined path
    index = IndicatorIndex.build(TRICKY)
    observables = [o for raw in OBSERVED for o in expand(raw)]
    matcher.prefetch(observables)
    requests = matcher.stats.requests
    total = 0
    for obs in observables:
        got, want = matcher.match(obs), index.match(obs)
        assert set(got) == set(want), obs
        total += len(got)
    assert total >= 12
    assert requests == -(-matcher.stats.keys // chunk)
    assert matcher.stats.requests == requests  # everything was answered by the prefetch
    # An observable that was not prefetched is still answered (one more round trip).
    late = Observable(Obs.DOMAIN, "x.178.220.122.57")
    assert set(matcher.match(late)) == set(index.match(late))
    assert matcher.stats.requests == requests + 1


def test_set_is_padded_sorted_and_hides_its_count(tmp_path: Path) -> None:
    one = build_epoch(TRICKY[:1], tmp_path / "a")
    many = build_epoch(TRICKY, tmp_path / "b")
    assert one.records == many.records == 1024
    data = (epoch_dir(tmp_path / "b", many.epoch) / "set.bin").read_bytes()
    published = PublishedSet(data)
    tags = [published._tag(i) for i in range(published.count)]
    assert tags == sorted(tags) and len(set(tags)) == published.count
    assert confidential.padded_size(1025) == 2048
