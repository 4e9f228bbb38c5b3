"""The encryption of an iPhone backup made with "Encrypt local backup": keybag, keys, file contents.

What is known of the format comes from public descriptions, not from Apple's code:

- Apple Platform Security, "keybag" (support.apple.com/guide/security, glossary): a keybag is a
  header (version, type, UUID, an HMAC key, how class keys are wrapped, salt and iteration count)
  and a list of class keys (UUID, class, wrapping type, wrapped key, public key for asymmetric
  classes); a backup keybag's class keys are wrapped with a key derived from the backup password.
- Stack Overflow 1498342, "How to decrypt an encrypted Apple iTunes iPhone backup?" (the answer by
  andrewdotn, 13793043), after Bédrune and Sigwald's iphone-dataprotection: the keybag is stored
  in ``Manifest.plist`` under ``BackupKeyBag`` as tag-length-value blocks (4-byte ASCII tag, 4-byte
  big-endian length, value); since iOS 10.2 the passcode key is PBKDF2-HMAC-SHA256 of the password
  with ``DPSL``/``DPIC``, then PBKDF2-HMAC-SHA1 of that with ``SALT``/``ITER``; each class key
  (``WPKY``) is AES-unwrapped (RFC 3394) with it when its ``WRAP`` has the passcode bit (2);
  ``Manifest.plist``'s ``ManifestKey`` is a 4-byte little-endian protection class followed by the
  wrapped key of ``Manifest.db``; each file's key is in its ``MBFile`` (``EncryptionKey``: NSData of
  a 4-byte class and the wrapped key); contents are AES-256-CBC with a zero IV and PKCS#7 padding.
- The iphone-backup-decrypt README (PyPI, MIT): 10,000,000 rounds of PBKDF2-SHA256 then 10,000 of
  PBKDF2-SHA1 on current iOS; it refuses iteration counts above 20,000,000 (DPIC) and 1,000,000
  (ITER), which a hostile keybag could otherwise use to make key derivation run for days, and the
  Manifest's recorded sizes routinely differ from the decrypted sizes (databases written to while
  the backup ran), so a file is never cut or extended to its recorded size.
- Practical Mobile Forensics (4th ed., "manifest.plist"): ``ManifestKey`` is wrapped with
  protection class 4.

Cryptography is the ``cryptography`` package's (PBKDF2HMAC, ``aes_key_unwrap``, AES-CBC, PKCS7);
nothing here implements a cipher. Key material never appears in an exception message or a repr.
"""

from __future__ import annotations

import io
import os
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from cryptography.hazmat.primitives import hashes, keywrap, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from unmask.errors import ArtefactError

WRAP_DEVICE = 1
"""A class key wrapped with the device's UID key: it can only be unwrapped on the device."""
WRAP_PASSCODE = 2
"""A class key wrapped with the key derived from the (backup) password."""
KEYBAG_TYPES = {0: "system", 1: "backup", 2: "escrow", 3: "iCloud backup"}

MAX_DPIC = 20_000_000
"""The most PBKDF2-SHA256 rounds a keybag may ask for (current iOS asks 10,000,000)."""
MAX_ITER = 1_000_000
"""The most PBKDF2-SHA1 rounds a keybag may ask for (current iOS asks 10,000)."""

_CHUNK = 1 << 20
_INT_TAGS = frozenset({b"VERS", b"TYPE", b"WRAP", b"ITER", b"DPWT", b"DPIC", b"CLAS", b"KTYP"})
_KEY_HEX = re.compile(r"[0-9a-fA-F]{64}")


class DecryptionError(ArtefactError):
    """A key could not be unwrapped or used, or a file does not decrypt."""


@dataclass(frozen=True, slots=True)
class ClassKey:
    """One class key of a keybag, still wrapped."""

    protection_class: int
    wrap: int
    key_type: int
    wrapped: bytes = field(repr=False)
    uuid: bytes = b""


