"""Encrypted iOS backups read directly: the builder against an independent decryptor, the reader,
what cannot be decrypted, sizes that disagree, and plain backups that say IsEncrypted."""

from __future__ import annotations

import os
import plistlib
import sqlite3
import stat
from pathlib import Path

import pytest

from tests.builders.encrypted_backup import EncryptedBackupBuilder, encrypt_backup
from tests.builders.ios_backup import BackupBuilder
from tests.builders.sample import build_sample
from unmask import api
from unmask.acquisition import OpenOptions, open_acquisition, open_ios_backup
from unmask.acquisition.ios_backup import EncryptedIOSBackup, IOSBackup, device_path
from unmask.errors import EncryptedBackupError, UsageError, WrongPasswordError
from unmask.formats.backup_crypto import write_key_file
from unmask.model import Status

PASSWORD = "Sécret passphrase 1"
FILES = {
    ("HomeDomain", "Library/SMS/sms.db"): b"SQLite format 3\x00" + bytes(range(256)) * 40,
    ("HomeDomain", "Library/Preferences/a.plist"): plistlib.dumps({"a": 1}),
    ("HomeDomain", "Library/exact16"): b"0123456789abcdef",
    ("MediaDomain", "Media/big.bin"): os.urandom((1 << 20) * 2 + 17),
    ("AppDomain-com.example", "Documents/empty"): b"",
    ("RootDomain", "Library/one"): b"1",
}


def _options(password: str = PASSWORD, **kwargs: object) -> OpenOptions:
    return OpenOptions(password=lambda: password, **kwargs)  # type: ignore[arg-type]


def _build(tmp_path: Path, name: str = "enc", files: dict[tuple[str, str], bytes] = FILES, **options: object):  # type: ignore[no-untyped-def]
    builder = EncryptedBackupBuilder(tmp_path / name, password=PASSWORD, options=options)
    for (domain, rel), data in files.items():
        builder.add_file(domain, rel, data)
    builder.add_dir("HomeDomain", "Library")
    return builder.finish_encrypted()


def test_builder_output_decrypts_with_the_independent_decryptor_and_unmask_alike(tmp_path: Path) -> None:
    from iphone_backup_decrypt import EncryptedBackup  # MIT, PyPI: pycryptodome, its own keybag code

    enc = _build(tmp_path)
    other = EncryptedBackup(backup_directory=str(enc.root), passphrase=PASSWORD)
    other.save_manifest_file(str(tmp_path / "their-Manifest.db"))
    with open_acquisition(enc.root, options=_options()) as acq:
        assert isinstance(acq, EncryptedIOSBackup) and acq.kind == "ios-backup"
        assert acq.manifest_db_path.read_bytes() == (tmp_path / "their-Manifest.db").read_bytes()
        for (domain, rel), data in FILES.items():
            mine = acq.read_bytes(device_path(domain, rel))
            assert mine == data
            if data:  # iphone-backup-decrypt refuses files stored without a key ("not an encrypted file")
                assert other.extract_file_as_bytes(rel, domain_like=domain) == mine
    # The same passcode key opens it in both (what a key file holds).
    again = EncryptedBackup(backup_directory=str(enc.root), passphrase_key=enc.passcode_key)
    assert again.extract_file_as_bytes("Library/one", domain_like="RootDomain") == b"1"


def test_plaintext_exists_only_in_the_private_folder_and_goes_with_close(tmp_path: Path) -> None:
    enc = _build(tmp_path)
    acq = open_acquisition(enc.root, options=_options())
    sms = device_path("HomeDomain", "Library/SMS/sms.db")
    assert acq.local_path(sms) is None
    copy = acq.materialize(sms)
    workdir = acq.workdir
    assert copy.parent == workdir and stat.S_IMODE(workdir.stat().st_mode) == 0o700
    assert (
        stat.S_IMODE(copy.stat().st_mode) == 0o600
        and copy.read_bytes() == FILES[("HomeDomain", "Library/SMS/sms.db")]
    )
    assert stat.S_IMODE(acq.manifest_db_path.stat().st_mode) == 0o600
    assert acq.sha256(sms) is not None
    acq.close()
    assert not workdir.exists()


