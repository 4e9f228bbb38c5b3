"""The store secret: the key of every lookup key and of every sealed value, kept apart from the database.

A copy of the database alone must not tell which domains, numbers or paths were on anyone's phone,
so nothing observed on a phone is stored in the clear: lookup keys are keyed hashes
(HMAC-SHA-256) and the values shown to people (device paths, messages, output folders) are sealed
(ChaCha20-Poly1305). Both use keys derived from one secret, which lives in a 0600 file in the user
config folder (made on first use) or in ``UNMASK_STORE_SECRET``. Whoever has the database and
the secret can read what the store says about each case; whoever has only the database cannot.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from unmask.errors import UsageError

ENV_SECRET = "UNMASK_STORE_SECRET"
ENV_CONFIG = "UNMASK_CONFIG_DIR"
SECRET_FILE = "store.secret"
_MIN_SECRET = 16
_NONCE = 12


def config_dir() -> Path:
    """The user config folder (``UNMASK_CONFIG_DIR`` overrides it)."""
    return Path(os.environ.get(ENV_CONFIG) or platformdirs.user_config_dir("unmask"))


def secret_path() -> Path:
    """Where the store secret file lives when ``UNMASK_STORE_SECRET`` is not set."""
    return config_dir() / SECRET_FILE


def _read_or_create(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = secrets.token_hex(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return _read_or_create(path)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text + "\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the store secret ({type(exc).__name__})") from None
    if len(text) < _MIN_SECRET:
        raise UsageError(f"{path}: the store secret is too short (at least {_MIN_SECRET} characters)")
    if path.stat().st_mode & 0o077:
        raise UsageError(f"{path}: the store secret is readable by others; chmod 600 it")
    return text.encode("utf-8")


def load_secret(create: bool = True) -> bytes:
    """The store secret: ``UNMASK_STORE_SECRET``, else the secret file (made when missing and
    ``create``)."""
    env = os.environ.get(ENV_SECRET)
    if env is not None:
        if len(env) < _MIN_SECRET:
            raise UsageError(f"{ENV_SECRET} is too short (at least {_MIN_SECRET} characters)")
        return env.encode("utf-8")
    path = secret_path()
    if not create and not path.exists():
        raise UsageError(f"no store secret: set {ENV_SECRET} or keep {path}")
    return _read_or_create(path)


def _derive(master: bytes, purpose: str) -> bytes:
    return hmac.digest(master, b"unmask-store/v1 " + purpose.encode(), hashlib.sha256)


@dataclass(frozen=True)
class Keys:
    """The keys derived from the store secret, one per purpose."""

    lookup: bytes
    finding: bytes
    seal_key: bytes
    check: str
    _aead: ChaCha20Poly1305 = field(repr=False, compare=False)

    @classmethod
    def from_secret(cls, master: bytes) -> Keys:
        """Derive every key from the master secret."""
        seal = _derive(master, "seal")
        return cls(_derive(master, "lookup"), _derive(master, "finding"), seal,
                   _derive(master, "check")[:16].hex(), ChaCha20Poly1305(seal))

    def key(self, data: bytes) -> int:
        """The stored form of one lookup key: HMAC-SHA-256 under the lookup key, its first 8 bytes
        as a signed 64-bit integer (a truncated HMAC, RFC 2104 section 5). A collision can only
        add a candidate, which a re-hunt verifies against the record; it never hides a match."""
        return int.from_bytes(hmac.digest(self.lookup, data, "sha256")[:8], "big", signed=True)

    def fingerprint(self, *parts: str) -> int:
        """A keyed fingerprint of a tuple of texts (findings, indicators), as a signed 64-bit integer."""
        data = "\x00".join(parts).encode("utf-8", "surrogatepass")
        return int.from_bytes(hmac.digest(self.finding, data, "sha256")[:8], "big", signed=True)

    def seal(self, text: str, purpose: str) -> bytes:
        """Encrypt a value for display (random nonce; the purpose is bound as associated data)."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, text.encode("utf-8", "surrogatepass"), purpose.encode())

    def open(self, sealed: bytes | None, purpose: str) -> str | None:
        """Decrypt a sealed value; ``None`` for none, a one-line error for one sealed with another key."""
        if sealed is None:
            return None
        try:
            plain = self._aead.decrypt(bytes(sealed[:_NONCE]), bytes(sealed[_NONCE:]), purpose.encode())
        except InvalidTag:
            raise UsageError("a value of the store cannot be decrypted with this store secret") from None
        return plain.decode("utf-8", "surrogatepass")
