"""The hashKey verifier (PROTOCOL.md §2): Argon2id over the 32 raw bytes of hash_key.

hash_key is already the output of 600k PBKDF2 rounds plus 1000 more on the client; Argon2id on
top means a stolen database still costs memory-hard work per guess, and the server never holds
anything it could replay as the member.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from common.errors import InvalidRequest

HASH_KEY_BYTES = 32


class InvalidHashKey(ValueError):
    pass


def decode_hash_key(value: str) -> bytes:
    """``hashKey`` is b64u without padding of exactly 32 bytes (43 characters)."""
    if len(value) != 43 or not value.isascii():
        raise InvalidHashKey("hashKey must be 43 base64url characters")
    try:
        raw = base64.urlsafe_b64decode(value + "=")
    except (binascii.Error, ValueError):
        raise InvalidHashKey("hashKey is not base64url") from None
    if len(raw) != HASH_KEY_BYTES or base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != value:
        raise InvalidHashKey("hashKey must encode 32 bytes canonically")
    return raw


def parse_hash_key(value: str, field: str = "hashKey") -> bytes:
    """``decode_hash_key`` for request input (any 32-byte b64u key): malformed is a 400."""
    try:
        return decode_hash_key(value)
    except InvalidHashKey:
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", field).lower()  # hashKey → hash_key
        raise InvalidRequest(f"{field} must be 32 bytes in canonical base64url.",
                             code=f"invalid_{snake}") from None


class Verifier:
    """Argon2id verifiers of hashKeys. At most ``concurrency`` hashes run at once in this
    process, whatever the number of request threads: each needs ``memory_kib`` of memory, and
    more hashes than cores only share the cores and thrash their caches (issue #10: sign-ins
    were about half of the Argon2id ceiling with four threads of two workers hashing at once on
    two cores). A burst of sign-ins then queues here instead of growing the memory."""

    def __init__(self, *, memory_kib: int, time_cost: int, parallelism: int,
                 concurrency: int = 1) -> None:
        self._hasher = PasswordHasher(memory_cost=memory_kib, time_cost=time_cost,
                                      parallelism=parallelism, hash_len=32, salt_len=16)
        self._slots = threading.BoundedSemaphore(concurrency)
        # Checked against when the email is unknown, so that an unknown email costs the same
        # time as a wrong password (no enumeration by timing).
        self._dummy = self._hasher.hash(b"\0" * HASH_KEY_BYTES)

    def make(self, hash_key: bytes) -> str:
        with self._slots:
            return self._hasher.hash(hash_key)

    def check(self, verifier: str | None, hash_key: bytes) -> bool:
        try:
            with self._slots:
                return (self._hasher.verify(verifier or self._dummy, hash_key)
                        and verifier is not None)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, verifier: str) -> bool:
        return self._hasher.check_needs_rehash(verifier)
