"""Compact JWE plumbing shared by the envelopes and the shares (RFC 7516 §3.1, §5)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .encoding import b64u_decode, b64u_encode, compact_json, parse_json_object
from .errors import DecryptionFailed, InvalidKey, ProtocolError

ENC_A256GCM = "A256GCM"
GCM_IV_BYTES = 12  # 96-bit IV, RFC 7518 §5.3
GCM_TAG_BYTES = 16  # 128-bit tag, RFC 7518 §5.3
AES256_KEY_BYTES = 32


@dataclass(frozen=True)
class CompactJWE:
    """The five parts of a compact JWE, decoded, plus the header segment exactly as received."""

    protected_b64u: str
    header: dict[str, Any]
    encrypted_key: bytes
    iv: bytes
    ciphertext: bytes
    tag: bytes


def parse_compact(jwe: str) -> CompactJWE:
    """Split and decode a compact JWE; every malformation is reported as DecryptionFailed."""
    if not isinstance(jwe, str):
        raise DecryptionFailed("cannot decrypt")
    parts = jwe.split(".")
    if len(parts) != 5:
        raise DecryptionFailed("cannot decrypt")
    try:
        header = parse_json_object(b64u_decode(parts[0]))
        encrypted_key, iv, ciphertext, tag = (b64u_decode(part) for part in parts[1:])
    except ProtocolError:
        raise DecryptionFailed("cannot decrypt") from None
    if len(iv) != GCM_IV_BYTES or len(tag) != GCM_TAG_BYTES:
        raise DecryptionFailed("cannot decrypt")
    # RFC 7516 §4.1.13: a recipient must reject a JWE whose "crit" names extensions it does not
    # understand; we understand none. "zip" is not part of protocol v1 either.
    if "crit" in header or "zip" in header:
        raise DecryptionFailed("cannot decrypt")
    return CompactJWE(parts[0], header, encrypted_key, iv, ciphertext, tag)


def serialize_compact(
    header: dict[str, Any], encrypted_key: bytes, key: bytes, iv: bytes, plaintext: bytes
) -> str:
    """Encrypt `plaintext` with A256GCM under `key` and return the compact serialization.

    The AAD is ASCII(BASE64URL(UTF8(protected header))) (RFC 7516 §5.1 steps 13-14), so the
    header - and with it "cty" and the other slot fields - is authenticated.
    """
    protected = b64u_encode(compact_json(header))
    ciphertext, tag = gcm_encrypt(key, iv, plaintext, protected.encode("ascii"))
    return ".".join(
        (protected, b64u_encode(encrypted_key), b64u_encode(iv), b64u_encode(ciphertext),
         b64u_encode(tag))
    )  # fmt: skip


def check_aes256_key(key: bytes) -> bytes:
    if not isinstance(key, bytes) or len(key) != AES256_KEY_BYTES:
        raise InvalidKey("expected a 32-byte key")
    return key


def check_iv(iv: bytes | None) -> bytes:
    """The given IV (only ever for test vectors) or a fresh random one; GCM must never reuse an
    IV under the same key, so production callers leave it None."""
    if iv is None:
        return secrets.token_bytes(GCM_IV_BYTES)
    if not isinstance(iv, bytes) or len(iv) != GCM_IV_BYTES:
        raise ProtocolError("IV must be 12 bytes")
    return iv


def gcm_encrypt(key: bytes, iv: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    sealed = AESGCM(check_aes256_key(key)).encrypt(iv, plaintext, aad)
    return sealed[:-GCM_TAG_BYTES], sealed[-GCM_TAG_BYTES:]


def gcm_decrypt(key: bytes, parsed: CompactJWE) -> bytes:
    try:
        return AESGCM(check_aes256_key(key)).decrypt(
            parsed.iv, parsed.ciphertext + parsed.tag, parsed.protected_b64u.encode("ascii")
        )
    except InvalidTag:
        raise DecryptionFailed("cannot decrypt") from None