@dataclass(frozen=True, slots=True)
class Keybag:
    """A backup keybag decoded from its tag-length-value blocks (nothing unwrapped)."""

    version: int | None
    type: int | None
    uuid: bytes
    wrap: int | None
    salt: bytes = field(repr=False)
    iterations: int | None
    double_protection_salt: bytes = field(repr=False)
    double_protection_iterations: int | None
    double_protection_wrap: int | None
    classes: dict[int, ClassKey]
    has_hmac_key: bool = False

    @classmethod
    def parse(cls, data: bytes) -> Keybag:
        """Decode ``Manifest.plist``'s ``BackupKeyBag``: header tags until the second ``UUID``,
        then one block per class key, each opened by its ``UUID``. Raises :class:`ArtefactError`
        for anything that is not a keybag."""
        if not isinstance(data, bytes) or len(data) < 8:
            raise ArtefactError("BackupKeyBag is not a keybag (too short)")
        header: dict[bytes, Any] = {}
        classes: dict[int, ClassKey] = {}
        current: dict[bytes, Any] | None = None

        def close(block: dict[bytes, Any] | None) -> None:
            if block is None:
                return
            clas, wpky = block.get(b"CLAS"), block.get(b"WPKY")
            if not isinstance(clas, int) or not isinstance(wpky, bytes):
                return  # a class block without class or wrapped key cannot unlock anything
            classes.setdefault(clas, ClassKey(clas, _int(block.get(b"WRAP")), _int(block.get(b"KTYP")),
                                              wpky, block.get(b"UUID", b"")))

        pos = 0
        while pos + 8 <= len(data):
            tag = data[pos : pos + 4]
            (length,) = struct.unpack(">I", data[pos + 4 : pos + 8])
            value: Any = data[pos + 8 : pos + 8 + length]
            if len(value) != length:
                raise ArtefactError("BackupKeyBag is truncated")
            pos += 8 + length
            if tag in _INT_TAGS and length == 4:
                (value,) = struct.unpack(">I", value)
            if tag == b"UUID" and b"UUID" in header:
                close(current)
                current = {b"UUID": value}
            elif current is not None:
                current.setdefault(tag, value)
            else:
                header.setdefault(tag, value)
        close(current)
        if b"SALT" not in header or b"ITER" not in header:
            raise ArtefactError("BackupKeyBag has no SALT or ITER: not a backup keybag")
        return cls(
            version=_int(header.get(b"VERS")) or None,
            type=header.get(b"TYPE") if isinstance(header.get(b"TYPE"), int) else None,
            uuid=header.get(b"UUID", b"") if isinstance(header.get(b"UUID"), bytes) else b"",
            wrap=header.get(b"WRAP") if isinstance(header.get(b"WRAP"), int) else None,
            salt=_bytes(header.get(b"SALT")),
            iterations=header.get(b"ITER") if isinstance(header.get(b"ITER"), int) else None,
            double_protection_salt=_bytes(header.get(b"DPSL")),
            double_protection_iterations=header.get(b"DPIC") if isinstance(header.get(b"DPIC"), int) else None,
            double_protection_wrap=header.get(b"DPWT") if isinstance(header.get(b"DPWT"), int) else None,
            classes=classes,
            has_hmac_key=isinstance(header.get(b"HMCK"), bytes),
        )

    def describe(self) -> dict[str, Any]:
        """What info.json says of the keybag (no salts, no wrapped keys)."""
        return {
            "version": self.version,
            "type": KEYBAG_TYPES.get(self.type, self.type) if self.type is not None else None,
            "iterations_sha1": self.iterations,
            "iterations_sha256": self.double_protection_iterations,
            "classes": sorted(self.classes),
        }


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else b""


def derive_passcode_key(password: str | bytes, keybag: Keybag) -> bytes:
    """The key that unwraps the keybag's class keys, from the backup password: PBKDF2-HMAC-SHA256
    (``DPSL``, ``DPIC``) then PBKDF2-HMAC-SHA1 (``SALT``, ``ITER``); keybags older than iOS 10.2
    have no ``DPSL`` and take the SHA-1 step alone. Takes seconds at the real 10,000,000 rounds
    (the ``cryptography`` package releases the GIL meanwhile, so a spinner can turn). Raises
    :class:`ArtefactError` for iteration counts out of range (a hostile keybag could ask for
    billions)."""
    secret = password.encode("utf-8") if isinstance(password, str) else password
    iterations = keybag.iterations
    if iterations is None or not 1 <= iterations <= MAX_ITER:
        raise ArtefactError(f"BackupKeyBag asks for {iterations} PBKDF2-SHA1 rounds (1 to {MAX_ITER:,} allowed)")
    if keybag.double_protection_salt:
        dpic = keybag.double_protection_iterations
        if dpic is None or not 1 <= dpic <= MAX_DPIC:
            raise ArtefactError(f"BackupKeyBag asks for {dpic} PBKDF2-SHA256 rounds (1 to {MAX_DPIC:,} allowed)")
        secret = PBKDF2HMAC(hashes.SHA256(), 32, keybag.double_protection_salt, dpic).derive(secret)
    return PBKDF2HMAC(hashes.SHA1(), 32, keybag.salt, iterations).derive(secret)


@dataclass(slots=True)
class ClassKeys:
    """The class keys a passcode key unwrapped, and why the others were not."""

    keys: dict[int, bytes] = field(default_factory=dict, repr=False)
    not_unlocked: dict[int, str] = field(default_factory=dict)

    def key(self, protection_class: int) -> bytes:
        """The unwrapped key of a protection class; :class:`DecryptionError` with the reason if none."""
        found = self.keys.get(protection_class)
        if found is None:
            why = self.not_unlocked.get(protection_class, "the keybag has no key for this class")
            raise DecryptionError(f"protection class {protection_class}: {why}")
        return found


