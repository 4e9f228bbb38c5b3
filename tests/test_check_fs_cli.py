"""``unmask check-fs``: the same findings from a dump as a folder, a .tar.gz and a .zip; every planted
trace found and nothing else; the dump recognised by ``unmask check``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.builders.sample_fs import TRACES, DumpSample, build_sample_dump
from unmask.cli import main
from unmask.detect.indicators.sets import load_sets, resolve


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> DumpSample:
    return build_sample_dump(tmp_path_factory.mktemp("fs"), files=300, forms=("tar.gz", "zip"))


def _scan(evidence: Path, out: Path, command: str = "check-fs") -> list[dict[str, object]]:
    result = CliRunner().invoke(main, [command, str(evidence), "-o", str(out), "-q"])
    assert result.exit_code == 1, result.output  # traces found
    return list(json.loads((out / "alerts.json").read_text()))


def _key(alert: dict[str, object]) -> tuple[str, str, str, str]:
    indicator = alert["indicator"] or {}
    assert isinstance(indicator, dict)
    return (str(alert["rule"]), str(indicator.get("collection", "")), str(indicator.get("value", "")),
            str(alert["device_path"]))


def test_the_planted_traces_are_in_the_public_sets() -> None:
    indicators = {(i.collection, i.type, i.value) for i in load_sets(resolve([])).indicators}
    for key, trace in TRACES.items():
        assert trace in indicators, key


def test_folder_tar_gz_and_zip_give_the_same_findings(sample: DumpSample, tmp_path: Path) -> None:
    folder = _scan(sample.folder, tmp_path / "folder")
    for form, archive in sample.archives.items():
        assert sorted(map(_key, _scan(archive, tmp_path / form))) == sorted(map(_key, folder)), form


def test_every_planted_trace_and_nothing_else(sample: DumpSample, tmp_path: Path) -> None:
    alerts = _scan(sample.folder, tmp_path / "o")
    found = {(k[1], k[2]) for k in map(_key, alerts) if k[0] == "indicator"}
    expected = {(p.collection, p.indicator) for p in [*sample.planted, *sample.unmask_only]}
    # Coruna names this file by name and by its absolute path: both match.
    also = {("Coruna", "/private/var/root/Library/Caches/com.apple.nsurlsessiond/" + TRACES["coruna_file"][2])}
    assert found == expected | also
    rules = {str(a["rule"]) for a in alerts if not a["indicator"]}
    # The planted iMessage lookup of the Triangulation address and the planted Pegasus process's first
    # network use share a time in the sample: Amnesty's lookup-then-new-process rule sees them both.
    assert rules == {"process-without-binary", "app-not-from-app-store", "lockdown-mode",
                     "correlation-lookup-new-process"}
    binaries = {a["record"]["process"] for a in alerts if a["rule"] == "process-without-binary"}  # type: ignore[index]
    assert binaries == {TRACES["netusage"][2], TRACES["datausage"][2]}
    decoy = [a for a in alerts if str(a["device_path"]).endswith("hookerX")]
    assert decoy == []  # the longer file name never matches /private/var/tmp/hooker


def test_check_recognises_the_dump(sample: DumpSample, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(sample.archives["zip"]), "-o", str(tmp_path / "c")])
    assert result.exit_code == 1 and "ios-fs" in result.output
    info = json.loads((tmp_path / "c" / "info.json").read_text())
    assert info["evidence"]["kind"] == "ios-fs" and info["command"] == "check"
    meta = info["evidence"]["metadata"]
    assert (meta["ios_version"], meta["build"], meta["product_type"]) == ("17.4.1", "21E236", "iPhone14,2")


def test_results_beside_the_archive_but_never_inside_the_folder(sample: DumpSample) -> None:
    inside = CliRunner().invoke(main, ["check-fs", str(sample.folder), "-o", str(sample.folder / "out"), "-q"])
    assert inside.exit_code == 2 and "inside" in inside.output
    beside = sample.archives["tar.gz"].parent / "results-beside"
    assert CliRunner().invoke(main, ["check-fs", str(sample.archives["tar.gz"]), "-o", str(beside), "-q"]).exit_code == 1


def test_recheck_of_a_dump_finds_what_the_scan_found(sample: DumpSample, tmp_path: Path) -> None:
    from unmask.recheck import recheck

    alerts = _scan(sample.folder, tmp_path / "scan")
    done = recheck(tmp_path / "scan", output=tmp_path / "again")
    again = [f.to_json() for f in done.result.findings]
    assert sorted(map(_key, again)) == sorted(map(_key, alerts))  # process-without-binary included
    assert done.new_findings == [] and done.no_longer_found == []


def test_a_hostile_tar_is_read_safely(tmp_path: Path) -> None:
    import io
    import tarfile

    archive = tmp_path / "hostile.tar"
    with tarfile.open(archive, "w") as tar:
        def add(name: str, data: bytes = b"x", *, link: str | None = None) -> None:
            info = tarfile.TarInfo(name)
            if link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))

        add("private/var/mobile/Library/Preferences/a.plist")
        add("../outside.txt")
        add("/etc/absolute.txt")
        add("private/var/mobile/Library/SMS/sms.db", link="/etc/passwd")
        add("private/var/mobile/Library/x/../../../../../../escape", link="../../../../../../../../etc/passwd")
        add("private/var/tmp/roleaccountd")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["check-fs", str(archive), "-o", str(out), "-q"])
    assert result.exit_code == 1, result.output  # the planted name is still found
    info = json.loads((out / "info.json").read_text())
    refused = info["evidence"]["refused"]
    assert any("climbs out" in why or ".." in why for why in refused.values())
    assert any("absolute" in why for why in refused.values())
    assert "Traceback" not in result.output
