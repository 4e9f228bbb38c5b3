from __future__ import annotations

from datetime import UTC, datetime

from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.manifest import ManifestFile, ManifestParser, web_origin_hosts


def test_rows_become_device_paths_with_metadata(backup: BackupBuilder) -> None:
    when = datetime(2023, 5, 4, 3, 2, 1, tzinfo=UTC)
    backup.add_file("HomeDomain", "Library/SMS/sms.db", b"x" * 10, when=when)
    backup.add_file("AppDomain-com.example.app", "Library/Caches/foo.bin", b"", stored=False)
    backup.add_dir("RootDomain", "Library")
    records, cov = run(ManifestParser, backup.finish())
    assert cov.status is Status.PARSED
    by_path = {r.path: r for r in records if isinstance(r, ManifestFile)}
    sms = by_path["/private/var/mobile/Library/SMS/sms.db"]
    assert (sms.size, sms.modified, sms.file_kind, sms.stored) == (10, when, "file", True)
    assert sms.mode is not None and sms.mode & 0o170000 == 0o100000
    app = by_path["/private/var/mobile/Containers/Data/Application/com.example.app/Library/Caches/foo.bin"]
    assert app.stored is False
    assert by_path["/private/var/root/Library"].file_kind == "dir"


def test_paths_and_names_are_observables(backup: BackupBuilder) -> None:
    backup.add_file("RootDomain", "Library/Caches/locationd/clients.plist", b"x")
    records, _ = run(ManifestParser, backup.finish())
    obs = {(o.type, o.value) for r in records for o in observables_of(r)}
    assert (Obs.FILE_PATH, "/private/var/root/Library/Caches/locationd/clients.plist") in obs
    assert (Obs.FILE_NAME, "clients.plist") in obs


def test_webkit_origin_folders_yield_hosts() -> None:
    assert web_origin_hosts(
        "Library/WebKit/WebsiteData/LocalStorage/https_evil.example.com_0.localstorage"
    ) == ("evil.example.com",)
    assert web_origin_hosts("Library/WebKit/WebsiteData/IndexedDB/v1/http_a.b.net_8080/x") == ("a.b.net",)
    assert web_origin_hosts("Library/Preferences/com_apple_foo_1.plist") == ()


def test_garbage_metadata_blob_does_not_stop_parsing(backup: BackupBuilder) -> None:
    backup.add_file("HomeDomain", "Library/a.txt", b"a")
    root = backup.finish()
    import sqlite3

    conn = sqlite3.connect(root / "Manifest.db")
    conn.execute("UPDATE Files SET file = ?", (b"\x00garbage",))
    conn.commit()
    conn.close()
    records, cov = run(ManifestParser, root)
    assert cov.status is Status.PARSED
    assert len(records) == 1 and isinstance(records[0], ManifestFile) and records[0].size is None
    assert cov.warnings
