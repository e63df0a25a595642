"""Symmetric envelopes (PROTOCOL.md §3): compact JWE, "alg": "dir", "enc": "A256GCM".

Every blob names its slot in the protected header ("cty" plus slot fields such as "schema" or
"coop"). The header is the GCM AAD (RFC 7516 §5.1 step 14), and `open_envelope` refuses a header
other than the one the caller expects, so a blob cannot be moved to another slot.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from .accounts import CoopAccount
from .encoding import compact_json, parse_json_object
from .errors import DecryptionFailed, InvalidKey, ProtocolError
from .jwe import (
    ENC_A256GCM,
    check_aes256_key,
    check_iv,
    gcm_decrypt,
    parse_compact,
    serialize_compact,
)
from .recovery import recovery_enc_key

__all__ = [
    "decrypt_account",
    "decrypt_personal_data",
    "encrypt_account",
    "encrypt_personal_data",
    "generate_card_key",
    "open_envelope",
    "recovery_unwrap_card_key",
    "recovery_wrap_card_key",
    "seal_envelope",
    "unwrap_card_key",
    "wrap_card_key",
]

ALG_DIR = "dir"
VERSION = 1
CARD_KEY_BYTES = 32
CTY_CARD_KEY = "card-key"
CTY_PERSONAL_DATA = "personal-data+json"
CTY_ACCOUNT = "coop-account+json"
_RESERVED = frozenset({"alg", "enc", "crit", "zip", "epk"})


def generate_card_key() -> bytes:
    """A fresh `card_key` (32 random bytes), made by the client when the card is issued."""
    return secrets.token_bytes(CARD_KEY_BYTES)


def seal_envelope(
    key: bytes, plaintext: bytes, header_fields: Mapping[str, Any], iv: bytes | None = None
) -> str:
    """Encrypt `plaintext` under the 32-byte `key` as a dir/A256GCM compact JWE.

    The protected header is {"alg": "dir", "enc": "A256GCM", **header_fields}, serialized in that
    order (PROTOCOL.md §1). `header_fields` must name the slot with "cty". Leave `iv` None: a
    fixed IV exists only to reproduce test vectors, and reusing one under a key breaks GCM.
    """
    check_aes256_key(key)
    if not isinstance(header_fields.get("cty"), str) or _RESERVED & set(header_fields):
        raise ProtocolError("header fields must contain cty and no reserved names")
    header = {"alg": ALG_DIR, "enc": ENC_A256GCM, **header_fields}
    return serialize_compact(header, b"", key, check_iv(iv), plaintext)


def open_envelope(key: bytes, jwe: str, expected_cty: str) -> tuple[dict[str, Any], bytes]:
    """Decrypt a dir/A256GCM compact JWE whose header says "cty": `expected_cty`.

    Returns (protected header, plaintext). Raises DecryptionFailed for a wrong key, any tampering,
    a malformed JWE, another algorithm, or a blob made for another slot.
    """
    check_aes256_key(key)
    parsed = parse_compact(jwe)
    header = parsed.header
    if header.get("alg") != ALG_DIR or header.get("enc") != ENC_A256GCM or parsed.encrypted_key:
        raise DecryptionFailed("cannot decrypt")
    plaintext = gcm_decrypt(key, parsed)
    # Checked after decryption so that every decision rests on authenticated header bytes.
    if header.get("cty") != expected_cty:
        raise DecryptionFailed("cannot decrypt")
    return header, plaintext


def _same(value: Any, expected: Any) -> bool:
    # type() as well: in Python True == 1, but the header {"v": true} is not version 1.
    return type(value) is type(expected) and bool(value == expected)


def _open_slot(
    key: bytes, jwe: str, fields: Mapping[str, Any], absent: tuple[str, ...] = ()
) -> bytes:
    header, plaintext = open_envelope(key, jwe, fields["cty"])
    if not all(_same(header.get(name), value) for name, value in fields.items()):
        raise DecryptionFailed("cannot decrypt")
    if any(name in header for name in absent):
        raise DecryptionFailed("cannot decrypt")
    return plaintext


def _check_card_key(card_key: bytes) -> bytes:
    if not isinstance(card_key, bytes) or len(card_key) != CARD_KEY_BYTES:
        raise InvalidKey("a card key is 32 bytes")
    return card_key


def _card_key_plaintext(plaintext: bytes) -> bytes:
    if len(plaintext) != CARD_KEY_BYTES:
        raise DecryptionFailed("cannot decrypt")
    return plaintext


_WRAPPED_CARD_KEY = {"cty": CTY_CARD_KEY, "v": VERSION}
_RECOVERY_WRAPPED_CARD_KEY = {"cty": CTY_CARD_KEY, "v": VERSION, "via": "recovery"}


def wrap_card_key(enc_key: bytes, card_key: bytes, *, iv: bytes | None = None) -> str:
    """`wrapped_card_key`: the card key under the password-derived `enc_key`."""
    return seal_envelope(enc_key, _check_card_key(card_key), _WRAPPED_CARD_KEY, iv)


def unwrap_card_key(enc_key: bytes, jwe: str) -> bytes:
    """Inverse of `wrap_card_key`. A recovery-wrapped blob ("via") is refused here."""
    plaintext = _open_slot(enc_key, jwe, _WRAPPED_CARD_KEY, absent=("via",))
    return _card_key_plaintext(plaintext)


def recovery_wrap_card_key(
    recovery_key: bytes | str, card_key: bytes, *, iv: bytes | None = None
) -> str:
    """`recovery_wrapped_card_key`: the card key under HKDF(recovery_key, ".../recovery-enc").
    `recovery_key` is the 32 raw bytes or the string shown to the user."""
    key = recovery_enc_key(recovery_key)
    return seal_envelope(key, _check_card_key(card_key), _RECOVERY_WRAPPED_CARD_KEY, iv)


def recovery_unwrap_card_key(recovery_key: bytes | str, jwe: str) -> bytes:
    """Inverse of `recovery_wrap_card_key`."""
    plaintext = _open_slot(recovery_enc_key(recovery_key), jwe, _RECOVERY_WRAPPED_CARD_KEY)
    return _card_key_plaintext(plaintext)


recovery_unwrap = recovery_unwrap_card_key


def _check_label(value: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"{what} must be a non-empty string")
    return value


def encrypt_personal_data(
    card_key: bytes, data: Mapping[str, Any], schema: str, *, iv: bytes | None = None
) -> str:
    """`encrypted_personal_data`: compact UTF-8 JSON of `data` under the card key, the header
    naming the card schema id. Validating `data` against the schema is the caller's job."""
    fields = {"cty": CTY_PERSONAL_DATA, "v": VERSION, "schema": _check_label(schema, "schema")}
    return seal_envelope(_check_card_key(card_key), compact_json(dict(data)), fields, iv)


