from __future__ import annotations

import plistlib
import sqlite3
from pathlib import Path

import pytest

from tests.builders.ios_backup import BackupBuilder, file_id
from unmask.acquisition import open_ios_backup
from unmask.acquisition.ios_backup import device_path
from unmask.errors import AcquisitionError, EncryptedBackupError


@pytest.mark.parametrize(
    ("domain", "rel", "expected"),
    [
        ("HomeDomain", "Library/SMS/sms.db", "/private/var/mobile/Library/SMS/sms.db"),
        (
            "RootDomain",
            "Library/Caches/locationd/clients.plist",
            "/private/var/root/Library/Caches/locationd/clients.plist",
        ),
        (
            "WirelessDomain",
            "Library/Databases/DataUsage.sqlite",
            "/private/var/wireless/Library/Databases/DataUsage.sqlite",
        ),
        (
            "MediaDomain",
            "Library/SMS/Attachments/a/b.jpg",
            "/private/var/mobile/Library/SMS/Attachments/a/b.jpg",
        ),
        (
            "CameraRollDomain",
            "Media/DCIM/100APPLE/IMG_1.HEIC",
            "/private/var/mobile/Media/DCIM/100APPLE/IMG_1.HEIC",
        ),
        (
            "ManagedPreferencesDomain",
            "mobile/.GlobalPreferences.plist",
            "/private/var/Managed Preferences/mobile/.GlobalPreferences.plist",
        ),
        (
            "SystemPreferencesDomain",
            "SystemConfiguration/preferences.plist",
            "/private/var/preferences/SystemConfiguration/preferences.plist",
        ),
        ("KeychainDomain", "keychain-backup.plist", "/private/var/Keychains/keychain-backup.plist"),
        (
            "AppDomain-com.google.chrome.ios",
            "Library/x",
            "/private/var/mobile/Containers/Data/Application/com.google.chrome.ios/Library/x",
        ),
        (
            "AppDomainGroup-group.net.whatsapp.WhatsApp.shared",
            "ChatStorage.sqlite",
            "/private/var/mobile/Containers/Shared/AppGroup/group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite",
        ),
        (
            "AppDomainPlugin-com.apple.share",
            "Library/y",
            "/private/var/mobile/Containers/Data/PluginKitPlugin/com.apple.share/Library/y",
        ),
        (
            "SysContainerDomain-com.apple.x",
            "Library/z",
            "/private/var/containers/Data/System/com.apple.x/Library/z",
        ),
        (
            "SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles",
            "Library/p",
            "/private/var/containers/Shared/SystemGroup/systemgroup.com.apple.configurationprofiles/Library/p",
        ),
        ("HomeDomain", "", "/private/var/mobile"),
    ],
)
def test_domains_map_to_device_paths(domain: str, rel: str, expected: str) -> None:
    assert device_path(domain, rel) == expected


def test_file_ids_and_stored_content(backup: BackupBuilder) -> None:
    backup.add_file("HomeDomain", "Library/SMS/sms.db", b"content")
    backup.add_file("HomeDomain", "Library/notstored.db", b"", stored=False)
    acq = open_ios_backup(backup.finish())
    assert file_id("HomeDomain", "Library/SMS/sms.db") == "3d0d7e5fb2ce288813306e4d4636395e047a3d28"
    assert acq.read_bytes("/private/var/mobile/Library/SMS/sms.db") == b"content"
    assert acq.read_bytes("/var/mobile/Library/SMS/sms.db") == b"content"  # /var is /private/var
    assert acq.entry("/private/var/mobile/Library/notstored.db") is not None
    assert not acq.exists("/private/var/mobile/Library/notstored.db")
    assert acq.metadata()["files_missing"] == 1


def test_a_file_whose_bucket_folder_is_missing_is_missing_not_refused(backup: BackupBuilder) -> None:
    # A trimmed or interrupted copy (MVT's own test backup keeps 12 of its buckets): the file is
    # listed but not stored, as when its bucket holds other files; only a bucket made a link is refused.
    import shutil

    backup.add_file("HomeDomain", "Library/SMS/sms.db", b"content")
    backup.add_file("HomeDomain", "Library/CallHistoryDB/CallHistory.storedata", b"calls")
    root = backup.finish()
    shutil.rmtree(root / file_id("HomeDomain", "Library/CallHistoryDB/CallHistory.storedata")[:2])
    acq = open_ios_backup(root)
    path = "/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata"
    assert acq.entry(path) is not None and not acq.exists(path)
    assert acq.read_bytes("/private/var/mobile/Library/SMS/sms.db") == b"content"
    assert acq.refused == {}


def test_stat_decodes_manifest_metadata(backup: BackupBuilder) -> None:
    from tests.builders.ios_backup import DEFAULT_TIME

    backup.add_file("HomeDomain", "Library/SMS/sms.db", b"12345")
    acq = open_ios_backup(backup.finish())
    entry = acq.stat("/private/var/mobile/Library/SMS/sms.db")
    assert entry is not None
    assert (entry.size, entry.modified, entry.birth) == (5, DEFAULT_TIME, DEFAULT_TIME)
    assert entry.mode is not None and entry.mode & 0o170000 == 0o100000
    assert acq.stat("/private/var/mobile/nothing") is None


