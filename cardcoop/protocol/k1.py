"""Antelope "K1" (secp256k1) keys and their string forms (PROTOCOL.md §5).

    PVT_K1_<base58(d || ripemd160(d || "K1")[:4])>          d: 32-byte scalar
    WIF     <base58(0x80 || d || sha256(sha256(0x80 || d))[:4])>   (legacy, accepted)
    PUB_K1_<base58(P || ripemd160(P || "K1")[:4])>          P: 33-byte compressed point
    EOS    <base58(P || ripemd160(P)[:4])>                 (legacy, accepted)

These are the forms the Antelope libraries (@wharfkit/antelope, leap's fc) read and write.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .encoding import b58_decode, b58_encode
from .errors import InvalidKey, ProtocolError
from .jwk import (
    ec_private_key_from_jwk,
    ec_public_key_from_jwk,
    jwk_thumbprint,
    private_jwk,
    public_jwk,
)
from .ripemd160 import ripemd160

__all__ = ["K1PrivateKey", "K1PublicKey"]

_CURVE = ec.SECP256K1()
_PRIVATE_PREFIX = "PVT_K1_"
_PUBLIC_PREFIX = "PUB_K1_"
_LEGACY_PUBLIC_PREFIX = "EOS"
_WIF_VERSION = b"\x80"
_SCALAR_BYTES = 32
_POINT_BYTES = 33


def _k1_checksum(payload: bytes) -> bytes:
    # The new-style strings append the key type ("K1") before hashing, so a K1 key cannot be
    # read as an R1 key of the same bytes.
    return ripemd160(payload + b"K1")[:4]


def _legacy_checksum(payload: bytes) -> bytes:
    return ripemd160(payload)[:4]


def _wif_checksum(payload: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def _decode_checked(body: str, size: int, checksum: Callable[[bytes], bytes]) -> bytes:
    """base58-decode `body`, expect `size` payload bytes + 4 checksum bytes, verify the checksum."""
    try:
        raw = b58_decode(body)
    except ProtocolError:
        raise InvalidKey("invalid key string") from None
    if len(raw) != size + 4:
        raise InvalidKey("invalid key string")
    payload, check = raw[:-4], raw[-4:]
    if not hmac.compare_digest(checksum(payload), check):
        raise InvalidKey("key string checksum mismatch")
    return payload


class K1PublicKey:
    """A secp256k1 public key. Immutable; equal when the points are equal."""

    __slots__ = ("_key",)

    def __init__(self, key: ec.EllipticCurvePublicKey) -> None:
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != _CURVE.name:
            raise InvalidKey("expected a secp256k1 public key")
        self._key = key

    @classmethod
    def from_bytes(cls, point: bytes) -> K1PublicKey:
        """From the 33-byte SEC 1 compressed point (0x02/0x03 || x)."""
        if len(point) != _POINT_BYTES or point[0] not in (2, 3):
            raise InvalidKey("expected a compressed secp256k1 point")
        try:
            return cls(ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, point))
        except ValueError:
            raise InvalidKey("point is not on the curve") from None

    @classmethod
    def from_string(cls, text: str) -> K1PublicKey:
        """Parse "PUB_K1_..." or the legacy "EOS..." form, verifying the checksum."""
        if not isinstance(text, str):
            raise InvalidKey("invalid key string")
        if text.startswith(_PUBLIC_PREFIX):
            body, checksum = text[len(_PUBLIC_PREFIX) :], _k1_checksum
        elif text.startswith(_LEGACY_PUBLIC_PREFIX):
            body, checksum = text[len(_LEGACY_PUBLIC_PREFIX) :], _legacy_checksum
        else:
            raise InvalidKey("unknown public key format")
        return cls.from_bytes(_decode_checked(body, _POINT_BYTES, checksum))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> K1PublicKey:
        if jwk.get("crv") != "secp256k1":
            raise InvalidKey("expected a secp256k1 JWK")
        return cls(ec_public_key_from_jwk(jwk))

    @property
    def key(self) -> ec.EllipticCurvePublicKey:
        """The `cryptography` key object."""
        return self._key

    def to_bytes(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )

    def to_string(self) -> str:
        """The "PUB_K1_..." form, to store and show."""
        point = self.to_bytes()
        return _PUBLIC_PREFIX + b58_encode(point + _k1_checksum(point))

    def to_legacy_string(self) -> str:
        """The legacy "EOS..." form that older tools and chain APIs (get_account) print."""
        point = self.to_bytes()
        return _LEGACY_PUBLIC_PREFIX + b58_encode(point + _legacy_checksum(point))

    def to_jwk(self) -> dict[str, str]:
        """{"kty": "EC", "crv": "secp256k1", "x", "y"} (RFC 8812 §3.1)."""
        return public_jwk(self._key)

    @property
    def thumbprint(self) -> str:
        """RFC 7638 thumbprint of `to_jwk()`: the "kid" of shares encrypted to this key."""
        return jwk_thumbprint(self.to_jwk())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, K1PublicKey) and self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return f"K1PublicKey({self.to_string()!r})"


class K1PrivateKey:
    """A secp256k1 private key. `repr()` shows only the public key, never the scalar."""

    __slots__ = ("_key",)

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != _CURVE.name:
            raise InvalidKey("expected a secp256k1 private key")
        self._key = key

    @classmethod
    def generate(cls) -> K1PrivateKey:
        """A fresh key from the OS CSPRNG (via OpenSSL)."""
        return cls(ec.generate_private_key(_CURVE))

    @classmethod
    def from_bytes(cls, scalar: bytes) -> K1PrivateKey:
        """From the 32-byte big-endian scalar d, 1 <= d < n."""
        if len(scalar) != _SCALAR_BYTES:
            raise InvalidKey("expected a 32-byte secp256k1 scalar")
        try:
            return cls(ec.derive_private_key(int.from_bytes(scalar, "big"), _CURVE))
        except ValueError:
            raise InvalidKey("private scalar out of range") from None

    @classmethod
    def from_string(cls, text: str) -> K1PrivateKey:
        """Parse "PVT_K1_..." or the legacy WIF form, verifying the checksum."""
        if not isinstance(text, str):
            raise InvalidKey("invalid key string")
        if text.startswith(_PRIVATE_PREFIX):
            body = text[len(_PRIVATE_PREFIX) :]
            return cls.from_bytes(_decode_checked(body, _SCALAR_BYTES, _k1_checksum))
        # WIF: version byte 0x80 || d; the checksum covers the version byte too.
        payload = _decode_checked(text, 1 + _SCALAR_BYTES, _wif_checksum)
        if payload[:1] != _WIF_VERSION:
            raise InvalidKey("unknown private key format")
        return cls.from_bytes(payload[1:])

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> K1PrivateKey:
        if jwk.get("crv") != "secp256k1":
            raise InvalidKey("expected a secp256k1 JWK")
        return cls(ec_private_key_from_jwk(jwk))

    @property
    def key(self) -> ec.EllipticCurvePrivateKey:
        """The `cryptography` key object."""
        return self._key

    @property
    def public_key(self) -> K1PublicKey:
        return K1PublicKey(self._key.public_key())

    def to_bytes(self) -> bytes:
        return self._key.private_numbers().private_value.to_bytes(_SCALAR_BYTES, "big")

    def to_string(self) -> str:
        """The "PVT_K1_..." form, the one stored inside `encrypted_account`."""
        scalar = self.to_bytes()
        return _PRIVATE_PREFIX + b58_encode(scalar + _k1_checksum(scalar))

    def to_wif(self) -> str:
        """Legacy WIF (uncompressed-key flavour, as Antelope uses it: no 0x01 suffix)."""
        payload = _WIF_VERSION + self.to_bytes()
        return b58_encode(payload + _wif_checksum(payload))

    def to_jwk(self) -> dict[str, str]:
        """The private JWK {"kty", "crv", "x", "y", "d"}."""
        return private_jwk(self._key)

    def __repr__(self) -> str:
        return f"K1PrivateKey(public_key={self.public_key.to_string()!r})"
