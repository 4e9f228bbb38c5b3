"""Biome SEGB streams (v1 and v2): records, states, times, apps and links from schemaless protobuf."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.fuzz import assert_writable
from tests.builders.ios_fs import DumpBuilder
from tests.builders.run import run_evidence
from tests.builders.segb import field, segb_v1, segb_v2
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.biome import BiomeEvent, BiomeParser

T1 = datetime(2024, 2, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2024, 2, 1, 9, 5, tzinfo=UTC)
FOCUS = field(1, 1) + field(3, "com.burbn.instagram") + field(4, field(1, "UIKitApplication")) + field(6, 7.5)
WEB = field(1, "com.apple.mobilesafari") + field(2, "https://weather4free.com/t") + field(5, field(1, "weather4free.com"))
STREAM = "/private/var/mobile/Library/Biome/streams/restricted/{}/local/{}"


@pytest.mark.parametrize("version", [1, 2])
def test_records_of_both_versions(dump: DumpBuilder, version: int) -> None:
    records_in = [(1, T1, FOCUS), (3, T2, WEB)]
    data = segb_v1(records_in) if version == 1 else segb_v2(records_in, T1)
    dump.add_file(STREAM.format("App.InFocus", "738400000000000"), data)
    dump.add_file(STREAM.format("App.Intent", "1"), data)  # not an app-usage stream
    records, cov = run_evidence(BiomeParser, dump.finish("tar"))
    assert cov.status is Status.PARSED and len(cov.artefacts) == 1
    focus, web = records
    assert isinstance(focus, BiomeEvent) and isinstance(web, BiomeEvent)
    assert (focus.stream, focus.state, focus.time, focus.bundle_ids) == (
        "App.InFocus", "written", T1, ("com.burbn.instagram",))
    assert "UIKitApplication" in focus.strings and focus.crc_ok is not False
    assert (web.state, web.time, web.bundle_ids) == ("deleted", T2, ("com.apple.mobilesafari",))
    obs = {(o.type, o.value) for o in observables_of(web)}
    assert {(Obs.DOMAIN, "weather4free.com"), (Obs.APP_ID, "com.apple.mobilesafari")} <= obs
    assert (Obs.DOMAIN, "com.apple.mobilesafari") not in obs  # a bundle id is not a host name


@pytest.mark.parametrize("data", [b"", b"not segb at all" * 4, b"SEGB" + b"\xff" * 28])
def test_what_is_not_segb_fails_with_a_reason(dump: DumpBuilder, data: bytes) -> None:
    dump.add_file(STREAM.format("App.InFocus", "1"), data)
    records, cov = run_evidence(BiomeParser, dump.finish("zip"))
    assert records == [] and cov.status is Status.FAILED and cov.reason


@settings(max_examples=40, deadline=None)
@given(data=st.one_of(st.binary(max_size=300), st.binary(max_size=300).map(lambda b: b"SEGB" + b),
                      st.binary(max_size=300).map(lambda b: bytes(52) + b"SEGB" + b),
                      st.integers(0, 200).map(lambda n: segb_v1([(1, T1, FOCUS), (1, T2, WEB)])[:n]),
                      st.integers(0, 200).map(lambda n: segb_v2([(1, T1, FOCUS)], T1)[:n])))
def test_garbage_never_crashes(data: bytes) -> None:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        dump = DumpBuilder(Path(tmp), system=False)
        dump.add_file(STREAM.format("App.InFocus", "1"), data)
        records, cov = run_evidence(BiomeParser, dump.finish("tar"))
    assert_writable(records)
    assert cov.status in (Status.PARSED, Status.PARTIAL, Status.FAILED)
    assert not (cov.reason or "").startswith("unexpected")