def test_glob_within_and_across_components(backup: BackupBuilder) -> None:
    backup.add_file("AppDomain-com.a", "Library/Safari/History.db", b"1")
    backup.add_file("AppDomain-com.b", "Library/Deep/Er/Safari/History.db", b"2")
    acq = open_ios_backup(backup.finish())
    one = acq.glob("/private/var/mobile/Containers/Data/Application/*/Library/Safari/History.db")
    assert one == ["/private/var/mobile/Containers/Data/Application/com.a/Library/Safari/History.db"]
    assert len(acq.glob("/private/var/**/History.db")) == 2
    assert len(acq.glob("/private/var/mobile/Containers/Data/Application/*/Library/**/*.db")) == 2


def test_a_folder_holding_one_backup_is_accepted(tmp_path: Path) -> None:
    BackupBuilder(tmp_path / "outer" / "00008110-XYZ").finish()
    assert open_ios_backup(tmp_path / "outer").root.name == "00008110-XYZ"


def test_not_a_backup(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(AcquisitionError, match="not an iOS backup"):
        open_ios_backup(tmp_path / "empty")
    with pytest.raises(AcquisitionError, match="does not exist"):
        open_ios_backup(tmp_path / "nowhere")


def test_is_encrypted_flag_with_plain_manifest_is_read_as_plain(make_backup) -> None:  # type: ignore[no-untyped-def]
    # A backup decrypted by another tool (MVT's decrypt-backup) keeps IsEncrypted: true.
    root = make_backup(encrypted=True).finish()
    with open_ios_backup(root) as acq:
        assert type(acq).__name__ == "IOSBackup"
        meta = acq.metadata()
        assert meta["encrypted"] is False and "decrypted by another tool" in meta["encryption_note"]


def test_manifest_db_not_sqlite_without_keybag_is_refused_clearly(make_backup) -> None:  # type: ignore[no-untyped-def]
    root = make_backup().finish()
    (root / "Manifest.db").write_bytes(b"\x8a\x11" * 4096)
    with pytest.raises(EncryptedBackupError, match="no BackupKeyBag"):
        open_ios_backup(root)


def test_garbage_manifest_plist_is_an_acquisition_error(backup: BackupBuilder) -> None:
    root = backup.finish()
    (root / "Manifest.plist").write_bytes(b"garbage")
    with pytest.raises(AcquisitionError, match=r"Manifest\.plist"):
        open_ios_backup(root)


def test_manifest_rows_with_nulls_are_tolerated(backup: BackupBuilder) -> None:
    backup.add_file("HomeDomain", "Library/a", b"a")
    root = backup.finish()
    conn = sqlite3.connect(root / "Manifest.db")
    conn.execute("INSERT INTO Files VALUES ('ffff', NULL, NULL, NULL, NULL)")
    conn.execute("INSERT INTO Files VALUES ('eeee', 'HomeDomain', NULL, 99, x'00')")
    conn.commit()
    conn.close()
    acq = open_ios_backup(root)
    assert {e.device_path for e in acq.entries()} == {"/private/var/mobile/Library/a", "/private/var/mobile"}
    info = plistlib.loads((root / "Info.plist").read_bytes())
    assert info["Product Version"] == acq.metadata()["ios_version"]


def test_fifos_links_and_odd_file_ids_are_not_content(backup: BackupBuilder, tmp_path: Path) -> None:
    import os

    backup.add_file("HomeDomain", "Library/SMS/sms.db", b"x")
    backup.add_file("HomeDomain", "Library/link.db", b"y")
    root = backup.finish()
    sms = root / file_id("HomeDomain", "Library/SMS/sms.db")[:2] / file_id("HomeDomain", "Library/SMS/sms.db")
    sms.unlink()
    os.mkfifo(sms)  # opening it would block forever
    link = root / file_id("HomeDomain", "Library/link.db")[:2] / file_id("HomeDomain", "Library/link.db")
    link.unlink()
    (tmp_path / "outside.db").write_bytes(b"secret")
    link.symlink_to(tmp_path / "outside.db")
    acq = open_ios_backup(root)
    assert acq.local_path("/private/var/mobile/Library/SMS/sms.db") is None
    assert acq.local_path("/private/var/mobile/Library/link.db") is None
    with pytest.raises(FileNotFoundError):
        acq.read_bytes("/private/var/mobile/Library/SMS/sms.db")


def test_invalid_utf8_in_manifest_rows_is_decoded_leniently(backup: BackupBuilder) -> None:
    backup.add_file("HomeDomain", "Library/a.txt", b"a")
    backup.add_file("HomeDomain", "Library/b.txt", b"b")
    root = backup.finish()
    conn = sqlite3.connect(root / "Manifest.db")
    conn.execute("UPDATE Files SET relativePath = CAST(x'4c6962726172792fff2e747874' AS TEXT) "
                 "WHERE relativePath = 'Library/b.txt'")
    conn.execute("INSERT INTO Files VALUES (CAST(x'ff' AS TEXT), 'HomeDomain', 'Library/c', 1, NULL)")
    conn.commit()
    conn.close()
    acq = open_ios_backup(root)
    paths = {e.device_path for e in acq.entries()}
    assert "/private/var/mobile/Library/a.txt" in paths
    assert "/private/var/mobile/Library/\\xff.txt" in paths
    assert sum(len(batch) for batch in acq.listing()) == 3


def _store(root: Path, fid: str, data: bytes, domain: str, rel: str, flags: int = 1) -> None:
    """Add a row and its stored file by hand, under a file ID of our choosing."""
    (root / fid[:2]).mkdir(exist_ok=True)
    (root / fid[:2] / fid).write_bytes(data)
    conn = sqlite3.connect(root / "Manifest.db")
    conn.execute("INSERT INTO Files VALUES (?, ?, ?, ?, NULL)", (fid, domain, rel, flags))
    conn.commit()
    conn.close()


def test_rows_under_a_file_id_that_is_not_the_sha1_are_still_found(backup: BackupBuilder) -> None:
    root = backup.finish()
    _store(root, "ab" * 20, b"odd id", "HomeDomain", "Library/SMS/sms.db")
    _store(root, "cd" * 20, b"slashes", "HomeDomain", "/Library/Notes/notes.db/")
    acq = open_ios_backup(root)
    assert acq.read_bytes("/private/var/mobile/Library/SMS/sms.db") == b"odd id"
    assert acq.read_bytes("/private/var/mobile/Library/Notes/notes.db") == b"slashes"
    assert acq.entry("/private/var/mobile/Library/SMS/sms.db") is not None
    assert acq.entry("/private/var/mobile/Library/SMS/other.db") is None


def test_domains_sharing_a_folder_resolve_to_the_last_listed_row(backup: BackupBuilder) -> None:
    backup.add_file("MediaDomain", "Library/shared.db", b"media")
    backup.add_file("HomeDomain", "Library/shared.db", b"home")
    root = backup.finish()
    acq = open_ios_backup(root)
    entry = acq.entry("/private/var/mobile/Library/shared.db")
    assert entry is not None and entry.domain == "HomeDomain"
    assert acq.read_bytes("/private/var/mobile/Library/shared.db") == b"home"


def test_globs_cover_container_domains_any_depth_and_skip_folders(backup: BackupBuilder) -> None:
    backup.add_file("AppDomainGroup-group.net.whatsapp.WhatsApp.shared", "ChatStorage.sqlite", b"w")
    backup.add_file("AppDomainGroup-group.other", "ChatStorage.sqlite", b"o")
    backup.add_file("AppDomainGroup-group.other", "deeper/ChatStorage.sqlite", b"d")
    backup.add_file("HomeDomain", "Library/x/y/ChatStorage.sqlite", b"h")
    backup.add_file("SysSharedContainerDomain-systemgroup.com.apple.x", "a[1].db", b"s")
    backup.add_dir("AppDomainGroup-group.dir", "ChatStorage.sqlite")
    root = backup.finish()
    acq = open_ios_backup(root)
    group = "/private/var/mobile/Containers/Shared/AppGroup/"
    assert acq.glob(group + "*/ChatStorage.sqlite") == [
        group + "group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite",
        group + "group.other/ChatStorage.sqlite",
    ]
    assert acq.glob("/private/var/**/ChatStorage.sqlite") == sorted(
        [
            group + "group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite",
            group + "group.other/ChatStorage.sqlite",
            group + "group.other/deeper/ChatStorage.sqlite",
            "/private/var/mobile/Library/x/y/ChatStorage.sqlite",
        ]
    )
    # Brackets in a device-path glob are literal characters (only * ? **/ are wildcards).
    assert acq.glob("/private/var/containers/Shared/SystemGroup/*/a[1].db") == [
        "/private/var/containers/Shared/SystemGroup/systemgroup.com.apple.x/a[1].db"
    ]
    assert acq.glob("/private/var/mobile/Library/x/*/Chat*") == ["/private/var/mobile/Library/x/y/ChatStorage.sqlite"]


def test_globs_reach_rows_of_unknown_domains(backup: BackupBuilder) -> None:
    from unmask.acquisition.ios_backup import UNKNOWN_DOMAIN_ROOT

    backup.add_file("FutureDomain", "Library/x/report.db", b"f")
    root = backup.finish()
    acq = open_ios_backup(root)
    expected = [f"{UNKNOWN_DOMAIN_ROOT}/FutureDomain/Library/x/report.db"]
    assert acq.glob(f"{UNKNOWN_DOMAIN_ROOT}/*/Library/*/report.db") == expected
    assert acq.glob("/private/var/**/report.db") == expected
    assert acq.glob(f"{UNKNOWN_DOMAIN_ROOT}/FutureDomain/Library/x/*.db") == expected
