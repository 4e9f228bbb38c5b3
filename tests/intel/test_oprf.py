"""RFC 9497 OPRF (mode 0x00, ristretto255-SHA512): the Appendix A.1.1 vectors and refusals."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unmask.detect.indicators import oprf

# RFC 9497 Appendix A.1.1 (also poc/vectors/allVectors.json in cfrg/draft-irtf-cfrg-voprf).
SEED = bytes.fromhex("a3" * 32)
KEY_INFO = bytes.fromhex("74657374206b6579")
SK = "5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e"
BLIND = "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706"
VECTORS = [
    (
        "00",
        "609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c",
        "7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e",
        "527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3"
        "ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6",
    ),
    (
        "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
        "da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418",
        "b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25",
        "f4a74c9c592497375e796aa837e907b1a045d34306a749db9f34221f7e750cb4"
        "f2a6413a6bf6fa5e19ba6348eb673934a722a7ede2e7621306d18951e7cf2c73",
    ),
]


def test_context_and_dst() -> None:
    assert oprf.CONTEXT.hex() == "4f50524656312d002d72697374726574746f3235352d534841353132"
    assert oprf.DST_HASH_TO_GROUP.hex() == (
        "48617368546f47726f75702d4f50524656312d002d72697374726574746f3235352d534841353132"
    )


def test_derive_key_pair() -> None:
    sk, pk = oprf.derive_key_pair(SEED, KEY_INFO)
    assert sk.hex() == SK
    assert pk.hex() == "f4a56c2f306cafe90769927fdc9dd4994d8ad18f8d35b7c568ececc842da7015"


def test_hash_to_group_intermediate() -> None:
    xmd = oprf.expand_message_xmd(b"\x00", oprf.DST_HASH_TO_GROUP, 64)
    assert xmd.hex() == (
        "97d81ddb9de1e53d47f812cb9fb5cb89c7d3ba75ab9505f5b6abb1f2070ca128"
        "2f3899bdb7667f3f23a6d1379fa7a7004b05e117c818907c2222a46ca1aa64a1"
    )
    assert oprf.hash_to_group(b"\x00").hex() == "5873db2e5f8f4f544ce3e574c74c487f03bc64a2cf63b7c913908091aab03357"


@pytest.mark.parametrize(("input_hex", "blinded_hex", "evaluated_hex", "output_hex"), VECTORS)
def test_rfc9497_vectors(input_hex: str, blinded_hex: str, evaluated_hex: str, output_hex: str) -> None:
    sk = bytes.fromhex(SK)
    data = bytes.fromhex(input_hex)
    r, blinded = oprf.blind(data, bytes.fromhex(BLIND))
    assert blinded.hex() == blinded_hex
    evaluated = oprf.blind_evaluate(sk, blinded)
    assert evaluated.hex() == evaluated_hex
    assert oprf.finalize(data, r, evaluated).hex() == output_hex
    assert oprf.evaluate(sk, data).hex() == output_hex
    assert oprf.finalize_batch([data], [r], [evaluated])[0].hex() == output_hex


def test_identity_and_non_canonical_elements_are_refused() -> None:
    sk = bytes.fromhex(SK)
    with pytest.raises(oprf.OprfError, match="identity"):
        oprf.blind_evaluate(sk, oprf.IDENTITY)
    # 2^255 - 1 little-endian: not a canonical field element encoding.
    with pytest.raises(oprf.OprfError, match="non-canonical"):
        oprf.blind_evaluate(sk, b"\xff" * 31 + b"\x7f")
    # A negative (odd) field element encoding is non-canonical in ristretto255.
    with pytest.raises(oprf.OprfError):
        oprf.blind_evaluate(sk, b"\x01" + bytes(31))
    with pytest.raises(oprf.OprfError):
        oprf.blind_evaluate(sk, b"\x00" * 31)
    with pytest.raises(oprf.OprfError):
        oprf.finalize(b"x", oprf.random_scalar(), oprf.IDENTITY)
    good = oprf.blind(b"x")[1]
    with pytest.raises(oprf.OprfError):
        oprf.blind_evaluate_batch(sk, [good, oprf.IDENTITY])


def test_bad_scalars_and_inputs_are_refused() -> None:
    with pytest.raises(oprf.OprfError):
        oprf.blind(b"x", bytes(32))
    with pytest.raises(oprf.OprfError):
        oprf.blind(b"x", oprf.ORDER.to_bytes(32, "little"))
    with pytest.raises(oprf.OprfError):
        oprf.blind(b"x" * 65536)
    with pytest.raises(oprf.OprfError):
        oprf.derive_key_pair(b"short", b"")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.binary(max_size=80), min_size=1, max_size=6))
def test_blind_evaluate_finalize_equals_evaluate(inputs: list[bytes]) -> None:
    sk, _ = oprf.derive_key_pair(SEED, b"property")
    blinds, blinded = oprf.blind_batch(inputs)
    evaluated = oprf.blind_evaluate_batch(sk, blinded)
    outputs = oprf.finalize_batch(inputs, blinds, evaluated)
    assert outputs == [oprf.evaluate(sk, x) for x in inputs]
