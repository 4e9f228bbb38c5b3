"""The signed epoch manifest: what a client checks before trusting a downloaded set.

The signature covers the canonical JSON of the manifest (sorted keys, no spaces, ASCII), which
names the set's and the catalogue's SHA-256; so one signature check plus two hash checks bind
everything the client downloads to the holder's pinned Ed25519 key.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from unmask.intel.errors import IntelError

FORMAT = "mvtcm/v1"


def canonical(doc: dict[str, Any]) -> bytes:
    """The bytes that are signed."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign(manifest: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The envelope ``{manifest, signature, key}`` as published."""
    from unmask.intel.store import public_key_hex

    return {
        "manifest": manifest,
        "signature": key.sign(canonical(manifest)).hex(),
        "key": public_key_hex(key.public_key()),
    }


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A pinned key: 64 hex characters (optionally ``ed25519:``-prefixed), as ``signing.pub`` holds."""
    value = text.strip()
    if value.lower().startswith("ed25519:"):
        value = value[8:]
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise IntelError("--intel-key must be the holder's Ed25519 public key: 64 hex characters")
    return Ed25519PublicKey.from_public_bytes(raw)


def verify(envelope: Any, pinned: Ed25519PublicKey) -> dict[str, Any]:
    """The manifest inside a signed envelope, if the pinned key signed it; else :class:`IntelError`."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("manifest"), dict):
        raise IntelError("the intel server's manifest is malformed")
    manifest: dict[str, Any] = envelope["manifest"]
    try:
        signature = bytes.fromhex(str(envelope.get("signature", "")))
        pinned.verify(signature, canonical(manifest))
    except (ValueError, InvalidSignature):
        raise IntelError(
            "the intel manifest's signature does not verify with the pinned key (wrong --intel-key, or tampering)"
        ) from None
    if manifest.get("format") != FORMAT or manifest.get("suite") != "ristretto255-SHA512" or manifest.get("mode") != 0:
        raise IntelError(f"unsupported intel protocol {manifest.get('format')!r}/{manifest.get('suite')!r}")
    return manifest
