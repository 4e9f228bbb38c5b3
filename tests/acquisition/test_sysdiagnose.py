"""The sysdiagnose acquisition: recognised by its layout, read in place as .tar.gz or folder."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from tests.builders.sysdiagnose import DEFAULT_TIME, SysdiagnoseBuilder, archive_name, delayed, shutdown_log
from unmask.acquisition.registry import open_acquisition, recognise
from unmask.acquisition.sysdiagnose import IOSSysdiagnose, ios_major_from_build, parse_name
from unmask.errors import AcquisitionError

SHUTDOWN = "/private/var/db/diagnostics/shutdown.log"


def built(tmp_path: Path, tar: bool) -> Path:
    b = SysdiagnoseBuilder().minimal()
    b.shutdown(shutdown_log([delayed(DEFAULT_TIME, [(155, "/usr/libexec/nfcd")])]))
    b.crash("Retired/imagent-2025-11-22-101010.ips", b'{"bug_type":"309"}\n{}\n')
    b.add("logs/Accessibility/TCC.db", b"SQLite format 3\x00")
    return b.write_tar(tmp_path / "tar") if tar else b.write_folder(tmp_path / "folder")


def test_name_parts_and_builds() -> None:
    parts = parse_name("sysdiagnose_2025.11.22_19-36-23-0500_iPhone-OS_iPhone_23B85.tar.gz")
    assert parts == {"date": "2025.11.22", "time": "19-36-23", "offset": "-0500", "platform": "iPhone-OS",
                     "device": "iPhone", "build": "23B85"}
    assert parse_name("sysdiagnose_2023.05.24_13-29-15+0200_iPhone-OS_iPhone_19H349")["offset"] == "+0200"
    assert parse_name("evidence.tar.gz") is None
    # Build trains 18-22 are iOS 14-18; iOS 26 follows train 23 (23B85 is iOS 26.1).
    assert [ios_major_from_build(b) for b in ("18D52", "19H349", "20A362", "21C66", "22A3354", "23B85", "x")] == [
        14, 15, 16, 17, 18, 26, None]


@pytest.mark.parametrize("tar", [False, True], ids=["folder", "tar.gz"])
def test_recognised_and_mapped(tmp_path: Path, tar: bool) -> None:
    root = built(tmp_path, tar)
    assert [(cls.kind, found) for cls, found in recognise(root)] == [("ios-sysdiagnose", root)]
    if not tar:  # the folder holding the extracted sysdiagnose is recognised too
        assert [found for _, found in recognise(root.parent)] == [root]
    with open_acquisition(root) as acq:
        assert isinstance(acq, IOSSysdiagnose)
        assert acq.read_bytes(SHUTDOWN).startswith(b"%%%%% Entering phase")
        assert acq.glob("/private/var/mobile/Library/Logs/CrashReporter/**/*.ips") == [
            "/private/var/mobile/Library/Logs/CrashReporter/Retired/imagent-2025-11-22-101010.ips"]
        assert acq.exists("/private/var/mobile/Library/TCC/TCC.db")
        assert acq.exists("/System/Library/CoreServices/SystemVersion.plist")
        assert set(acq.section_names()) == {
            "sysdiagnose:ps.txt", "sysdiagnose:ps_thread.txt", "sysdiagnose:taskinfo.txt",
            "sysdiagnose:spindump-nosymbols.txt", "sysdiagnose:remotectl_dumpstate.txt",
            "sysdiagnose:sysdiagnose.log", "sysdiagnose:summaries/crashes_and_spins.log"}
        assert acq.open_section("sysdiagnose:ps.txt").read().startswith(b"USER ")
        assert acq.section_sha256("sysdiagnose:ps.txt") is not None
        # Nothing outside the mapped copies is a device path.
        assert not acq.exists("/ps.txt")
        meta = acq.metadata()
        assert meta["ios_version"] == "17.2.1" and meta["build"] == "21C66" and meta["product_type"] == "iPhone14,2"
        assert meta["sysdiagnose_date"] == DEFAULT_TIME.isoformat() and meta["utc_offset"] == "-0500"
        assert acq.timezone() == "-0500" and acq.collected() == DEFAULT_TIME
        assert acq.platform == "ios" and acq.label
        hashes = acq.evidence_hashes()
        if tar:
            assert list(hashes) == [root.name]
        else:  # the folder's command outputs
            assert {"ps.txt", "sysdiagnose.log", "summaries/crashes_and_spins.log"} <= set(hashes)


def test_a_renamed_archive_keeps_its_top_folder_name(tmp_path: Path) -> None:
    b = SysdiagnoseBuilder(build="23B85", version="26.1").minimal()
    root = b.write_tar(tmp_path, file_name="from-the-helpline.tar.gz")
    with open_acquisition(root) as acq:
        assert acq.metadata()["sysdiagnose_name"] == archive_name(build="23B85")
        assert acq.collected() == DEFAULT_TIME


def test_without_a_name_the_log_names_the_archive(tmp_path: Path) -> None:
    b = SysdiagnoseBuilder().minimal()
    del b.files["logs/SystemVersion/SystemVersion.plist"]
    del b.files["remotectl_dumpstate.txt"]
    folder = b.write_folder(tmp_path)
    renamed = folder.rename(tmp_path / "case-17")
    with open_acquisition(renamed) as acq:
        assert acq.collected() == DEFAULT_TIME
        meta = acq.metadata()
        # iOS version from the build number alone, and said so.
        assert meta["ios_version"] == "17" and meta["ios_version_from"] == "build number"


def test_not_a_sysdiagnose(tmp_path: Path) -> None:
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "ps.txt").write_text("USER PID COMMAND\n")
    assert IOSSysdiagnose.detect(lone) is None
    tar = tmp_path / "photos.tar.gz"
    with tarfile.open(tar, "w:gz") as t:
        info = tarfile.TarInfo("holiday/ps.txt")
        info.size = 3
        t.addfile(info, io.BytesIO(b"abc"))
    assert IOSSysdiagnose.detect(tar) is None
    with pytest.raises(AcquisitionError):
        open_acquisition(tar, kind="ios-sysdiagnose")


def test_a_link_out_of_the_sysdiagnose_is_refused(tmp_path: Path) -> None:
    b = SysdiagnoseBuilder().minimal()
    del b.files["taskinfo.txt"]
    b.link("taskinfo.txt", "../../../../etc/passwd")
    root = b.write_tar(tmp_path)
    with open_acquisition(root) as acq:
        assert "sysdiagnose:taskinfo.txt" in acq.section_names()
        with pytest.raises(FileNotFoundError):
            acq.open_section("sysdiagnose:taskinfo.txt")
        assert any("climbs out" in why or "outside" in why for why in acq.refused.values())
