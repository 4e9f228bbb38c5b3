"""The intel holder's folder: signing key, epochs, and which epochs may still be evaluated.

```
DIR/
  signing.key               Ed25519 private key (PEM, 0600): signs manifests; clients pin its public key
  signing.pub               the public key in hex, the value to give investigators (--intel-key)
  epochs.json               {"current": id, "epochs": {id: {"published", "grace_until", "retired"}}}
  epochs/<id>/manifest.json the signed manifest            (served)
  epochs/<id>/set.bin       tags and sealed metadata       (served)
  epochs/<id>/catalogue.json campaigns covered              (served)
  epochs/<id>/seed          the OPRF key seed (0600)       (never served; deleted at retirement)
  tokens.json               token hashes and quotas
  audit.log                 the hash-chained audit log
```

Rotation: publishing a new epoch makes it current; the previous current epoch stays evaluable
until its ``grace_until`` (scans that downloaded its set can finish), and every older epoch is
retired: its seed is deleted, so its outputs can never be computed again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from unmask.intel.errors import IntelError

STATE_FILE = "epochs.json"
SIGNING_KEY = "signing.key"
SIGNING_PUB = "signing.pub"


def write_private(path: Path, data: bytes) -> None:
    """Write a secret file readable by its owner only, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a public file atomically, so a running server never serves half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def public_key_hex(key: Ed25519PublicKey) -> str:
    """The 32-byte raw public key as hex: what investigators pin."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def signing_key(folder: Path, create: bool = True) -> Ed25519PrivateKey:
    """The folder's long-term signing key, created on first use."""
    path = folder / SIGNING_KEY
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise IntelError(f"{path}: unreadable signing key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise IntelError(f"{path}: not an Ed25519 key")
        return key
    if not create:
        raise IntelError(f"{path}: no signing key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_private(path, pem)
    write_atomic(folder / SIGNING_PUB, (public_key_hex(key.public_key()) + "\n").encode())
    return key


def load_signing_key_file(path: Path) -> Ed25519PrivateKey:
    """A signing key kept outside the folder (``--signing-key``)."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise IntelError(f"{path}: unreadable signing key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise IntelError(f"{path}: not an Ed25519 key")
    return key


@dataclass
class EpochState:
    """One epoch's lifecycle."""

    id: str
    published: str
    grace_until: str | None = None
    retired: str | None = None


@dataclass
class State:
    """Which epoch is current and how long the others may be used."""

    current: str | None
    epochs: dict[str, EpochState]

    def evaluable(self, epoch: str, now: datetime) -> bool:
        """The current epoch, or a previous one still within its grace period."""
        state = self.epochs.get(epoch)
        if state is None or state.retired:
            return False
        if epoch == self.current:
            return True
        return state.grace_until is not None and now < datetime.fromisoformat(state.grace_until)

    def to_json(self) -> dict[str, Any]:
        """The epochs.json document."""
        return {"current": self.current, "epochs": {k: vars(v) for k, v in self.epochs.items()}}


def read_state(folder: Path) -> State:
    """The folder's epochs.json (an empty state before the first publication)."""
    path = folder / STATE_FILE
    if not path.exists():
        return State(None, {})
    try:
        doc = json.loads(path.read_text())
        return State(doc.get("current"), {k: EpochState(**v) for k, v in doc.get("epochs", {}).items()})
    except (OSError, ValueError, TypeError) as exc:
        raise IntelError(f"{path}: unreadable epoch state ({exc})") from None


def write_state(folder: Path, state: State) -> None:
    """Replace epochs.json atomically."""
    write_atomic(folder / STATE_FILE, json.dumps(state.to_json(), indent=1).encode())


def epoch_dir(folder: Path, epoch: str) -> Path:
    """Where one epoch's files live (the id is checked so a request cannot walk out of it)."""
    if not epoch or not all(c.isalnum() or c in "-_" for c in epoch):
        raise IntelError(f"bad epoch id {epoch!r}")
    return folder / "epochs" / epoch
