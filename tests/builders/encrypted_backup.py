"""Write real encrypted iOS backups in code: any content the plain builder makes, encrypted.

:func:`encrypt_backup` turns a plain backup folder (from :class:`~tests.builders.ios_backup.BackupBuilder`,
:func:`~tests.builders.sample.build_sample`, or the benchmark generator) into an encrypted one the
way iOS writes it (the format as publicly described, see :mod:`unmask.formats.backup_crypto`):

- a backup keybag in ``Manifest.plist`` ``BackupKeyBag``: tag-length-value blocks VERS, TYPE,
  UUID, HMCK, WRAP, SALT, ITER, DPWT, DPIC, DPSL, then per class UUID, CLAS, WRAP, KTYP, WPKY;
- the passcode key: PBKDF2-HMAC-SHA256 of the password (DPSL, DPIC), then PBKDF2-HMAC-SHA1 of that
  (SALT, ITER); each class key wrapped with it (RFC 3394);
- ``ManifestKey`` (4-byte little-endian class + the wrapped key of Manifest.db) and Manifest.db
  itself encrypted;
- every stored file encrypted with a fresh key (AES-256-CBC, zero IV, PKCS#7), the key wrapped
  with its class key and kept in the row's MBFile as ``EncryptionKey`` (NSData: 4-byte class +
  wrapped key) next to ``ProtectionClass``; empty files are stored empty, without a key.

Iteration counts are arguments: tests use small ones, :data:`REAL_DPIC` and :data:`REAL_ITER` are
what current iOS writes. Arguments also break things on purpose: classes whose key the password
does not unwrap, classes wrapped with the device key only, classes missing from the keybag, bad
wrapped keys, Manifest sizes that disagree with the content.

The passcode key is derived with :func:`hashlib.pbkdf2_hmac`, not with the reader's library, and
the output is cross-checked against the independent decryptor iphone-backup-decrypt in the tests.
"""

from __future__ import annotations

import hashlib
import os
import plistlib
import shutil
import sqlite3
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import keywrap, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.builders.ios_backup import BackupBuilder

REAL_DPIC = 10_000_000
REAL_ITER = 10_000
FILE_CLASSES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
"""The protection classes a backup keybag holds keys for."""
_SQLITE_BLOB_CAP = 100 * 1024


@dataclass(frozen=True)
class Encrypted:
    """An encrypted backup on disk and what opens it."""

    root: Path
    password: str
    passcode_key: bytes = field(repr=False)
    manifest_class: int
    classes: tuple[int, ...]


def _tlv(tag: bytes, value: bytes | int) -> bytes:
    data = struct.pack(">I", value) if isinstance(value, int) else value
    return tag + struct.pack(">I", len(data)) + data


