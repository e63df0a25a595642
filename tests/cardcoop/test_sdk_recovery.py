"""The recovery key (PROTOCOL.md §3): Crockford base32 in groups of 4, tolerant parsing."""

from __future__ import annotations

import re

import pytest

from cardcoop.crypto import (
    InvalidKey,
    format_recovery_key,
    generate_recovery_key,
    parse_recovery_key,
    recovery_auth_key,
)
from cardcoop.protocol.recovery import recovery_enc_key


def test_format_shape_and_round_trip() -> None:
    for _ in range(20):
        key = generate_recovery_key()
        text = format_recovery_key(key)
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){12}", text)
        assert parse_recovery_key(text) == key


def test_known_encodings() -> None:
    assert format_recovery_key(bytes(32)) == "-".join(["0000"] * 13)
    # 0xff..ff: 51 symbols of 31 and a last symbol of 0b1111 followed by 4 zero pad bits.
    assert format_recovery_key(b"\xff" * 32) == "-".join(["ZZZZ"] * 12 + ["ZZZG"])
    # RFC 4648 bit order: the first byte lands in the first two symbols.
    assert format_recovery_key(b"\xf8" + bytes(31)).startswith("Z000")


def test_parsing_is_tolerant() -> None:
    key = bytes(range(32))
    text = format_recovery_key(key)
    assert parse_recovery_key(text.lower()) == key
    assert parse_recovery_key(text.replace("-", " ")) == key
    assert parse_recovery_key(" " + text.replace("-", "") + "\n") == key
    assert parse_recovery_key(text.replace("1", "I").replace("0", "O")) == key
    assert parse_recovery_key(text.replace("1", "l").replace("0", "o")) == key


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0000-" * 12 + "000",  # too short
        "0000-" * 13 + "0",  # too long
        "0000-" * 12 + "000U",  # U is not in Crockford's alphabet
        "0000-" * 12 + "000*",
        "0000-" * 12 + "0001",  # non-zero pad bits
    ],
)
def test_bad_recovery_keys_are_rejected(text: str) -> None:
    with pytest.raises(InvalidKey) as caught:
        parse_recovery_key(text)
    assert str(caught.value) == "invalid recovery key"  # the input is never echoed


def test_auth_and_enc_keys_are_independent() -> None:
    key = generate_recovery_key()
    auth, enc = recovery_auth_key(key), recovery_enc_key(key)
    assert len(auth) == len(enc) == 32 and auth != enc
    assert recovery_auth_key(format_recovery_key(key)) == auth


def test_recovery_key_length_is_checked() -> None:
    with pytest.raises(InvalidKey):
        recovery_auth_key(bytes(31))
    with pytest.raises(InvalidKey):
        format_recovery_key(bytes(33))
