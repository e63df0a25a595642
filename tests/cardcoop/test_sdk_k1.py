"""Antelope K1 keys and names (PROTOCOL.md §5) beyond the vectors."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization

from cardcoop.crypto import (
    InvalidKey,
    K1PrivateKey,
    K1PublicKey,
    generate_antelope_username,
    is_valid_antelope_name,
    jwk_thumbprint,
    new_coop_account,
)
from cardcoop.protocol.encoding import b58_encode
from cardcoop.protocol.ripemd160 import ripemd160

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # secp256k1 order


def _pvt(scalar: bytes) -> str:
    return "PVT_K1_" + b58_encode(scalar + ripemd160(scalar + b"K1")[:4])


def _pub(point: bytes) -> str:
    return "PUB_K1_" + b58_encode(point + ripemd160(point + b"K1")[:4])


def test_generate_round_trips_through_every_form() -> None:
    key = K1PrivateKey.generate()
    for text in (key.to_string(), key.to_wif()):
        assert K1PrivateKey.from_string(text).to_bytes() == key.to_bytes()
    assert K1PrivateKey.from_jwk(key.to_jwk()).to_bytes() == key.to_bytes()
    public = key.public_key
    for text in (public.to_string(), public.to_legacy_string()):
        assert K1PublicKey.from_string(text) == public
    assert K1PublicKey.from_jwk(public.to_jwk()) == public
    assert public.thumbprint == jwk_thumbprint(key.to_jwk())
    assert str(public) == public.to_string() and hash(public) == hash(
        K1PublicKey.from_bytes(public.to_bytes())
    )


def test_repr_never_shows_the_private_key() -> None:
    key = K1PrivateKey.generate()
    text = repr(key)
    assert key.to_string() not in text and key.to_wif() not in text
    assert key.to_bytes().hex() not in text
    assert key.public_key.to_string() in text


@pytest.mark.parametrize("scalar", [0, N, N + 1, 2**256 - 1])
def test_out_of_range_scalars_are_rejected(scalar: int) -> None:
    raw = scalar.to_bytes(32, "big")
    with pytest.raises(InvalidKey):
        K1PrivateKey.from_bytes(raw)
    with pytest.raises(InvalidKey):
        K1PrivateKey.from_string(_pvt(raw))


def test_point_not_on_curve_is_rejected() -> None:
    # x = 5 has no y on secp256k1 (5^3 + 7 = 132 is not a square mod p).
    point = b"\x02" + (5).to_bytes(32, "big")
    with pytest.raises(InvalidKey):
        K1PublicKey.from_bytes(point)
    with pytest.raises(InvalidKey):
        K1PublicKey.from_string(_pub(point))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "PUB_K1_",
        "PUB_R1_6FPFZqw5ahYrR9jD96yDbbDNTdKtNqRbze6oTDLntrsANgQKZu",  # R1 keys are not K1
        "PUB_K1_0OIl",  # not base58
        "EOS1111111111111111111111111111111111111111111111111",
        "eos6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV",
    ],
)
def test_malformed_public_key_strings(text: str) -> None:
    with pytest.raises(InvalidKey):
        K1PublicKey.from_string(text)


def test_uncompressed_point_is_not_a_k1_string() -> None:
    point = K1PrivateKey.generate().public_key.key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    with pytest.raises(InvalidKey):
        K1PublicKey.from_bytes(point)


def test_wif_with_another_version_byte_is_rejected() -> None:
    payload = b"\x81" + bytes(31) + b"\x01"
    check = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    with pytest.raises(InvalidKey):
        K1PrivateKey.from_string(b58_encode(payload + check))


def test_jwk_on_another_curve_is_not_k1() -> None:
    p256 = {
        "kty": "EC",
        "crv": "P-256",
        "x": "n62Erq4Iu-9_AQAU2CzvagneKwz4cbXODE8dE6WaWTQ",
        "y": "B8tFdp8QcOLCRw_lsb_mMTPAsM3GTqS_N5Go7CoH_U8",
    }
    with pytest.raises(InvalidKey):
        K1PublicKey.from_jwk(p256)


def test_private_jwk_must_match_its_public_part() -> None:
    jwk = K1PrivateKey.generate().to_jwk()
    jwk["x"] = K1PrivateKey.generate().to_jwk()["x"]
    with pytest.raises(InvalidKey):
        K1PrivateKey.from_jwk(jwk)


def test_short_jwk_coordinates_are_rejected() -> None:
    jwk = K1PrivateKey.generate().public_key.to_jwk()
    jwk["x"] = jwk["x"][:-2]
    with pytest.raises(InvalidKey):
        K1PublicKey.from_jwk(jwk)


# --- names -------------------------------------------------------------------------------------

VALID_NAMES = [
    "a",
    "eosio",
    "eosio.token",
    "abcdefghijkl",
    "zzzzzzzzzzzz",
    "12345",
    "a.b.c",
    ".abc",
    "a1b2c3d4e5zz",
    "abcdefghijklj",
    "abcdefghijkl1",
    "............a",
]
INVALID_NAMES = [
    "",
    "abc.",
    ".",
    "Abc",
    "abc6",
    "abc0",
    "abc-def",
    "abc_def",
    "abcdefghijklk",
    "abcdefghijklz",
    "abcdefghijkl.",
    "abcdefghijklmn",
    "абв",
    "abc ",
    " abc",
    "abc\n",
]


@pytest.mark.parametrize("name", VALID_NAMES)
def test_valid_antelope_names(name: str) -> None:
    assert is_valid_antelope_name(name)


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_antelope_names(name: str) -> None:
    assert not is_valid_antelope_name(name)


def test_generated_usernames() -> None:
    names = {generate_antelope_username() for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert len(name) == 12 and name.isascii() and name.isalpha() and name.islower()
        assert is_valid_antelope_name(name)


def test_new_coop_account() -> None:
    account = new_coop_account("voskhod")
    key = K1PrivateKey.from_string(account.private_key)
    assert key.public_key.to_string() == account.public_key
    assert is_valid_antelope_name(account.username)
    assert account.private_key not in repr(account)
