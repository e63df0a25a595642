"""RIPEMD-160 against the test vectors published with the algorithm (Dobbertin, Bosselaers,
Preneel: https://homes.esat.kuleuven.be/~bosselae/ripemd160.html)."""

from __future__ import annotations

import hashlib
import os

import pytest

from cardcoop.protocol.ripemd160 import ripemd160, ripemd160_pure

PUBLISHED = [
    (b"", "9c1185a5c5e9fc54612808977ee8f548b2258d31"),
    (b"a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"),
    (b"abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"),
    (b"message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"),
    (b"abcdefghijklmnopqrstuvwxyz", "f71c27109c692c1b56bbdceb5b9d2865b3708dbc"),
    (
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "12a053384a9c0c88e405a06c27dcf49ada62eb2b",
    ),
    (
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "b0e20b6e3116640286ed3a87a5713079b21f5189",
    ),
    (b"1234567890" * 8, "9b752e45573d4b39f4dbd3323cab82bf63326bfb"),
]


@pytest.mark.parametrize(("message", "digest"), PUBLISHED, ids=[str(len(m)) for m, _ in PUBLISHED])
def test_pure_python_matches_published_vectors(message: bytes, digest: str) -> None:
    assert ripemd160_pure(message).hex() == digest
    assert ripemd160(message).hex() == digest


def test_million_a() -> None:
    assert ripemd160_pure(b"a" * 1_000_000).hex() == "52783243c1697bdbe16d37f97f68f08325dc1528"


@pytest.mark.parametrize("length", [55, 56, 63, 64, 65, 119, 120, 128])
def test_padding_boundaries_agree_with_the_dispatcher(length: int) -> None:
    message = bytes(range(256))[:length]
    assert ripemd160_pure(message) == ripemd160(message)


def test_agrees_with_openssl_when_available() -> None:
    try:
        hashlib.new("ripemd160")
    except ValueError:
        pytest.skip("OpenSSL without RIPEMD-160")
    for length in range(0, 300, 7):
        message = os.urandom(length)
        assert ripemd160_pure(message) == hashlib.new("ripemd160", message).digest()


def test_k1_strings_with_the_pure_python_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """What runs where OpenSSL 3 hides RIPEMD-160: the K1 vector still reproduces."""
    from cardcoop.crypto import K1PrivateKey
    from cardcoop.protocol import ripemd160 as module

    monkeypatch.setattr(module, "_HAVE_HASHLIB", False)
    key = K1PrivateKey.from_bytes(bytes([1]) * 32)
    assert key.to_string() == "PVT_K1_SeLqn3UAUoRymWmwW7axrzJK7JfNaBR2cHCryA6cFsfExCcS"
    assert key.public_key.to_legacy_string() == (
        "EOS73MTSWz2Nks4Eaf8G8F7Nr6jbHorZSM774HFmtrdEuahXqi1ff"
    )
