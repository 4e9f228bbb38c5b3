"""RFC 9497 OPRF, mode 0x00 (base OPRF), suite ristretto255-SHA512, on the system libsodium.

The group arithmetic is libsodium's (constant-time, widely audited) through ``pysodium``; this
module adds only what RFC 9497 defines on top: ``expand_message_xmd`` (RFC 9380 §5.3.1) with the
suite's domain-separation tags, DeriveKeyPair, Blind, BlindEvaluate, Finalize and Evaluate. The
RFC's Appendix A.1.1 vectors are a unit test.

Every element that arrives from the other party goes through :func:`deserialize_element`, which
rejects non-canonical encodings and the identity. The identity check is explicit because
libsodium's ``is_valid_point`` accepts 32 zero bytes.

Batch forms (:func:`blind_batch`, :func:`finalize_batch`) use Montgomery's trick so a client pays
for one scalar inversion per batch instead of one per element.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pysodium as _na

SUITE = "ristretto255-SHA512"
MODE_OPRF = 0x00
CONTEXT = b"OPRFV1-" + bytes([MODE_OPRF]) + b"-" + SUITE.encode()
DST_HASH_TO_GROUP = b"HashToGroup-" + CONTEXT
DST_HASH_TO_SCALAR = b"HashToScalar-" + CONTEXT
DST_DERIVE_KEY_PAIR = b"DeriveKeyPair" + CONTEXT  # no hyphen: RFC 9497 §3.2.1
ELEMENT_BYTES = 32
SCALAR_BYTES = 32
OUTPUT_BYTES = 64
MAX_INPUT = 0xFFFF  # inputs are length-prefixed with two bytes
IDENTITY = bytes(ELEMENT_BYTES)
_ZERO_SCALAR = bytes(SCALAR_BYTES)
# The group order ℓ = 2^252 + 27742317777372353535851937790883648493 (RFC 9496).
ORDER = 2**252 + 27742317777372353535851937790883648493


class OprfError(ValueError):
    """An input, element or scalar the protocol must refuse (RFC 9497 §4 errors)."""


def _i2osp(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1 with SHA-512 (64-byte output blocks, 128-byte input blocks)."""
    ell = -(-length // 64)
    if ell > 255 or length > 0xFFFF or len(dst) > 255:
        raise OprfError("expand_message_xmd: parameters out of range")
    dst_prime = dst + _i2osp(len(dst), 1)
    b0 = hashlib.sha512(bytes(128) + msg + _i2osp(length, 2) + b"\x00" + dst_prime).digest()
    out = bytearray()
    previous = bytes(64)
    for i in range(1, ell + 1):
        mixed = bytes(a ^ b for a, b in zip(b0, previous, strict=True)) if i > 1 else b0
        previous = hashlib.sha512(mixed + _i2osp(i, 1) + dst_prime).digest()
        out += previous
    return bytes(out[:length])


def hash_to_group(data: bytes) -> bytes:
    """``hash_to_ristretto255`` (RFC 9380 App. B): xmd to 64 bytes, then the one-way map."""
    element: bytes = _na.crypto_core_ristretto255_from_hash(expand_message_xmd(data, DST_HASH_TO_GROUP, 64))
    return element


def hash_to_scalar(data: bytes, dst: bytes = DST_HASH_TO_SCALAR) -> bytes:
    """xmd to 64 bytes, read little-endian, reduced modulo the group order."""
    scalar: bytes = _na.crypto_core_ristretto255_scalar_reduce(expand_message_xmd(data, dst, 64))
    return scalar


def deserialize_element(data: bytes) -> bytes:
    """Accept a canonical, non-identity ristretto255 encoding; raise :class:`OprfError` otherwise."""
    if len(data) != ELEMENT_BYTES:
        raise OprfError("element must be 32 bytes")
    if data == IDENTITY:
        raise OprfError("identity element")
    if not _na.crypto_core_ristretto255_is_valid_point(data):
        raise OprfError("non-canonical or invalid element")
    return data


def deserialize_scalar(data: bytes) -> bytes:
    """Accept a canonical scalar (little-endian, below the group order, not zero)."""
    if len(data) != SCALAR_BYTES:
        raise OprfError("scalar must be 32 bytes")
    value = int.from_bytes(data, "little")
    if value == 0 or value >= ORDER:
        raise OprfError("scalar out of range")
    return data


def derive_key_pair(seed: bytes, info: bytes) -> tuple[bytes, bytes]:
    """RFC 9497 §3.2.1 DeriveKeyPair: ``(skS, pkS)`` from a 32-byte seed and public info."""
    if len(seed) != 32:
        raise OprfError("seed must be 32 bytes")
    if len(info) > MAX_INPUT:
        raise OprfError("info too long")
    derive_input = seed + _i2osp(len(info), 2) + info
    for counter in range(256):
        secret = hash_to_scalar(derive_input + _i2osp(counter, 1), DST_DERIVE_KEY_PAIR)
        if secret != _ZERO_SCALAR:
            public: bytes = _na.crypto_scalarmult_ristretto255_base(secret)
            return secret, public
    raise OprfError("DeriveKeyPairError")


def _input_element(data: bytes) -> bytes:
    if len(data) > MAX_INPUT:
        raise OprfError("input longer than 65535 bytes")
    element = hash_to_group(data)
    if element == IDENTITY:  # probability ~2^-252, but the RFC requires the check
        raise OprfError("input maps to the identity")
    return element


def _mul(scalar: bytes, element: bytes) -> bytes:
    try:
        product: bytes = _na.crypto_scalarmult_ristretto255(scalar, element)
    except ValueError:  # libsodium refuses an identity result or a non-canonical point
        raise OprfError("scalar multiplication failed (identity or invalid element)") from None
    return product


def random_scalar() -> bytes:
    """A uniform non-zero scalar."""
    scalar: bytes = _na.crypto_core_ristretto255_scalar_random()
    return scalar


def random_element() -> bytes:
    """A uniform group element, indistinguishable from a blinded one (used as padding)."""
    element: bytes = _na.crypto_core_ristretto255_random()
    return element


def blind(data: bytes, blind_scalar: bytes | None = None) -> tuple[bytes, bytes]:
    """Client step 1: ``(blind, blindedElement)``. ``blind_scalar`` is for test vectors only."""
    r = deserialize_scalar(blind_scalar) if blind_scalar is not None else random_scalar()
    return r, _mul(r, _input_element(data))


def blind_evaluate(secret: bytes, blinded: bytes) -> bytes:
    """Server step: ``skS * blindedElement`` after validating the client's element."""
    return _mul(secret, deserialize_element(blinded))


def _finalize_hash(data: bytes, element: bytes) -> bytes:
    return hashlib.sha512(
        _i2osp(len(data), 2) + data + _i2osp(len(element), 2) + element + b"Finalize"
    ).digest()


def finalize(data: bytes, blind_scalar: bytes, evaluated: bytes) -> bytes:
    """Client step 2: unblind the server's element and hash it with the input (64 bytes)."""
    inverse: bytes = _na.crypto_core_ristretto255_scalar_invert(blind_scalar)
    return _finalize_hash(data, _mul(inverse, deserialize_element(evaluated)))


def evaluate(secret: bytes, data: bytes) -> bytes:
    """Server-side evaluation of a known input, equal to blind → blind_evaluate → finalize."""
    return _finalize_hash(data, _mul(secret, _input_element(data)))


def blind_evaluate_batch(secret: bytes, blinded: Sequence[bytes]) -> list[bytes]:
    """Evaluate a batch; one bad element fails the whole batch (so nothing partial leaks out)."""
    for element in blinded:
        deserialize_element(element)
    return [_mul(secret, element) for element in blinded]


def blind_batch(inputs: Sequence[bytes]) -> tuple[list[bytes], list[bytes]]:
    """Blind many inputs: ``(blinds, blinded elements)`` in input order."""
    blinds: list[bytes] = []
    blinded: list[bytes] = []
    for data in inputs:
        r, element = blind(data)
        blinds.append(r)
        blinded.append(element)
    return blinds, blinded


def _batch_invert(scalars: Sequence[bytes]) -> list[bytes]:
    """Montgomery's trick: n inversions for the price of one inversion and 3(n-1) multiplications."""
    if not scalars:
        return []
    mul = _na.crypto_core_ristretto255_scalar_mul
    prefix = [scalars[0]]
    for scalar in scalars[1:]:
        prefix.append(mul(prefix[-1], scalar))
    running: bytes = _na.crypto_core_ristretto255_scalar_invert(prefix[-1])
    out = [b""] * len(scalars)
    for i in range(len(scalars) - 1, 0, -1):
        out[i] = mul(running, prefix[i - 1])
        running = mul(running, scalars[i])
    out[0] = running
    return out


def finalize_batch(inputs: Sequence[bytes], blinds: Sequence[bytes], evaluated: Sequence[bytes]) -> list[bytes]:
    """Finalize many evaluations (same order as ``inputs``), inverting the blinds in one go."""
    if not len(inputs) == len(blinds) == len(evaluated):
        raise OprfError("batch lengths differ")
    inverses = _batch_invert(blinds)
    return [
        _finalize_hash(data, _mul(inverse, deserialize_element(element)))
        for data, inverse, element in zip(inputs, inverses, evaluated, strict=True)
    ]