def test_hashes_evidence_as_stored_and_artefacts_as_decrypted(tmp_path: Path) -> None:
    import hashlib

    enc = _build(tmp_path)
    with open_acquisition(enc.root, options=_options()) as acq:
        path = device_path("MediaDomain", "Media/big.bin")
        assert acq.sha256(path) == hashlib.sha256(FILES[("MediaDomain", "Media/big.bin")]).hexdigest()
        hashes = acq.evidence_hashes()
        assert hashes["Manifest.db"] == hashlib.sha256((enc.root / "Manifest.db").read_bytes()).hexdigest()
        assert acq.host_sha256("Manifest.db") == hashlib.sha256(acq.manifest_db_path.read_bytes()).hexdigest()


def test_wrong_password_and_missing_password_are_clear_and_leave_nothing(tmp_path: Path) -> None:
    enc = _build(tmp_path)
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("unmask-evidence-*"))
    with pytest.raises(WrongPasswordError, match="does not open") as err:
        open_acquisition(enc.root, options=_options("Zx9-guess"))
    assert "Zx9" not in str(err.value)
    with pytest.raises(EncryptedBackupError, match="give its password"):
        open_acquisition(enc.root)
    assert set(Path(os.environ.get("TMPDIR", "/tmp")).glob("unmask-evidence-*")) == before


def test_key_file_skips_the_password(tmp_path: Path) -> None:
    enc = _build(tmp_path)
    key = tmp_path / "k"
    write_key_file(key, enc.passcode_key)

    def never() -> str:
        raise AssertionError("the password was asked for")

    with open_acquisition(enc.root, options=OpenOptions(password=never, key_file=key)) as acq:
        assert acq.read_bytes(device_path("RootDomain", "Library/one")) == b"1"
        assert acq.metadata()["decryption"]["key_from"] == "key file"
    write_key_file(tmp_path / "other", os.urandom(32))
    with pytest.raises(WrongPasswordError, match="key file"):
        open_acquisition(enc.root, options=OpenOptions(key_file=tmp_path / "other"))
    (tmp_path / "junk").write_text("nope")
    with pytest.raises(UsageError, match="not a backup key file"):
        open_acquisition(enc.root, options=OpenOptions(key_file=tmp_path / "junk"))


def test_status_is_told_before_deriving(tmp_path: Path) -> None:
    enc = _build(tmp_path)
    said: list[str] = []
    with open_acquisition(enc.root, options=_options(on_status=said.append)):
        pass
    assert said and "PBKDF2" in said[0]


def test_a_backup_decrypted_by_another_tool_is_read_as_plain(tmp_path: Path) -> None:
    """IsEncrypted true, keybag kept, plaintext Manifest.db and files: MVT's decrypt-backup output."""
    from iphone_backup_decrypt import EncryptedBackup

    enc = _build(tmp_path)
    copy = tmp_path / "copy"
    copy.mkdir()
    EncryptedBackup(backup_directory=str(enc.root), passphrase=PASSWORD).save_manifest_file(
        str(copy / "Manifest.db")
    )
    for name in ("Info.plist", "Manifest.plist", "Status.plist"):
        (copy / name).write_bytes((enc.root / name).read_bytes())
    with sqlite3.connect(copy / "Manifest.db") as conn:
        rows = conn.execute("SELECT fileID, domain, relativePath FROM Files WHERE flags = 1").fetchall()
    for fid, domain, rel in rows:
        (copy / fid[:2]).mkdir(exist_ok=True)
        (copy / fid[:2] / fid).write_bytes(FILES[(domain, rel)])
    assert plistlib.loads((copy / "Manifest.plist").read_bytes())["IsEncrypted"] is True

    def never() -> str:
        raise AssertionError("a plain copy needs no password")

    with open_ios_backup(copy, OpenOptions(password=never)) as acq:
        assert type(acq) is IOSBackup
        assert acq.read_bytes(device_path("HomeDomain", "Library/exact16")) == b"0123456789abcdef"
        assert acq.metadata()["encrypted"] is False


def test_a_size_that_disagrees_with_the_manifest_is_read_whole_and_noted(tmp_path: Path) -> None:
    files = {("HomeDomain", "Library/SMS/sms.db"): build_sms(tmp_path)}
    enc = _build(tmp_path, files=files, sizes={("HomeDomain", "Library/SMS/sms.db"): 4096})
    result = api.check(enc.root, options=_options(), screen=False)
    meta = result.metadata["decryption"]
    real = len(files[("HomeDomain", "Library/SMS/sms.db")])
    assert (
        meta["size_disagreements"]
        == [
            {
                "device_path": "/private/var/mobile/Library/SMS/sms.db",
                "file_id": meta["size_disagreements"][0]["file_id"],
                "recorded_size": 4096,
                "decrypted_size": real,
            }
        ]
        and meta["size_disagreements_count"] == 1
    )
    sms = next(c for c in result.coverage if c.parser == "sms")
    assert sms.status is Status.PARSED and len(result.records["sms"]) == 3
    assert any("records 4096; read whole" in w for w in sms.warnings)


