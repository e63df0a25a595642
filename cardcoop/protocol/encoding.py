"""Encodings of protocol v1 (PROTOCOL.md §1): base64url, compact JSON, normalization, base58."""

from __future__ import annotations

import base64
import binascii
import json
import unicodedata
from typing import Any

from .email import normalize_email  # §1 email_norm; its own module, re-exported here
from .errors import ProtocolError

__all__ = [
    "b58_decode",
    "b58_encode",
    "b64u_decode",
    "b64u_encode",
    "compact_json",
    "normalize_email",
    "normalize_password",
    "parse_json_object",
]


def b64u_encode(data: bytes) -> str:
    """base64url without padding (RFC 4648 §5; RFC 7515 §2 "Base64url Encoding")."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Strict inverse of `b64u_encode`.

    Rejects padding, characters outside the URL-safe alphabet and non-canonical encodings (unused
    trailing bits set), so that one value has exactly one wire form and JWEs are not malleable in
    their encoding.
    """
    if not isinstance(text, str) or len(text) % 4 == 1 or "=" in text:
        raise ProtocolError("invalid base64url")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("invalid base64url") from None
    if b64u_encode(raw) != text:
        raise ProtocolError("invalid base64url")
    return raw


def compact_json(value: Any) -> bytes:
    """UTF-8 JSON with no spaces, as JavaScript's JSON.stringify writes it.

    ensure_ascii=False because JSON.stringify leaves non-ASCII characters unescaped; both sides must
    produce the same bytes for headers and plaintexts (PROTOCOL.md §1).
    """
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError):
        raise ProtocolError("value is not serializable as protocol JSON") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            # RFC 7515 §5.2 step 4: duplicate header names must be rejected (or resolved
            # consistently); rejecting avoids two parsers seeing two different headers.
            raise ProtocolError("duplicate JSON member")
        obj[key] = value
    return obj


def parse_json_object(data: bytes) -> dict[str, Any]:
    """Parse UTF-8 JSON that must be an object, rejecting duplicate member names."""
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ProtocolError("invalid JSON") from None
    if not isinstance(value, dict):
        raise ProtocolError("JSON value is not an object")
    return value


def normalize_password(password: str) -> str:
    """`password_norm = NFKC(password)` (PROTOCOL.md §1), so that visually equal input from
    different keyboards/IMEs (ligatures, full-width forms) derives the same keys."""
    return unicodedata.normalize("NFKC", password)


# Bitcoin's base58 alphabet, used by every Antelope key string (PROTOCOL.md §5).
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: index for index, char in enumerate(_B58_ALPHABET)}


def b58_encode(data: bytes) -> str:
    """Base58 as in Bitcoin: big-endian number in base 58, one '1' per leading zero byte."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rem = divmod(number, 58)
        digits.append(_B58_ALPHABET[rem])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def b58_decode(text: str) -> bytes:
    """Inverse of `b58_encode`; raises ProtocolError on characters outside the alphabet."""
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise ProtocolError("invalid base58")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body
