"""Encodings of PROTOCOL.md §1 and base58."""

from __future__ import annotations

import pytest

from cardcoop.crypto import ProtocolError, b64u_decode, b64u_encode, normalize_password
from cardcoop.protocol.encoding import b58_decode, b58_encode, compact_json, parse_json_object


@pytest.mark.parametrize("raw", [b"", b"\0", b"\xff\xfe", b"abc", bytes(range(64))])
def test_b64u_round_trip(raw: bytes) -> None:
    text = b64u_encode(raw)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64u_decode(text) == raw


@pytest.mark.parametrize("text", ["A", "AA==", "AB", "a+b/", "A A=", "AAA*", "AAF"])
def test_b64u_decode_is_strict(text: str) -> None:
    # "AB" and "AAF" are non-canonical (unused bits set): refused so encodings are unique.
    with pytest.raises(ProtocolError):
        b64u_decode(text)


def test_compact_json_matches_json_stringify() -> None:
    value = {"b": 1, "a": "Иван", "c": [True, None]}
    assert compact_json(value) == '{"b":1,"a":"Иван","c":[true,null]}'.encode()


def test_parse_json_object_rejects_duplicates_and_non_objects() -> None:
    with pytest.raises(ProtocolError):
        parse_json_object(b'{"cty":"a","cty":"b"}')
    with pytest.raises(ProtocolError):
        parse_json_object(b"[1]")
    with pytest.raises(ProtocolError):
        parse_json_object(b"\xff")


def test_normalize_password_is_nfkc() -> None:
    assert normalize_password("ﬁ") == "fi"
    assert normalize_password("\uff30\uff41\uff53\uff53") == "Pass"


@pytest.mark.parametrize("raw", [b"", b"\0\0\1", b"\0", b"hello", bytes(33)])
def test_base58_round_trip(raw: bytes) -> None:
    assert b58_decode(b58_encode(raw)) == raw


def test_base58_known_value_and_alphabet() -> None:
    assert b58_encode(b"hello world") == "StV1DL6CwTryKyV"
    for char in "0OIl":
        with pytest.raises(ProtocolError):
            b58_decode("2" + char)
