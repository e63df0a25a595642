"""The recovery key (PROTOCOL.md §3): 32 random bytes shown once as Crockford base32.

The protocol fixes the alphabet (Crockford base32) and the grouping (groups of 4) but not the bit
order; we use the RFC 4648 order - the bytes as one big-endian bit string, cut into 5-bit symbols
from the left, the last symbol padded with zero bits - i.e. what Crockford-mode base32 libraries
produce. 256 bits give 52 symbols (4 pad bits), shown as 13 groups of 4.
"""

from __future__ import annotations

import secrets

from .errors import InvalidKey
from .kdf import hkdf_sha256

__all__ = [
    "RECOVERY_KEY_BYTES",
    "format_recovery_key",
    "generate_recovery_key",
    "parse_recovery_key",
    "recovery_auth_key",
    "recovery_enc_key",
]

RECOVERY_KEY_BYTES = 32
RECOVERY_ENC_INFO = b"card.coop/v1/recovery-enc"
RECOVERY_AUTH_INFO = b"card.coop/v1/recovery-auth"

# Crockford's alphabet: digits and letters without I, L, O, U (https://www.crockford.com/base32.html).
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_INDEX = {char: value for value, char in enumerate(_ALPHABET)}
# Crockford's decoding rules for characters people confuse: I and L read as 1, O as 0.
_INDEX.update({"I": 1, "L": 1, "O": 0})
_SYMBOLS = (RECOVERY_KEY_BYTES * 8 + 4) // 5  # 52
_PAD_BITS = _SYMBOLS * 5 - RECOVERY_KEY_BYTES * 8  # 4
_GROUP = 4
_SEPARATORS = frozenset("- \t\r\n\u00a0")


def generate_recovery_key() -> bytes:
    """32 fresh random bytes; show `format_recovery_key()` of them to the user once."""
    return secrets.token_bytes(RECOVERY_KEY_BYTES)


def format_recovery_key(recovery_key: bytes) -> str:
    """Crockford base32, upper case, groups of 4 joined by '-' (e.g. "7ZQ4-M2...-K8")."""
    _check_bytes(recovery_key)
    number = int.from_bytes(recovery_key, "big") << _PAD_BITS
    symbols = [_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(_SYMBOLS))]
    text = "".join(symbols)
    return "-".join(text[i : i + _GROUP] for i in range(0, _SYMBOLS, _GROUP))


def parse_recovery_key(text: str) -> bytes:
    """Inverse of `format_recovery_key`, tolerant of how people type it back: any case, dashes
    and spaces anywhere, I/L for 1 and O for 0. Raises InvalidKey otherwise (including when the
    4 pad bits are not zero: such a string was not produced by `format_recovery_key`)."""
    if not isinstance(text, str):
        raise InvalidKey("invalid recovery key")
    number = 0
    count = 0
    for char in text.upper():
        if char in _SEPARATORS:
            continue
        value = _INDEX.get(char)
        if value is None:
            raise InvalidKey("invalid recovery key")
        number = (number << 5) | value
        count += 1
    if count != _SYMBOLS or number & ((1 << _PAD_BITS) - 1):
        raise InvalidKey("invalid recovery key")
    return (number >> _PAD_BITS).to_bytes(RECOVERY_KEY_BYTES, "big")


def _check_bytes(recovery_key: bytes) -> bytes:
    if not isinstance(recovery_key, bytes) or len(recovery_key) != RECOVERY_KEY_BYTES:
        raise InvalidKey("a recovery key is 32 bytes")
    return recovery_key


def _as_bytes(recovery_key: bytes | str) -> bytes:
    if isinstance(recovery_key, str):
        return parse_recovery_key(recovery_key)
    return _check_bytes(recovery_key)


def recovery_enc_key(recovery_key: bytes | str) -> bytes:
    """The key of `recovery_wrapped_card_key`: HKDF-SHA256(recovery_key, info=recovery-enc)."""
    return hkdf_sha256(_as_bytes(recovery_key), RECOVERY_ENC_INFO)


def recovery_auth_key(recovery_key: bytes | str) -> bytes:
    """What the client proves knowledge of the recovery key with; the server keeps only
    Argon2id of it. A different HKDF `info` than the encryption key, so the value the server
    sees says nothing about the key that unwraps the card key (RFC 5869 §3.2)."""
    return hkdf_sha256(_as_bytes(recovery_key), RECOVERY_AUTH_INFO)
