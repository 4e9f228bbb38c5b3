"""iOS full-filesystem dumps: recognised by content in every shape real tools produce, mapped to
absolute device paths, device facts read from the dump, the evidence never changed."""

from __future__ import annotations

import hashlib
import plistlib
from pathlib import Path

import pytest

from tests.builders.ios_backup import BackupBuilder
from tests.builders.ios_fs import FORMS, DumpBuilder, container_uuid
from unmask.acquisition.ios_fs import IOSFilesystem, find_layout
from unmask.acquisition.registry import open_acquisition, recognise
from unmask.errors import AcquisitionError

SMS = "/private/var/mobile/Library/SMS/sms.db"


def _build(dump: DumpBuilder, form: str = "folder", **kwargs: object) -> Path:
    dump.add_file(SMS, b"SQLite format 3\x00" + bytes(100))
    dump.add_file("/private/var/mobile/Library/Preferences/a.plist", plistlib.dumps({"a": 1}))
    folder = dump.container("data", "net.whatsapp.WhatsApp")
    dump.add_file(folder + "/Library/Caches/x.dat", b"x")
    out = dump.finish(form, **kwargs)  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("private", [True, False], ids=["private", "no-private"])
@pytest.mark.parametrize("wrap", ["", "case-17/FFS/"], ids=["root", "wrapped"])
def test_every_shape_is_recognised_and_mapped_to_absolute_device_paths(
    dump: DumpBuilder, form: str, private: bool, wrap: str
) -> None:
    evidence = _build(dump, form, private=private, wrap=wrap)
    found = recognise(evidence if form != "folder" else dump.root)
    assert [cls.kind for cls, _ in found] == ["ios-fs"]
    with open_acquisition(evidence if form != "folder" else dump.root) as acq:
        assert isinstance(acq, IOSFilesystem)
        assert acq.exists(SMS) and acq.read_bytes(SMS).startswith(b"SQLite format 3")
        # /var is the short form: parsers ask for /private/var, and the dump without private/ serves it
        assert acq.glob("/private/var/mobile/Containers/Data/Application/*/Library/Caches/x.dat") == [
            f"/private/var/mobile/Containers/Data/Application/{container_uuid('data', 'net.whatsapp.WhatsApp')}"
            "/Library/Caches/x.dat"
        ]
        paths = {e.device_path for batch in acq.listing() for e in batch}
        assert SMS in paths and "/System/Library/CoreServices/SystemVersion.plist" in paths
        assert all(p.startswith("/") for p in paths)
        assert not any(p.startswith(("/var/", "/case-17", "/FFS")) for p in paths)
        meta = acq.metadata()
        assert (meta["ios_version"], meta["build"], meta["product_type"], meta["device_name"]) == (
            "17.4.1", "21E236", "iPhone14,2", "Test iPhone",
        )
        assert acq.timezone() == "Europe/Zurich"
        assert meta["dump_layout"] == "root"


def test_the_contents_of_private_var_alone(tmp_path: Path) -> None:
    dump = DumpBuilder(tmp_path / "d", system=False)
    dump.add_file(SMS, b"sms")
    dump.add_file("/private/var/root/Library/Caches/locationd/clients.plist", plistlib.dumps({}))
    dump.add_dir("/private/var/containers/Bundle/Application")
    built = dump.finish("folder")
    var = built / "private" / "var"
    with open_acquisition(var) as acq:
        assert acq.kind == "ios-fs" and acq.metadata()["dump_layout"] == "var"
        assert acq.read_bytes(SMS) == b"sms"
        assert acq.exists("/private/var/root/Library/Caches/locationd/clients.plist")


def test_device_facts_from_the_gestalt_cache_when_system_version_is_absent(tmp_path: Path) -> None:
    dump = DumpBuilder(tmp_path / "d", ios_version="16.6", build="20G75", product_type="iPhone12,8")
    _build(dump)
    (dump.root / "dump" / "System" / "Library" / "CoreServices" / "SystemVersion.plist").unlink()
    with open_acquisition(dump.root / "dump") as acq:
        meta = acq.metadata()
    assert (meta["ios_version"], meta["build"], meta["product_type"]) == ("16.6", "20G75", "iPhone12,8")


def test_collected_is_the_latest_file_time_and_never_in_the_future(dump: DumpBuilder) -> None:
    from datetime import UTC, datetime

    dump.add_file("/private/var/mobile/Library/Logs/late.log", b"x", when=datetime(2024, 5, 2, tzinfo=UTC))
    dump.add_file("/private/var/mobile/Library/Logs/future.log", b"x", when=datetime(2999, 1, 1, tzinfo=UTC))
    with open_acquisition(dump.finish("tar")) as acq:
        assert acq.collected() == datetime(2024, 5, 2, tzinfo=UTC)


@pytest.mark.parametrize("what", ["backup", "macos", "random", "var-without-mobile"])
def test_other_folders_are_not_dumps(tmp_path: Path, what: str) -> None:
    root = tmp_path / what
    if what == "backup":
        builder = BackupBuilder(root)
        builder.add_file("HomeDomain", "Library/SMS/sms.db", b"x")
        builder.finish()
    elif what == "macos":
        path = root / "System" / "Library" / "CoreServices" / "SystemVersion.plist"
        path.parent.mkdir(parents=True)
        path.write_bytes(plistlib.dumps({"ProductName": "macOS", "ProductVersion": "14.4"}))
        (root / "private" / "var" / "root").mkdir(parents=True)
    elif what == "random":
        (root / "photos").mkdir(parents=True)
        (root / "photos" / "a.jpg").write_bytes(b"\xff\xd8")
    else:
        (root / "var" / "log").mkdir(parents=True)
        (root / "var" / "log" / "syslog").write_text("x")
    assert "ios-fs" not in [cls.kind for cls, _ in recognise(root)]


def test_forcing_the_kind_on_something_else_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("hello")
    with pytest.raises(AcquisitionError, match="not an iOS full-filesystem dump"):
        open_acquisition(tmp_path / "x", kind="ios-fs")


def test_layout_from_archive_names() -> None:
    assert find_layout(["dump/", "dump/private/", "dump/private/var/mobile/Library/x"]) == ("dump/", "root")
    assert find_layout(["var/mobile/Library/SMS/sms.db"]) == ("", "root")
    assert find_layout(["Applications/MobileSMS.app/Info.plist"]) == ("", "root")
    assert find_layout(["a/b/c/d/private/var/mobile/x"]) is None  # deeper than three wrapping folders
    assert find_layout(["mobile/Library/x", "root/Library/y"]) == ("", "var")
    assert find_layout(["mobile/Library/x", "photos/y"]) is None
    assert find_layout(["sysdiagnose_2024/logs/x.log", "README"]) is None


@pytest.mark.parametrize("form", ["folder", "tar.gz", "zip"])
def test_reading_the_dump_never_changes_it(dump: DumpBuilder, form: str, tmp_path: Path) -> None:
    from unmask.api import check

    evidence = _build(dump, form)
    files = sorted(p for p in (evidence.rglob("*") if evidence.is_dir() else [evidence]) if p.is_file())
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    check(evidence, output=tmp_path / "out", screen=False)
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    assert before == after and before