def decrypt_personal_data(card_key: bytes, jwe: str, schema: str) -> dict[str, Any]:
    """Inverse of `encrypt_personal_data`; `schema` is the id the caller expects (from `meta`),
    and a blob written for another schema is refused."""
    fields = {"cty": CTY_PERSONAL_DATA, "v": VERSION, "schema": _check_label(schema, "schema")}
    return parse_json_object(_open_slot(_check_card_key(card_key), jwe, fields))


def encrypt_account(
    card_key: bytes, account: CoopAccount | Mapping[str, str], *, iv: bytes | None = None
) -> str:
    """`encrypted_account`: the account record under the card key, header "coop" = coopname."""
    record = account if isinstance(account, CoopAccount) else CoopAccount.from_dict(account)
    fields = {"cty": CTY_ACCOUNT, "v": VERSION, "coop": _check_label(record.coopname, "coopname")}
    return seal_envelope(_check_card_key(card_key), compact_json(record.to_dict()), fields, iv)


def decrypt_account(card_key: bytes, jwe: str, coopname: str) -> CoopAccount:
    """Inverse of `encrypt_account` for the account in `coopname`; another cooperative's blob is
    refused, in the header and in the plaintext."""
    fields = {"cty": CTY_ACCOUNT, "v": VERSION, "coop": _check_label(coopname, "coopname")}
    record = CoopAccount.from_dict(parse_json_object(_open_slot(card_key, jwe, fields)))
    if record.coopname != coopname:
        raise DecryptionFailed("cannot decrypt")
    return record
