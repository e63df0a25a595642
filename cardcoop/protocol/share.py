"""Sharing data with a cooperative (PROTOCOL.md §6): ECDH-ES+A256KW / A256GCM compact JWE.

RFC 7518 §4.6: an ephemeral key on the recipient's curve agrees a secret Z with the recipient's
key; the Concat KDF (§4.6.2) turns Z into a 256-bit key-encryption key; that key wraps a random
content-encryption key with AES Key Wrap (RFC 3394, §4.4); the content is A256GCM under the CEK.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from .encoding import b64u_decode, parse_json_object
from .errors import DecryptionFailed, InvalidKey, ProtocolError
from .jwe import (
    AES256_KEY_BYTES,
    ENC_A256GCM,
    check_iv,
    gcm_decrypt,
    parse_compact,
    serialize_compact,
)
from .jwk import (
    curve_name,
    ec_private_key_from_jwk,
    ec_public_key_from_jwk,
    jwk_thumbprint,
    public_jwk,
)
from .k1 import K1PrivateKey, K1PublicKey
from .kdf import concat_kdf_sha256

__all__ = ["PrivateKeyLike", "PublicKeyLike", "decrypt_share", "encrypt_share", "open_share"]

ALG_ECDH_ES_A256KW = "ECDH-ES+A256KW"
CTY_SHARE = "card-share+json"
_RESERVED = frozenset({"alg", "enc", "kid", "cty", "epk", "crit", "zip"})

# A recipient: a JWK, a K1 key object, a "PUB_K1_..."/"EOS..." string, or a cryptography key.
PublicKeyLike = Mapping[str, Any] | K1PublicKey | str | ec.EllipticCurvePublicKey
# The recipient's secret: a private JWK, a K1 key, "PVT_K1_..."/WIF, or a cryptography key.
PrivateKeyLike = Mapping[str, Any] | K1PrivateKey | str | ec.EllipticCurvePrivateKey


def _public_key(recipient: PublicKeyLike) -> ec.EllipticCurvePublicKey:
    if isinstance(recipient, K1PublicKey):
        return recipient.key
    if isinstance(recipient, str):
        return K1PublicKey.from_string(recipient).key
    if isinstance(recipient, ec.EllipticCurvePublicKey):
        curve_name(recipient)  # only curves with a JOSE name
        return recipient
    if isinstance(recipient, Mapping):
        # RFC 7517 §4.2: a key published for signatures must not be used to encrypt.
        if recipient.get("use", "enc") != "enc":
            raise InvalidKey("the JWK is not meant for encryption")
        return ec_public_key_from_jwk(recipient)
    raise InvalidKey("unsupported recipient key")


def _private_key(private_key: PrivateKeyLike) -> ec.EllipticCurvePrivateKey:
    if isinstance(private_key, K1PrivateKey):
        return private_key.key
    if isinstance(private_key, str):
        return K1PrivateKey.from_string(private_key).key
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        curve_name(private_key)
        return private_key
    if isinstance(private_key, Mapping):
        return ec_private_key_from_jwk(private_key)
    raise InvalidKey("unsupported private key")


def _apu_apv(header: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """PartyUInfo/PartyVInfo from "apu"/"apv" (b64u), empty when absent (RFC 7518 §4.6.1.2-3)."""
    values = []
    for name in ("apu", "apv"):
        value = header.get(name, "")
        if not isinstance(value, str):
            raise ProtocolError("apu/apv must be base64url strings")
        values.append(b64u_decode(value))
    return values[0], values[1]


def _kek(private: ec.EllipticCurvePrivateKey, public: ec.EllipticCurvePublicKey,
         header: Mapping[str, Any]) -> bytes:  # fmt: skip
    # Z is the x coordinate of the shared point (RFC 7518 §4.6.2: "the output of the ECDH
    # primitive"), which is what cryptography's ECDH exchange returns.
    shared = private.exchange(ec.ECDH(), public)
    apu, apv = _apu_apv(header)
    # For ECDH-ES+A256KW the KDF's AlgorithmID is the "alg" value and the length that of A256KW.
    return concat_kdf_sha256(shared, ALG_ECDH_ES_A256KW, AES256_KEY_BYTES * 8, apu, apv)


def encrypt_share(
    recipient: PublicKeyLike,
    plaintext: bytes,
    *,
    ephemeral_private: ec.EllipticCurvePrivateKey | None = None,
    cek: bytes | None = None,
    iv: bytes | None = None,
    extra_header: Mapping[str, Any] | None = None,
) -> str:
    """Encrypt `plaintext` (the UTF-8 JSON of §6) to a cooperative's key.

    The protected header is {"alg", "enc", "kid": RFC 7638 thumbprint of the recipient's JWK,
    "cty": "card-share+json", **extra_header, "epk"}; "apu"/"apv" in `extra_header` enter the KDF.
    `ephemeral_private`, `cek` and `iv` exist only to reproduce test vectors: in production leave
    them None, because reusing any of them undoes the encryption's guarantees.
    """
    public = _public_key(recipient)
    if ephemeral_private is None:
        ephemeral_private = ec.generate_private_key(public.curve)
    elif ephemeral_private.curve.name != public.curve.name:
        raise InvalidKey("the ephemeral key must be on the recipient's curve")
    if cek is None:
        cek = secrets.token_bytes(AES256_KEY_BYTES)
    elif not isinstance(cek, bytes) or len(cek) != AES256_KEY_BYTES:
        raise InvalidKey("the CEK of A256GCM is 32 bytes")
    extra = dict(extra_header or {})
    if _RESERVED & set(extra):
        raise ProtocolError("extra_header may not set reserved header names")
    recipient_jwk = public_jwk(public)
    header: dict[str, Any] = {
        "alg": ALG_ECDH_ES_A256KW,
        "enc": ENC_A256GCM,
        "kid": jwk_thumbprint(recipient_jwk),
        "cty": CTY_SHARE,
        **extra,
        "epk": public_jwk(ephemeral_private.public_key()),
    }
    encrypted_key = aes_key_wrap(_kek(ephemeral_private, public, header), cek)
    return serialize_compact(header, encrypted_key, cek, check_iv(iv), plaintext)


def open_share(jwe: str, private_key: PrivateKeyLike) -> tuple[dict[str, Any], bytes]:
    """Decrypt a share with the recipient's private key; returns (protected header, plaintext).

    Raises DecryptionFailed for a wrong key, tampering, another algorithm or another "cty".
    """
    private = _private_key(private_key)
    parsed = parse_compact(jwe)
    header = parsed.header
    if header.get("alg") != ALG_ECDH_ES_A256KW or header.get("enc") != ENC_A256GCM:
        raise DecryptionFailed("cannot decrypt")
    epk = header.get("epk")
    if not isinstance(epk, Mapping) or epk.get("crv") != curve_name(private):
        raise DecryptionFailed("cannot decrypt")
    try:
        # Validates the point (on the curve, full-size coordinates): RFC 8725 §3.4.
        ephemeral_public = ec_public_key_from_jwk(epk)
        kek = _kek(private, ephemeral_public, header)
        cek = aes_key_unwrap(kek, parsed.encrypted_key)
    except (ProtocolError, InvalidUnwrap, ValueError):
        raise DecryptionFailed("cannot decrypt") from None
    if len(cek) != AES256_KEY_BYTES:
        raise DecryptionFailed("cannot decrypt")
    plaintext = gcm_decrypt(cek, parsed)
    if header.get("cty") != CTY_SHARE:
        raise DecryptionFailed("cannot decrypt")
    return header, plaintext


def decrypt_share(jwe: str, private_key: PrivateKeyLike) -> dict[str, Any]:
    """`open_share` and parse the plaintext as the JSON object of §6."""
    _, plaintext = open_share(jwe, private_key)
    return parse_json_object(plaintext)