def build_sms(tmp_path: Path) -> bytes:
    """A real sms.db (iOS 12 schema) with three messages, bigger than 4096 bytes."""
    from tests.builders.sample import _db

    path = tmp_path / "sms-src.db"
    conn = _db(path, "ios/sms.db/ios12.sql")
    conn.execute("INSERT INTO handle (ROWID, id, service) VALUES (1, '+41790000000', 'SMS')")
    conn.executemany(
        "INSERT INTO message (ROWID, guid, text, handle_id, service, date, is_from_me) VALUES (?,?,?,?,?,?,?)",
        [(i, f"G{i}", f"hello {i}", 1, "SMS", 700000000 * 10**9, 0) for i in (1, 2, 3)],
    )
    conn.commit()
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"foreign_classes": (2,)}, "protection class 2: its key did not unwrap with the backup password"),
        (
            {"device_only_classes": (2,)},
            "protection class 2: its key is wrapped with the device's UID key only",
        ),
        ({"classes": (1, 3, 4)}, "protection class 2: the keybag has no key for this class"),
        ({"bad_keys": (("HomeDomain", "Library/SMS/sms.db"),)}, "integrity check"),
    ],
    ids=["not-unlocked-by-password", "device-only", "class-missing", "bad-wrapped-key"],
)
def test_a_file_that_cannot_be_decrypted_fails_its_parser_and_the_scan_goes_on(
    tmp_path: Path, options: dict[str, object], why: str
) -> None:
    sample = build_sample(tmp_path / "plain", messages=5, visits=5, filler_files=10, whatsapp=3)
    enc = encrypt_backup(
        sample.root,
        tmp_path / "enc",
        password=PASSWORD,
        class_of=lambda domain, rel: 2 if rel == "Library/SMS/sms.db" else None,
        **options,  # type: ignore[arg-type]
    )
    result = api.check(enc.root, options=_options(), screen=False)
    sms = next(c for c in result.coverage if c.parser == "sms")
    assert sms.status is Status.FAILED and why in (sms.reason or "")
    others = {c.parser: c.status for c in result.coverage}
    assert others["safari_history"] is Status.PARSED and others["manifest"] is Status.PARSED
    assert others["whatsapp"] is Status.PARSED
    listed = result.metadata["decryption"]["files_not_decrypted"]
    assert any(
        f["device_path"] == "/private/var/mobile/Library/SMS/sms.db" and why in f["reason"] for f in listed
    )
    assert result.metadata["decryption"]["files_not_decrypted_count"] == len(listed)
    assert {"ios/safari_history/visit", "ios/whatsapp/message"} <= {f.source for f in result.findings}


def test_manifest_class_not_unlocked_is_an_acquisition_error(tmp_path: Path) -> None:
    enc = _build(tmp_path, foreign_classes=(4,))
    with pytest.raises(EncryptedBackupError, match=r"Manifest\.db cannot be decrypted"):
        open_acquisition(enc.root, options=_options())


def test_damaged_manifest_db_or_keybag_is_an_acquisition_error(tmp_path: Path) -> None:
    enc = _build(tmp_path)
    data = bytearray((enc.root / "Manifest.db").read_bytes())
    data[-1] ^= 0xFF
    (enc.root / "Manifest.db").write_bytes(bytes(data))
    with pytest.raises(EncryptedBackupError, match=r"cannot be decrypted|did not decrypt"):
        open_acquisition(enc.root, options=_options())
    manifest = plistlib.loads((enc.root / "Manifest.plist").read_bytes())
    manifest["BackupKeyBag"] = b"garbage"
    (enc.root / "Manifest.plist").write_bytes(plistlib.dumps(manifest))
    with pytest.raises(EncryptedBackupError, match="keybag"):
        open_acquisition(enc.root, options=_options())


def test_direct_construction_of_the_plain_class_refuses_encrypted_content(tmp_path: Path) -> None:
    enc = _build(tmp_path)
    with pytest.raises(EncryptedBackupError, match="not SQLite"):
        IOSBackup(enc.root)


def test_plain_backups_say_they_are_not_encrypted(backup: BackupBuilder) -> None:
    with open_ios_backup(backup.finish()) as acq:
        assert acq.metadata()["encrypted"] is False and "encryption_note" not in acq.metadata()
