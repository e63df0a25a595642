"""EC JSON Web Keys (RFC 7517, RFC 7518 §6.2) and thumbprints (RFC 7638)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from .encoding import b64u_decode, b64u_encode, compact_json
from .errors import InvalidKey, ProtocolError

__all__ = [
    "ec_private_key_from_jwk",
    "ec_public_key_from_jwk",
    "jwk_thumbprint",
    "private_jwk",
    "public_jwk",
]

# JWK "crv" names: RFC 7518 §6.2.1.1 for the NIST curves, RFC 8812 §3.1 for secp256k1.
_CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
    "secp256k1": ec.SECP256K1(),
}
_CRV_BY_OPENSSL_NAME = {curve.name: crv for crv, curve in _CURVES.items()}

# RFC 7638 §3.2: the required members of each key type, the only ones hashed.
_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "oct": ("k", "kty"),
    "OKP": ("crv", "kty", "x"),  # RFC 8037 §2
}


def _coordinate_size(curve: ec.EllipticCurve) -> int:
    return (curve.key_size + 7) // 8


def curve_name(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> str:
    """The JWK "crv" of a key, or InvalidKey for a curve that JOSE has no name for."""
    crv = _CRV_BY_OPENSSL_NAME.get(key.curve.name)
    if crv is None:
        raise InvalidKey("unsupported curve")
    return crv


def _field(jwk: Mapping[str, Any], name: str, size: int) -> int:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise InvalidKey("malformed JWK")
    try:
        raw = b64u_decode(value)
    except ProtocolError:
        raise InvalidKey("malformed JWK") from None
    # RFC 7518 §6.2.1.2/§6.2.2.1: coordinates and "d" are the full size of the field, even when
    # leading bytes are zero; a shorter value is an encoding error, not a smaller number.
    if len(raw) != size:
        raise InvalidKey("malformed JWK")
    return int.from_bytes(raw, "big")


def _curve_of(jwk: Mapping[str, Any]) -> ec.EllipticCurve:
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "EC":
        raise InvalidKey("expected an EC JWK")
    curve = _CURVES.get(str(jwk.get("crv")))
    if curve is None:
        raise InvalidKey("unsupported curve")
    return curve


def ec_public_key_from_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """The public key of an EC JWK. The point is checked to lie on the curve: that check is what
    stops invalid-curve attacks on ECDH-ES (RFC 8725 §2.7 and §3.4)."""
    curve = _curve_of(jwk)
    size = _coordinate_size(curve)
    x, y = _field(jwk, "x", size), _field(jwk, "y", size)
    try:
        return ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
    except ValueError:
        raise InvalidKey("point is not on the curve") from None


def ec_private_key_from_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePrivateKey:
    """The private key of an EC JWK with "d"; x/y, when present, must match d."""
    curve = _curve_of(jwk)
    d = _field(jwk, "d", _coordinate_size(curve))
    try:
        key = ec.derive_private_key(d, curve)
    except ValueError:
        raise InvalidKey("private scalar out of range") from None
    if "x" in jwk or "y" in jwk:
        numbers = key.public_key().public_numbers()
        if ec_public_key_from_jwk(jwk).public_numbers() != numbers:
            raise InvalidKey("JWK public part does not match its private part")
    return key


def public_jwk(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """{"kty", "crv", "x", "y"} in that order, the order the vectors use."""
    numbers = key.public_numbers()
    size = _coordinate_size(key.curve)
    return {
        "kty": "EC",
        "crv": curve_name(key),
        "x": b64u_encode(numbers.x.to_bytes(size, "big")),
        "y": b64u_encode(numbers.y.to_bytes(size, "big")),
    }


def private_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """The public JWK plus "d" (RFC 7518 §6.2.2.1)."""
    jwk = public_jwk(key.public_key())
    d = key.private_numbers().private_value
    jwk["d"] = b64u_encode(d.to_bytes(_coordinate_size(key.curve), "big"))
    return jwk


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint: b64u(SHA-256(JSON of the required members, sorted, no spaces)).

    Other members (including "d", "kid", "use") are ignored, so a private JWK has the same
    thumbprint as its public half.
    """
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None:
        raise InvalidKey("unsupported JWK key type")
    selected = {}
    for name in members:  # already in lexicographic order (RFC 7638 §3.3)
        value = jwk.get(name)
        if not isinstance(value, str):
            raise InvalidKey("malformed JWK")
        selected[name] = value
    return b64u_encode(hashlib.sha256(compact_json(selected)).digest())
