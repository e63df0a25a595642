"""Shares (PROTOCOL.md §6): round trips, header rules, and interop with JOSE libraries."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cardcoop.crypto import (
    DecryptionFailed,
    InvalidKey,
    K1PrivateKey,
    ProtocolError,
    b64u_encode,
    decrypt_share,
    encrypt_share,
    jwk_thumbprint,
    open_share,
)
from cardcoop.protocol import share
from cardcoop.protocol.jwk import private_jwk, public_jwk

PAYLOAD = {"v": 1, "coopname": "voskhod", "data": {"first_name": "Иван"}}
PLAINTEXT = json.dumps(PAYLOAD, ensure_ascii=False).encode()


def _header(jwe: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(jwe.split(".")[0] + "=="))
    return value


@pytest.fixture(params=["secp256k1", "P-256", "P-384", "P-521"])
def recipient(request: pytest.FixtureRequest) -> ec.EllipticCurvePrivateKey:
    curves = {
        "secp256k1": ec.SECP256K1(),
        "P-256": ec.SECP256R1(),
        "P-384": ec.SECP384R1(),
        "P-521": ec.SECP521R1(),
    }
    return ec.generate_private_key(curves[request.param])


def test_round_trip(recipient: ec.EllipticCurvePrivateKey) -> None:
    jwk = public_jwk(recipient.public_key())
    jwe = encrypt_share(jwk, PLAINTEXT)
    header = _header(jwe)
    assert list(header) == ["alg", "enc", "kid", "cty", "epk"]
    assert header["kid"] == jwk_thumbprint(jwk)
    assert header["epk"]["crv"] == jwk["crv"]
    assert decrypt_share(jwe, private_jwk(recipient)) == PAYLOAD
    assert decrypt_share(jwe, recipient) == PAYLOAD
    assert encrypt_share(jwk, PLAINTEXT) != jwe  # fresh ephemeral key, CEK and IV


def test_k1_recipient_forms() -> None:
    key = K1PrivateKey.generate()
    for recipient in (
        key.public_key,
        key.public_key.to_string(),
        key.public_key.to_legacy_string(),
        key.public_key.key,
    ):
        jwe = encrypt_share(recipient, PLAINTEXT)
        assert _header(jwe)["kid"] == key.public_key.thumbprint
        for secret in (key, key.to_string(), key.to_wif(), key.to_jwk()):
            assert decrypt_share(jwe, secret) == PAYLOAD


def test_wrong_private_key_fails(recipient: ec.EllipticCurvePrivateKey) -> None:
    jwe = encrypt_share(public_jwk(recipient.public_key()), PLAINTEXT)
    with pytest.raises(DecryptionFailed):
        open_share(jwe, ec.generate_private_key(recipient.curve))


def test_private_key_on_another_curve_fails() -> None:
    jwe = encrypt_share(K1PrivateKey.generate().public_key, PLAINTEXT)
    with pytest.raises(DecryptionFailed):
        open_share(jwe, ec.generate_private_key(ec.SECP256R1()))


def _swap_header(jwe: str, **changes: Any) -> str:
    header = {**_header(jwe), **changes}
    segment = b64u_encode(json.dumps(header, separators=(",", ":")).encode())
    return ".".join([segment, *jwe.split(".")[1:]])


def test_tampering_and_header_rules() -> None:
    key = K1PrivateKey.generate()
    jwe = encrypt_share(key.public_key, PLAINTEXT)
    other_epk = public_jwk(ec.generate_private_key(ec.SECP256K1()).public_key())
    bad_point = {**other_epk, "y": other_epk["x"]}
    for forged in (
        _swap_header(jwe, cty="card-key"),
        _swap_header(jwe, kid="x"),
        _swap_header(jwe, epk=other_epk),
        _swap_header(jwe, epk=bad_point),
        _swap_header(jwe, alg="ECDH-ES"),
        _swap_header(jwe, enc="A128GCM"),
        _swap_header(jwe, apu="QWxpY2U"),
        _swap_header(jwe, zip="DEF"),
        jwe[:-4] + ("AAAA" if not jwe.endswith("AAAA") else "BBBA"),
    ):
        with pytest.raises(DecryptionFailed):
            open_share(forged, key)


def test_cty_is_checked_even_when_everything_authenticates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = K1PrivateKey.generate()
    jwe = encrypt_share(key.public_key, PLAINTEXT, extra_header={"x": 1})
    assert open_share(jwe, key)[0]["x"] == 1
    # A well-formed, correctly encrypted JWE made for another content type is still refused.
    with monkeypatch.context() as patch:
        patch.setattr(share, "CTY_SHARE", "other+json")
        made_for_another_slot = encrypt_share(key.public_key, PLAINTEXT)
    assert _header(made_for_another_slot)["cty"] == "other+json"
    with pytest.raises(DecryptionFailed):
        open_share(made_for_another_slot, key)


def test_apu_apv_enter_the_kdf_and_header_order() -> None:
    key = K1PrivateKey.generate()
    jwe = encrypt_share(key.public_key, PLAINTEXT, extra_header={"apu": "QWxpY2U", "apv": "Qm9i"})
    assert list(_header(jwe)) == ["alg", "enc", "kid", "cty", "apu", "apv", "epk"]
    assert decrypt_share(jwe, key) == PAYLOAD


def test_bad_arguments() -> None:
    key = K1PrivateKey.generate()
    with pytest.raises(ProtocolError):
        encrypt_share(key.public_key, PLAINTEXT, extra_header={"cty": "x"})
    with pytest.raises(InvalidKey):
        encrypt_share(key.public_key, PLAINTEXT, cek=bytes(16))
    with pytest.raises(InvalidKey):
        encrypt_share(
            key.public_key, PLAINTEXT, ephemeral_private=ec.generate_private_key(ec.SECP256R1())
        )
    with pytest.raises(InvalidKey):
        encrypt_share({**key.public_key.to_jwk(), "use": "sig"}, PLAINTEXT)
    with pytest.raises(InvalidKey):
        encrypt_share({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, PLAINTEXT)
    with pytest.raises(InvalidKey):
        encrypt_share("PUB_K1_broken", PLAINTEXT)


def test_non_object_plaintext_is_a_protocol_error() -> None:
    key = K1PrivateKey.generate()
    jwe = encrypt_share(key.public_key, b"[1, 2]")
    assert open_share(jwe, key)[1] == b"[1, 2]"
    with pytest.raises(ProtocolError):
        decrypt_share(jwe, key)


# --- interop: "any JOSE library decrypts it with the cooperative's private key" ------------------


def test_jwcrypto_decrypts_our_shares(recipient: ec.EllipticCurvePrivateKey) -> None:
    jwcrypto_jwe = pytest.importorskip("jwcrypto.jwe")
    jwcrypto_jwk = pytest.importorskip("jwcrypto.jwk")
    jwe = encrypt_share(
        public_jwk(recipient.public_key()), PLAINTEXT, extra_header={"apu": "QWxpY2U"}
    )
    token = jwcrypto_jwe.JWE()
    token.deserialize(jwe, key=jwcrypto_jwk.JWK(**private_jwk(recipient)))
    assert token.payload == PLAINTEXT


def test_we_decrypt_jwcrypto_shares(recipient: ec.EllipticCurvePrivateKey) -> None:
    jwcrypto_jwe = pytest.importorskip("jwcrypto.jwe")
    jwcrypto_jwk = pytest.importorskip("jwcrypto.jwk")
    header = {
        "alg": "ECDH-ES+A256KW",
        "enc": "A256GCM",
        "cty": "card-share+json",
        "apu": "QWxpY2U",
        "apv": "Qm9i",
    }
    token = jwcrypto_jwe.JWE(PLAINTEXT, json.dumps(header))
    token.add_recipient(jwcrypto_jwk.JWK(**public_jwk(recipient.public_key())))
    assert decrypt_share(token.serialize(compact=True), recipient) == PAYLOAD


def test_joserfc_decrypts_our_shares() -> None:
    joserfc_jwe = pytest.importorskip("joserfc.jwe")
    joserfc_jwk = pytest.importorskip("joserfc.jwk")
    for curve in (ec.SECP256K1(), ec.SECP256R1()):
        secret = ec.generate_private_key(curve)
        jwe = encrypt_share(public_jwk(secret.public_key()), PLAINTEXT)
        key = joserfc_jwk.ECKey.import_key(private_jwk(secret))
        assert joserfc_jwe.decrypt_compact(jwe, key).plaintext == PLAINTEXT
