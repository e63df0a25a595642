"""Key derivation (PROTOCOL.md §2) beyond the vectors."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cardcoop.crypto import (
    DEFAULT_ITERATIONS,
    KdfParams,
    ProtocolError,
    b64u_decode,
    concat_kdf_sha256,
    decoy_server_salt,
    derive_keys,
    generate_server_salt,
)
from cardcoop.protocol.jwk import ec_private_key_from_jwk, ec_public_key_from_jwk

SALT = "AAECAwQFBgcICQoLDA0ODw"
FAST = KdfParams(iterations=100_000)


def test_defaults() -> None:
    assert KdfParams().to_dict() == {"type": "pbkdf2-sha256", "iterations": DEFAULT_ITERATIONS}
    assert DEFAULT_ITERATIONS == 600_000


@pytest.mark.parametrize(
    "data",
    [
        {"type": "pbkdf2-sha256", "iterations": 99_999},
        {"type": "argon2id", "iterations": 600_000},
        {"type": "pbkdf2-sha256", "iterations": "600000"},
        {"type": "pbkdf2-sha256", "iterations": True},
        {"type": "pbkdf2-sha256"},
        {},
    ],
)
def test_bad_kdf_params_are_rejected(data: dict[str, object]) -> None:
    with pytest.raises(ProtocolError):
        KdfParams.from_dict(data)


def test_nfkc_and_email_normalization_give_the_same_keys() -> None:
    a = derive_keys("\ufb01le \uff30", " Member@Card.Coop ", SALT, FAST)
    b = derive_keys("file P", "member@card.coop", SALT, FAST)
    assert a == b
    assert a.enc_key != a.hash_key != a.master_key


def test_server_salt_must_be_16_bytes() -> None:
    with pytest.raises(ProtocolError):
        derive_keys("p", "e@x.y", "AAECAwQFBgcICQoLDA0O", FAST)  # 15 bytes
    with pytest.raises(ProtocolError):
        derive_keys("p", "e@x.y", "not base64!", FAST)


def test_derived_keys_repr_hides_keys() -> None:
    keys = derive_keys("p", "e@x.y", SALT, FAST)
    assert keys.hash_key_b64u not in repr(keys)
    assert keys.enc_key.hex() not in repr(keys)


def test_generated_server_salt() -> None:
    salts = {generate_server_salt() for _ in range(8)}
    assert len(salts) == 8
    assert all(len(b64u_decode(salt)) == 16 for salt in salts)


def test_decoy_salt_depends_on_normalized_email_and_secret() -> None:
    secret = b"s" * 32
    assert decoy_server_salt(secret, " A@B.C") == decoy_server_salt(secret, "a@b.c")
    assert decoy_server_salt(secret, "a@b.c") != decoy_server_salt(secret, "a@b.d")
    assert decoy_server_salt(secret, "a@b.c") != decoy_server_salt(b"t" * 32, "a@b.c")


def test_concat_kdf_rfc7518_appendix_c() -> None:
    """The worked ECDH-ES example of RFC 7518 Appendix C (P-256, A128GCM, apu/apv)."""
    alice = ec_private_key_from_jwk(
        {
            "kty": "EC",
            "crv": "P-256",
            "x": "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
            "y": "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
            "d": "0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo",
        }
    )
    bob = ec_public_key_from_jwk(
        {
            "kty": "EC",
            "crv": "P-256",
            "x": "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ",
            "y": "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck",
        }
    )
    shared = alice.exchange(ec.ECDH(), bob)
    assert list(shared[:4]) == [158, 86, 217, 29]
    derived = concat_kdf_sha256(shared, "A128GCM", 128, b"Alice", b"Bob")
    assert derived == b64u_decode("VqqN6vgjbSBcIijNcacQGg")


def test_concat_kdf_multiple_rounds_and_bad_lengths() -> None:
    z = b"\x01" * 32
    long = concat_kdf_sha256(z, "X", 512)
    assert len(long) == 64
    with pytest.raises(ProtocolError):
        concat_kdf_sha256(z, "X", 7)