def unlock(keybag: Keybag, passcode_key: bytes) -> ClassKeys:
    """Unwrap every class key wrapped with the passcode key. A class key wrapped only with the
    device's UID key, or whose unwrapping fails the RFC 3394 integrity check, stays locked with
    the reason. With a wrong password no class key unwraps at all."""
    out = ClassKeys()
    for clas, ck in sorted(keybag.classes.items()):
        if not ck.wrap & WRAP_PASSCODE:
            out.not_unlocked[clas] = f"its key is wrapped with the device's UID key only (WRAP={ck.wrap}), not the backup password"
            continue
        try:
            out.keys[clas] = keywrap.aes_key_unwrap(passcode_key, ck.wrapped)
        except (keywrap.InvalidUnwrap, ValueError):
            out.not_unlocked[clas] = "its key did not unwrap with the backup password"
    return out


def split_wrapped_key(data: bytes) -> tuple[int, bytes]:
    """``ManifestKey`` and an MBFile's ``EncryptionKey``: a 4-byte little-endian protection
    class, then the wrapped key."""
    if not isinstance(data, bytes) or len(data) < 4 + 24:
        raise DecryptionError("wrapped key too short")
    return struct.unpack("<I", data[:4])[0], data[4:]


def unwrap(class_key: bytes, wrapped: bytes) -> bytes:
    """A file key (or the Manifest key) unwrapped with its class key (RFC 3394)."""
    if len(wrapped) != 40:
        raise DecryptionError(f"wrapped key is {len(wrapped)} bytes, expected 40")
    try:
        return keywrap.aes_key_unwrap(class_key, wrapped)
    except (keywrap.InvalidUnwrap, ValueError):
        raise DecryptionError("wrapped key failed its integrity check (RFC 3394)") from None


class Readable(Protocol):
    """What :class:`DecryptingReader` reads ciphertext from."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class DecryptingReader(io.RawIOBase):
    """A read-only stream of the plaintext of an AES-256-CBC file (zero IV, PKCS#7 padding),
    decrypting 1 MiB at a time: memory stays bounded whatever the file's size.

    The padding block is held back until the end of the ciphertext, then checked and removed; a
    ciphertext that is not whole blocks, or padding that is not PKCS#7, raises
    :class:`ArtefactError` at the end of the stream. A zero-length file decrypts to nothing.
    ``on_end(size)`` is called once with the plaintext size when the stream was read to its end,
    ``on_error(reason)`` before a failure is raised.
    """

    def __init__(
        self,
        handle: Readable,
        key: bytes,
        on_end: Callable[[int], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        if len(key) != 32:
            handle.close()
            raise DecryptionError(f"file key is {len(key)} bytes, expected 32")
        self._handle = handle
        self._decryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).decryptor()
        self._unpadder = padding.PKCS7(128).unpadder()
        self._pending = b""
        self._offset = 0
        self._eof = False
        self._seen = 0
        self._size = 0
        self._on_end = on_end
        self._on_error = on_error

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        while not self._pending and not self._eof:
            chunk = self._handle.read(_CHUNK)
            if chunk:
                self._seen += len(chunk)
                self._pending = self._unpadder.update(self._decryptor.update(chunk))
                continue
            self._eof = True
            try:
                tail = self._decryptor.finalize()
                if self._seen:
                    tail = self._unpadder.update(tail) + self._unpadder.finalize()
            except ValueError:
                what = "not a whole number of AES blocks" if self._seen % 16 else "bad PKCS#7 padding"
                why = f"does not decrypt ({what}: wrong key, or damaged)"
                if self._on_error is not None:
                    self._on_error(why)
                raise DecryptionError(why) from None
            self._pending = tail

    def readinto(self, buffer: Any) -> int:
        self._fill()
        if not self._pending:
            if self._on_end is not None:
                on_end, self._on_end = self._on_end, None
                on_end(self._size)
            return 0
        view = memoryview(buffer)
        n = min(len(view), len(self._pending) - self._offset)
        view[:n] = self._pending[self._offset : self._offset + n]
        self._offset += n
        self._size += n
        if self._offset >= len(self._pending):
            self._pending, self._offset = b"", 0
        return n

    def close(self) -> None:
        self._handle.close()
        super().close()


def open_decrypting(
    path: Path,
    key: bytes,
    on_end: Callable[[int], None] | None = None,
    on_error: Callable[[str], None] | None = None,
) -> BinaryIO:
    """A buffered plaintext stream over the encrypted file at ``path`` (:class:`DecryptingReader`)."""
    handle = path.open("rb")
    return io.BufferedReader(DecryptingReader(handle, key, on_end, on_error), buffer_size=_CHUNK)


# --- key files --------------------------------------------------------------------------------


def read_key_file(path: Path) -> bytes:
    """The passcode key saved by ``unmask backup-key`` (64 hex digits, as MVT's ``--key-file``
    takes it too). Raises :class:`ArtefactError` without quoting the file's content."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ArtefactError(f"{path}: cannot read the key file ({type(exc).__name__})") from None
    if not _KEY_HEX.fullmatch(text):
        raise ArtefactError(f"{path} is not a backup key file (64 hexadecimal digits expected)")
    return bytes.fromhex(text)


def write_key_file(path: Path, key: bytes) -> None:
    """Save a passcode key as 64 hex digits in a new file of mode 0600 (never over an existing one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(key.hex())
