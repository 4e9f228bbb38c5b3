"""An Android ``adb backup`` file (``.ab``, versions 1 to 5), plain or deflated, and AES-256 encrypted
with a password.

Format (AOSP ``frameworks/base/services/backup/.../BackupManagerService``, ``PerformAdbBackupTask``
and ``UserBackupManagerService.decryptMasterKey``): four text lines ``ANDROID BACKUP``, the format
version (1–5), ``1`` or ``0`` (deflated or not) and ``none`` or ``AES-256``; when encrypted, five
more: the user password salt (hex), the master-key checksum salt (hex), the PBKDF2 rounds, the user
IV (hex) and the encrypted master-key blob (hex). The password gives an AES-256 key by
PBKDF2-HMAC-SHA1 (256 bits, the salt and rounds above); it decrypts the blob (AES-256-CBC, PKCS#7)
into ``[len][master IV][len][master key][len][checksum]``; the checksum is PBKDF2 of the master key
with the checksum salt, the key's bytes first widened as Java ``char`` values and UTF-8 encoded
from version 2 on (the raw bytes in version 1) — a wrong password fails this check. The payload
is then AES-256-CBC with the master key and IV, PKCS#7 padded, deflated (zlib) when flagged, and
is a tar stream: ``apps/<package>/_manifest``, ``apps/<package>/<domain>/<path>`` with domain tokens
``a`` (APK), ``f`` (files), ``db``, ``sp`` (shared_prefs), ``c`` (cache), ``r`` (the data folder),
``nb`` (no_backup), ``d_f``/``d_db``/``d_sp``/``d_c``/``d_r`` (device-protected storage, Android
7+), ``ef`` (external files), ``obb``, and ``shared/0/…`` (shared storage).

The payload is decrypted and inflated once, as a stream, into the acquisition's private folder
(within the temporary-disk budget), and the tar is read from there like any tree; the device
paths are the folders the domains were backed up from (``/data/user_de/0/<package>/files/…``).
Crypto: ``cryptography`` (AES, PBKDF2).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from unmask.acquisition.android_common import AndroidTree
from unmask.acquisition.options import OpenOptions
from unmask.acquisition.tree import Mapping
from unmask.errors import AcquisitionError, UsageError

MAGIC = b"ANDROID BACKUP\n"
_CHUNK = 1 << 20
# Backup domain token → device folder of a package ("{p}" is the package name).
DOMAINS = {
    "a": "/data/app/{p}",
    "f": "/data/data/{p}/files",
    "db": "/data/data/{p}/databases",
    "sp": "/data/data/{p}/shared_prefs",
    "c": "/data/data/{p}/cache",
    "nb": "/data/data/{p}/no_backup",
    "r": "/data/data/{p}",
    "d_f": "/data/user_de/0/{p}/files",
    "d_db": "/data/user_de/0/{p}/databases",
    "d_sp": "/data/user_de/0/{p}/shared_prefs",
    "d_c": "/data/user_de/0/{p}/cache",
    "d_nb": "/data/user_de/0/{p}/no_backup",
    "d_r": "/data/user_de/0/{p}",
    "ef": "/sdcard/Android/data/{p}/files",
    "obb": "/sdcard/Android/obb/{p}",
}


class BackupHeader:
    """The text header of an ``.ab`` file."""

    def __init__(self, handle: BinaryIO, where: str) -> None:
        lines = [_line(handle) for _ in range(4)]
        if lines[0] != b"ANDROID BACKUP":
            raise AcquisitionError(f"{where} is not an Android backup")
        try:
            self.version = int(lines[1])
            self.compressed = lines[2] == b"1"
            self.encryption = lines[3].decode("ascii")
        except (ValueError, UnicodeDecodeError):
            raise AcquisitionError(f"{where}: damaged Android backup header") from None
        if not 1 <= self.version <= 5:
            raise AcquisitionError(f"{where}: Android backup format version {self.version} is not supported (1 to 5)")
        if self.encryption not in ("none", "AES-256"):
            raise AcquisitionError(f"{where}: Android backup encryption {self.encryption!r} is not supported")
        self.crypto: list[bytes] = []
        if self.encryption == "AES-256":
            self.crypto = [_line(handle) for _ in range(5)]


def _line(handle: BinaryIO) -> bytes:
    out = bytearray()
    while len(out) < 4096:
        byte = handle.read(1)
        if not byte or byte == b"\n":
            return bytes(out)
        out += byte
    return bytes(out)


def java_utf8(key: bytes) -> bytes:
    """A key's bytes as Java turns them into a ``char[]`` (sign-extended) and then into UTF-8, the
    form the master-key checksum is computed on from format version 2."""
    return "".join(chr(b) if b < 0x80 else chr(0xFF00 | b) for b in key).encode("utf-8")


def master_key(crypto: list[bytes], password: str, version: int) -> tuple[bytes, bytes]:
    """The payload's AES key and IV, from the password; :class:`AcquisitionError` when the
    password is wrong (the checksum does not match) or the header is damaged."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    try:
        user_salt = bytes.fromhex(crypto[0].decode("ascii"))
        check_salt = bytes.fromhex(crypto[1].decode("ascii"))
        rounds = int(crypto[2])
        user_iv = bytes.fromhex(crypto[3].decode("ascii"))
        blob = bytes.fromhex(crypto[4].decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise AcquisitionError("damaged encryption header in the Android backup") from None
    if not 1 <= rounds <= 10_000_000 or len(user_iv) != 16 or len(blob) % 16:
        raise AcquisitionError("damaged encryption header in the Android backup")
    key = PBKDF2HMAC(hashes.SHA1(), 32, user_salt, rounds).derive(password.encode("utf-8"))
    decryptor = Cipher(algorithms.AES(key), modes.CBC(user_iv)).decryptor()
    plain = decryptor.update(blob) + decryptor.finalize()
    wrong = AcquisitionError("wrong password for the encrypted Android backup")
    fields: list[bytes] = []
    at = 0
    for _ in range(3):
        if at >= len(plain):
            raise wrong
        size = plain[at]
        fields.append(plain[at + 1 : at + 1 + size])
        at += 1 + size
    iv, mk, checksum = fields
    material = java_utf8(mk) if version > 1 else mk
    if len(iv) != 16 or len(mk) != 32 or PBKDF2HMAC(hashes.SHA1(), 32, check_salt, rounds).derive(material) != checksum:
        raise wrong
    return mk, iv


def payload(handle: BinaryIO, header: BackupHeader, password: Any) -> Iterator[bytes]:
    """The tar stream of a backup, decrypted and inflated chunk by chunk."""
    decrypt = None
    if header.encryption == "AES-256":
        if password is None:
            raise AcquisitionError("the Android backup is encrypted: give its password with --password-file or UNMASK_BACKUP_PASSWORD")
        from cryptography.hazmat.primitives import padding
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        mk, iv = master_key(header.crypto, password(), header.version)
        decrypt = Cipher(algorithms.AES(mk), modes.CBC(iv)).decryptor()
        unpad = padding.PKCS7(128).unpadder()
    inflate = zlib.decompressobj() if header.compressed else None
    try:
        while True:
            raw = handle.read(_CHUNK)
            data = raw
            if decrypt is not None:
                data = unpad.update(decrypt.update(raw)) if raw else unpad.update(decrypt.finalize()) + unpad.finalize()
            if inflate is None:
                if data:
                    yield data
            else:
                # Bounded output per call: a deflate bomb fills the budget on disk, never memory.
                while data:
                    out = inflate.decompress(data, _CHUNK)
                    data = inflate.unconsumed_tail
                    if out:
                        yield out
                if not raw:
                    rest = inflate.flush()
                    if rest:
                        yield rest
            if not raw:
                return
    except zlib.error as exc:
        raise AcquisitionError(f"the Android backup's data cannot be inflated ({exc})") from None
    except ValueError as exc:  # bad PKCS#7 padding: truncated or damaged ciphertext
        raise AcquisitionError(f"the Android backup's data cannot be decrypted ({exc})") from None


class AndroidBackup(AndroidTree):
    """An Android ``.ab`` backup: the apps it holds, at the device folders they came from."""

    kind = "android-backup"
    label = "an Android backup (.ab, adb backup; plain or encrypted with --password-file)"

    @classmethod
    def detect(cls, path: Path) -> Path | None:
        """A file that starts with ``ANDROID BACKUP``."""
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            return path if handle.read(len(MAGIC)) == MAGIC else None

    def __init__(self, root: Path, options: OpenOptions | None = None) -> None:
        options = options or OpenOptions()
        if not root.is_file():
            raise AcquisitionError(f"{root} is not an Android backup file")
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="unmask-ab-"))
        self._ab_folder: Path | None = folder
        target = folder / "backup.tar"
        limit = options.temp_mb * 1024 * 1024
        try:
            with root.open("rb") as handle, open(target, "xb") as sink:
                os.chmod(target, 0o600)
                header = BackupHeader(handle, str(root))
                self.header = header
                written = 0
                for chunk in payload(handle, header, options.password):
                    written += len(chunk)
                    if written > limit:
                        raise AcquisitionError(f"{root}: its data passes the temporary-disk budget of {options.temp_mb} MB")
                    sink.write(chunk)
        except (AcquisitionError, UsageError):
            _remove(folder)
            raise
        except OSError as exc:
            _remove(folder)
            raise AcquisitionError(f"{root}: cannot be read ({exc})") from None
        if written == 0:
            _remove(folder)
            raise AcquisitionError(f"{root}: the Android backup holds no data")
        try:
            super().__init__(root, options, source=target)
        except BaseException:  # the tar inside cannot be read (AcquisitionError), or anything else
            _remove(folder)
            raise

    def mappings(self) -> list[Mapping]:
        """One rule per package and backup domain found in the tar, and ``shared/0`` as /sdcard."""
        out: list[Mapping] = []
        tree = getattr(self, "tree", None)
        if tree is None:
            return out
        seen: set[tuple[str, str]] = set()
        for batch in tree.entries("apps"):
            for e in batch:
                parts = e.path.split("/")
                if len(parts) >= 3 and (parts[1], parts[2]) not in seen and parts[2] in DOMAINS:
                    seen.add((parts[1], parts[2]))
        for package, token in sorted(seen, key=lambda pt: (pt[0], -len(DOMAINS[pt[1]]))):
            out.append(Mapping(DOMAINS[token].format(p=package), f"apps/{package}/{token}"))
        # More specific device folders first (``r`` is the parent of ``f``, ``db``…).
        out.sort(key=lambda m: -len(m.device))
        out.append(Mapping("/sdcard", "shared/0"))
        return out

    def packages(self) -> list[str]:
        """The packages the backup holds (``apps/<package>/``)."""
        found: set[str] = set()
        for batch in self.tree.entries("apps"):
            for e in batch:
                parts = e.path.split("/")
                if len(parts) >= 2 and parts[1]:
                    found.add(parts[1])
        return sorted(found)

    def metadata(self) -> dict[str, Any]:
        """The backup's format version, compression, encryption and packages."""
        return {
            "backup_version": self.header.version,
            "compressed": self.header.compressed,
            "encryption": self.header.encryption,
            "packages": self.packages()[:200],
        }

    def evidence_hashes(self, hash_all: bool = False) -> dict[str, str]:
        """The ``.ab`` file, hashed whole."""
        from unmask.acquisition.base import sha256_file

        return {self.root.name: sha256_file(self.root)}

    def close(self) -> None:
        """Release the tree and remove the decrypted copy."""
        super().close()
        if self._ab_folder is not None:
            _remove(self._ab_folder)
            self._ab_folder = None


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
