"""The encrypted-backup primitives: keybag, passcode key, unwrapping, streaming CBC, key files."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import keywrap
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders.encrypted_backup import _cbc, _tlv
from unmask.errors import ArtefactError
from unmask.formats import backup_crypto as crypto


def _keybag(
    password: str = "pw",
    *,
    dpic: int = 3,
    iterations: int = 2,
    classes: dict[int, int] | None = None,
    wrong: tuple[int, ...] = (),
) -> tuple[bytes, dict[int, bytes], bytes]:
    salt, dpsl = os.urandom(20), os.urandom(20)
    pkey = hashlib.pbkdf2_hmac(
        "sha1", hashlib.pbkdf2_hmac("sha256", password.encode(), dpsl, dpic, 32), salt, iterations, 32
    )
    header = b"".join(
        [
            _tlv(b"VERS", 4),
            _tlv(b"TYPE", 1),
            _tlv(b"UUID", os.urandom(16)),
            _tlv(b"HMCK", os.urandom(40)),
            _tlv(b"WRAP", 0),
            _tlv(b"SALT", salt),
            _tlv(b"ITER", iterations),
            _tlv(b"DPWT", 1),
            _tlv(b"DPIC", dpic),
            _tlv(b"DPSL", dpsl),
        ]
    )
    keys: dict[int, bytes] = {}
    for clas, wrap in (classes or {1: 2, 3: 2, 4: 2}).items():
        keys[clas] = os.urandom(32)
        kek = os.urandom(32) if clas in wrong else pkey
        header += b"".join(
            [
                _tlv(b"UUID", os.urandom(16)),
                _tlv(b"CLAS", clas),
                _tlv(b"WRAP", wrap),
                _tlv(b"KTYP", 0),
                _tlv(b"WPKY", keywrap.aes_key_wrap(kek, keys[clas])),
            ]
        )
    return header, keys, pkey


def test_keybag_is_decoded_and_the_passcode_key_unwraps_every_class() -> None:
    data, keys, pkey = _keybag(classes={1: 2, 2: 3, 3: 2, 4: 2})
    kb = crypto.Keybag.parse(data)
    assert (kb.version, kb.type, kb.iterations, kb.double_protection_iterations) == (4, 1, 2, 3)
    assert sorted(kb.classes) == [1, 2, 3, 4] and kb.has_hmac_key
    derived = crypto.derive_passcode_key("pw", kb)
    assert derived == pkey
    unlocked = crypto.unlock(kb, derived)
    assert unlocked.keys == keys and unlocked.not_unlocked == {}
    assert repr(kb.salt) not in repr(kb) and repr(kb.classes[1].wrapped) not in repr(kb)
    assert repr(keys[1]) not in repr(unlocked)


def test_wrong_password_unwraps_nothing_and_odd_classes_say_why() -> None:
    data, _, _ = _keybag(classes={1: 2, 3: 2, 5: 1, 6: 2}, wrong=(6,))
    kb = crypto.Keybag.parse(data)
    assert crypto.unlock(kb, crypto.derive_passcode_key("not it", kb)).keys == {}
    unlocked = crypto.unlock(kb, crypto.derive_passcode_key("pw", kb))
    assert sorted(unlocked.keys) == [1, 3]
    assert "device's UID key" in unlocked.not_unlocked[5]
    assert "did not unwrap" in unlocked.not_unlocked[6]
    with pytest.raises(crypto.DecryptionError, match="protection class 9: the keybag has no key"):
        unlocked.key(9)


def test_keybags_older_than_ios_10_2_take_the_sha1_step_alone() -> None:
    salt = os.urandom(20)
    data = (
        _tlv(b"VERS", 3)
        + _tlv(b"TYPE", 1)
        + _tlv(b"UUID", os.urandom(16))
        + _tlv(b"SALT", salt)
        + _tlv(b"ITER", 5)
    )
    kb = crypto.Keybag.parse(data)
    assert crypto.derive_passcode_key("pw", kb) == hashlib.pbkdf2_hmac("sha1", b"pw", salt, 5, 32)


@pytest.mark.parametrize(("field", "value"), [("ITER", 2_000_000), ("DPIC", 50_000_000), ("ITER", 0)])
def test_hostile_iteration_counts_are_refused_before_deriving(field: str, value: int) -> None:
    data, _, _ = _keybag()
    data = data.replace(_tlv(field.encode(), 2 if field == "ITER" else 3), _tlv(field.encode(), value), 1)
    with pytest.raises(ArtefactError, match="rounds"):
        crypto.derive_passcode_key("pw", crypto.Keybag.parse(data))


@pytest.mark.parametrize("data", [b"", b"short", b"SALT\x00\x00\x00\x10abc", _tlv(b"VERS", 4)])
def test_what_is_not_a_keybag_is_an_artefact_error(data: bytes) -> None:
    with pytest.raises(ArtefactError):
        crypto.Keybag.parse(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_keybag_parsing_never_crashes_on_garbage(data: bytes) -> None:
    with contextlib.suppress(ArtefactError):
        crypto.Keybag.parse(data)


def test_wrapped_keys_are_split_and_checked() -> None:
    kek, key = os.urandom(32), os.urandom(32)
    clas, wrapped = crypto.split_wrapped_key(struct.pack("<I", 4) + keywrap.aes_key_wrap(kek, key))
    assert clas == 4 and crypto.unwrap(kek, wrapped) == key
    with pytest.raises(crypto.DecryptionError, match="integrity"):
        crypto.unwrap(os.urandom(32), wrapped)
    with pytest.raises(crypto.DecryptionError, match="expected 40"):
        crypto.unwrap(kek, wrapped[:32])
    with pytest.raises(crypto.DecryptionError, match="too short"):
        crypto.split_wrapped_key(b"\x04\x00\x00\x00")


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=5000), st.integers(1, 70))
def test_streamed_decryption_equals_the_plaintext_whatever_the_read_sizes(data: bytes, step: int) -> None:
    key = os.urandom(32)
    ended: list[int] = []
    reader = io.BufferedReader(crypto.DecryptingReader(io.BytesIO(_cbc(key, data)), key, on_end=ended.append))
    out = b""
    while chunk := reader.read(step):
        out += chunk
    assert out == data and ended == [len(data)]


def test_a_big_file_streams_in_bounded_chunks(tmp_path: Path) -> None:
    key = os.urandom(32)
    data = os.urandom(3 * (1 << 20) + 5)
    path = tmp_path / "f"
    path.write_bytes(_cbc(key, data))
    with crypto.open_decrypting(path, key) as handle:
        first = handle.read(1000)
        rest = handle.read()
    assert first + rest == data

    class Spy(io.BytesIO):
        biggest = 0

        def read(self, size: int | None = -1, /) -> bytes:
            Spy.biggest = max(Spy.biggest, size if size is not None and size >= 0 else 1 << 40)
            return super().read(size)

    reader = crypto.DecryptingReader(Spy(path.read_bytes()), key)
    held = 0
    buffer = bytearray(4096)
    while n := reader.readinto(buffer):
        held = max(held, len(reader._pending))
        assert n <= len(buffer)
    assert Spy.biggest <= 1 << 20 and held <= (1 << 20) + 16  # never the whole file in memory


@pytest.mark.parametrize(
    ("mangle", "why"),
    [
        (lambda c: c[:-1], "whole number of AES blocks"),
        (lambda c: c[:-16] + bytes(16), "padding"),
    ],
)
def test_bad_ciphertext_fails_with_the_reason(mangle, why: str) -> None:  # type: ignore[no-untyped-def]
    key = os.urandom(32)
    errors: list[str] = []
    reader = crypto.DecryptingReader(io.BytesIO(mangle(_cbc(key, b"x" * 100))), key, on_error=errors.append)
    with pytest.raises(crypto.DecryptionError, match=why):
        io.BufferedReader(reader).read()
    assert errors and why in errors[0]


def test_wrong_key_size_is_refused() -> None:
    with pytest.raises(crypto.DecryptionError, match="32"):
        crypto.DecryptingReader(io.BytesIO(b""), b"short")


def test_key_files_are_new_private_files_of_64_hex_digits(tmp_path: Path) -> None:
    key = os.urandom(32)
    path = tmp_path / "backup.key"
    crypto.write_key_file(path, key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == key.hex() and len(path.read_bytes()) == 64  # MVT's --key-file format
    assert crypto.read_key_file(path) == key
    with pytest.raises(FileExistsError):
        crypto.write_key_file(path, key)
    secret = "correct horse battery staple, not a key at all....................."
    path.write_text(secret)
    with pytest.raises(ArtefactError) as err:
        crypto.read_key_file(path)
    assert "correct horse" not in str(err.value)
