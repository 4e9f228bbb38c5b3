"""tools/echap_stix.py: Echap's organisations, certificate-name patterns and package-name patterns
as STIX, reproducibly; and the bundled file it wrote."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tools import echap_stix
from unmask.detect.indicators.index import IndicatorIndex
from unmask.detect.indicators.sets import bundled_files
from unmask.detect.indicators.stix import load_bytes, load_file
from unmask.model import Obs
from unmask.observables import normalize

IOC = """\
- name: DatedSpy
  type: stalkerware
  packages:
  - com.dated.spy.b20230101
  - com.dated.spy.b20240202
  - com.dated.spy.b2024030   # seven digits: the family's lengths become a range
  - com.single.app1234       # alone: no pattern
  - ab.c2021                 # numbered twice, but only two labels before the number
  - ab.c2022
  certificates:
  - 31A6ECECD97CF39BC4126B8745CD94A7C30BF81C
  certificate_organizations:
  - Spy O'Vendor SRL
  certificate_cname_re:
  - ^Spy\\W[0-9]{2}$
- name: Collider
  type: stalkerware
  packages:
  - org.collide.x1000
  - org.collide.x2000
- name: Plain
  type: stalkerware
  packages:
  - com.plain
"""
WATCH = """\
- name: Parental
  type: watchware
  packages:
  - org.collide.x3000
"""


def _write(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "ioc.yaml").write_text(IOC)
    (tmp_path / "watchware.yaml").write_text(WATCH)
    return tmp_path / "ioc.yaml", tmp_path / "watchware.yaml"


def test_patterns_organisations_and_names_from_ioc_yaml(tmp_path: Path) -> None:
    ioc, watch = _write(tmp_path)
    bundle = echap_stix.build(ioc, watch, "c0ffee", "2026-06-21T20:40:25.000Z")
    loaded = load_bytes(json.dumps(bundle).encode(), "x.stix2", "x.stix2")
    assert loaded.info.unsupported == 0
    got = {(i.type, i.value, i.collection) for i in loaded.indicators}
    assert got == {
        ("app:id MATCHES", r"^com\.dated\.spy\.b[0-9]{7,8}$", "DatedSpy"),
        ("app:cert.organization", "Spy O'Vendor SRL", "DatedSpy"),
        ("app:cert.common_name MATCHES", r"^Spy\W[0-9]{2}$", "DatedSpy"),
        # Collider's family would match a watchware package: dropped. Plain has nothing to add.
    }
    described = {o["pattern"]: o["description"] for o in bundle["objects"] if o["type"] == "indicator"}
    assert any("com.dated.spy.b20230101, com.dated.spy.b20240202" in d for d in described.values())


def test_the_same_input_gives_the_same_file(tmp_path: Path) -> None:
    ioc, watch = _write(tmp_path)
    a, b = tmp_path / "a.stix2", tmp_path / "b.stix2"
    assert echap_stix.main([str(ioc), "--watchware", str(watch), "--out", str(a)]) == 0
    assert echap_stix.main([str(ioc), "--watchware", str(watch), "--out", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()


def test_the_bundled_file_matches_new_builds_and_not_look_alikes() -> None:
    path = next(p for p in bundled_files() if p.name == "echap__stalkerware-patterns.stix2")
    loaded = load_file(path)
    assert loaded.info.unsupported == 0 and loaded.info.indicators >= 9
    index = IndicatorIndex.build(loaded.indicators)
    bundle = json.loads(path.read_text())
    for obj in bundle["objects"]:
        if obj["type"] == "indicator" and obj["pattern"].startswith("[app:id MATCHES"):
            # Every build Echap listed, and which the pattern was made from, matches it.
            members = obj["description"].split(": ", 1)[1].split(", ")
            assert len(members) >= 2
            for name in members:
                assert index.lookup(Obs.APP_ID, normalize(Obs.APP_ID, name) or ""), name
            assert "github.com/AssoEchap/stalkerware-indicators" in obj["external_references"][0]["url"]

    def hits(kind: Obs, value: str) -> set[str]:
        return {i.collection for i in index.lookup(kind, normalize(kind, value) or "")}

    assert hits(Obs.APP_ID, "com.android.internet.a20991231") == {"iKeyMonitor"}
    assert hits(Obs.CERT_ORG, "tesline-service  srl") == {"KidsShield"}
    assert hits(Obs.CERT_CN, "Kids Safety 01-02-2024 10:11:12") == {"KidsShield"}
    for kind, value in [(Obs.APP_ID, "com.android.internet"), (Obs.APP_ID, "com.android.internet.a2099123"),
                        (Obs.APP_ID, "com.android.internet.a20991231.x"), (Obs.CERT_ORG, "Tesline Service"),
                        (Obs.CERT_CN, "Kids Safety"), (Obs.APP_ID, "mobile.monitor.children")]:
        assert hits(kind, value) == set(), value
    assert re.fullmatch(r"[0-9a-f]{64}", loaded.info.sha256)