def _cbc(key: bytes, data: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def passcode_key(password: str, salt: bytes, iterations: int, dpsl: bytes, dpic: int) -> bytes:
    """The key that wraps the class keys (hashlib's PBKDF2, independent of the reader's)."""
    first = hashlib.pbkdf2_hmac("sha256", password.encode(), dpsl, dpic, 32)
    return hashlib.pbkdf2_hmac("sha1", first, salt, iterations, 32)


def _with_key(blob: bytes, protection: int, key_data: bytes | None, size: int | None) -> bytes:
    """An MBFile archive with ``EncryptionKey`` (an NSMutableData object) and ``ProtectionClass``."""
    archive = plistlib.loads(blob)
    objects: list[Any] = archive["$objects"]
    root = objects[archive["$top"]["root"].data]
    root["ProtectionClass"] = protection
    if size is not None:
        root["Size"] = size
    if key_data is not None:
        objects.append({"$classes": ["NSMutableData", "NSData", "NSObject"], "$classname": "NSMutableData"})
        objects.append({"$class": plistlib.UID(len(objects) - 1), "NS.data": key_data})
        root["EncryptionKey"] = plistlib.UID(len(objects) - 1)
    return plistlib.dumps(archive, fmt=plistlib.FMT_BINARY)


def encrypt_backup(
    src: Path,
    dest: Path,
    *,
    password: str = "correct horse",
    iterations: int = 10,
    dpic: int = 10,
    classes: Iterable[int] = FILE_CLASSES,
    manifest_class: int = 4,
    class_of: Callable[[str, str], int | None] | None = None,
    foreign_classes: Iterable[int] = (),
    device_only_classes: Iterable[int] = (),
    bad_keys: Iterable[tuple[str, str]] = (),
    sizes: Mapping[tuple[str, str], int] | None = None,
    keybag_type: int = 1,
    keybag_version: int = 4,
    global_wrap: int = 0,
    dpwt: int = 1,
    seed: bytes | None = None,
) -> Encrypted:
    """Write an encrypted copy of the plain backup ``src`` into ``dest`` (created; must not exist).

    ``class_of(domain, relativePath)`` chooses a file's protection class (default: the class its
    MBFile records, 3 from the plain builder). ``foreign_classes`` are wrapped with another key
    (the password does not unwrap them), ``device_only_classes`` have WRAP=1 (device UID only), and
    a file whose class is not in ``classes`` is encrypted with a key the keybag does not hold.
    ``bad_keys`` get a corrupted wrapped key; ``sizes`` records other sizes in the MBFile than the
    content's. ``seed`` makes keys and salts reproducible (benchmarks cache the result).
    """
    counter = [0]

    def rand(n: int) -> bytes:
        if seed is None:
            return os.urandom(n)
        counter[0] += 1
        return (
            hashlib.sha256(seed + counter[0].to_bytes(8, "big")).digest()[:n]
            if n <= 32
            else (rand(32) + rand(n - 32))
        )

    classes = tuple(classes)
    foreign, device_only = set(foreign_classes), set(device_only_classes)
    bad = set(bad_keys)
    sizes = dict(sizes or {})
    salt, dpsl = rand(20), rand(20)
    pkey = passcode_key(password, salt, iterations, dpsl, dpic)
    class_keys = {c: rand(32) for c in classes}
    keybag = b"".join(
        [
            _tlv(b"VERS", keybag_version),
            _tlv(b"TYPE", keybag_type),
            _tlv(b"UUID", rand(16)),
            _tlv(b"HMCK", rand(40)),
            _tlv(b"WRAP", global_wrap),
            _tlv(b"SALT", salt),
            _tlv(b"ITER", iterations),
            _tlv(b"DPWT", dpwt),
            _tlv(b"DPIC", dpic),
            _tlv(b"DPSL", dpsl),
        ]
    )
    for c in classes:
        wrapping = rand(32) if c in foreign or c in device_only else pkey
        keybag += b"".join(
            [
                _tlv(b"UUID", rand(16)),
                _tlv(b"CLAS", c),
                _tlv(b"WRAP", 1 if c in device_only else 2),
                _tlv(b"KTYP", 0),
                _tlv(b"WPKY", keywrap.aes_key_wrap(wrapping, class_keys[c])),
            ]
        )

    def class_key(c: int) -> bytes:
        return class_keys.get(c) or hashlib.sha256(b"not in the keybag" + bytes([c])).digest()

    dest.mkdir(parents=True)
    scratch = dest / ".Manifest.plain.db"
    shutil.copyfile(src / "Manifest.db", scratch)
    conn = sqlite3.connect(scratch)
    rows = conn.execute("SELECT fileID, domain, relativePath, flags, file FROM Files").fetchall()
    updates: list[tuple[bytes, str]] = []
    for fid, domain, rel, flags, blob in rows:
        if flags != 1 or not isinstance(blob, bytes):
            continue
        source = src / fid[:2] / fid
        data = source.read_bytes() if source.is_file() else None
        fields = plistlib.loads(blob)
        recorded_class = fields["$objects"][fields["$top"]["root"].data].get("ProtectionClass", 3)
        chosen = class_of(domain, rel) if class_of is not None else None
        clas = chosen if chosen is not None else recorded_class
        key_data = None
        if data is None or data:
            file_key = rand(32)
            wrapped = keywrap.aes_key_wrap(class_key(clas), file_key)
            if (domain, rel) in bad:
                wrapped = wrapped[:8] + bytes(b ^ 0x5A for b in wrapped[8:16]) + wrapped[16:]
            key_data = struct.pack("<I", clas) + wrapped
            if data is not None:
                target = dest / fid[:2] / fid
                target.parent.mkdir(exist_ok=True)
                target.write_bytes(_cbc(file_key, data))
        elif data is not None:  # empty: stored empty, no key, as iOS does
            (dest / fid[:2]).mkdir(exist_ok=True)
            (dest / fid[:2] / fid).write_bytes(b"")
        new_blob = _with_key(blob, clas, key_data, sizes.get((domain, rel)))
        assert len(new_blob) < _SQLITE_BLOB_CAP
        updates.append((new_blob, fid))
    conn.executemany("UPDATE Files SET file = ? WHERE fileID = ?", updates)
    conn.commit()
    conn.close()
    manifest_key = rand(32)
    (dest / "Manifest.db").write_bytes(_cbc(manifest_key, scratch.read_bytes()))
    scratch.unlink()
    manifest = plistlib.loads((src / "Manifest.plist").read_bytes())
    manifest["IsEncrypted"] = True
    manifest["BackupKeyBag"] = keybag
    manifest["ManifestKey"] = struct.pack("<I", manifest_class) + keywrap.aes_key_wrap(
        class_key(manifest_class), manifest_key
    )
    (dest / "Manifest.plist").write_bytes(plistlib.dumps(manifest, fmt=plistlib.FMT_BINARY))
    for name in ("Info.plist", "Status.plist"):
        if (src / name).is_file():
            shutil.copyfile(src / name, dest / name)
    return Encrypted(dest, password, pkey, manifest_class, classes)


@dataclass
class EncryptedBackupBuilder(BackupBuilder):
    """:class:`BackupBuilder`, written encrypted: add files as to the plain builder, then
    :meth:`finish_encrypted` (or :meth:`finish`) encrypts them with :func:`encrypt_backup`'s
    arguments, given here as ``options``."""

    password: str = "correct horse"
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._target = self.root
        self.root = self.root.parent / f".{self.root.name}-plain"
        super().__post_init__()

    def finish_encrypted(self) -> Encrypted:
        """Write the plain backup aside, encrypt it into the target folder, drop the plain one."""
        plain = super().finish()
        try:
            return encrypt_backup(plain, self._target, password=self.password, **self.options)
        finally:
            shutil.rmtree(plain, ignore_errors=True)

    def finish(self) -> Path:
        """:meth:`finish_encrypted`, returning the folder."""
        return self.finish_encrypted().root
