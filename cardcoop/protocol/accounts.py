"""Cooperative accounts (PROTOCOL.md §5): Antelope names and the account record."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ProtocolError
from .k1 import K1PrivateKey

__all__ = [
    "CoopAccount",
    "generate_antelope_username",
    "is_valid_antelope_name",
    "new_coop_account",
]

USERNAME_LENGTH = 12

# An Antelope `name` is a uint64: 12 symbols of 5 bits from ".12345a-z" and a 13th symbol of the
# remaining 4 bits, so only ".12345a-j". leap's name::set() accepts a string only when it round-
# trips through to_string(), which trims trailing dots: hence "no trailing '.'" (a 13th '.' would
# be one) and no characters outside the alphabet.
_NAME = re.compile(r"[.1-5a-z]{0,11}[1-5a-z]|[.1-5a-z]{12}[1-5a-j]")


def is_valid_antelope_name(name: str) -> bool:
    """True for a non-empty, normalized Antelope name (1-12 symbols, or 13 with the 13th in
    [1-5a-j]).

    The empty string is the `name` 0 and is rejected: it names nothing. Note that `newaccount`
    additionally limits account names to 12 symbols; 13-symbol names only occur for
    non-account names (tables, actions).
    """
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def generate_antelope_username() -> str:
    """12 random letters a-z (PROTOCOL.md §5): always a valid account name, and one that only
    the chain's `newaccount` can claim (no dots, so no suffix owner is involved). 26^12 ~ 2^56."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(USERNAME_LENGTH))


@dataclass(frozen=True)
class CoopAccount:
    """The plaintext of `encrypted_account`. `repr()` leaves the private key out."""

    coopname: str
    username: str
    private_key: str = field(repr=False)
    public_key: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CoopAccount:
        values = [data.get(name) for name in ("coopname", "username", "private_key", "public_key")]
        if set(data) != {"coopname", "username", "private_key", "public_key"} or not all(
            isinstance(value, str) for value in values
        ):
            raise ProtocolError("malformed cooperative account")
        return cls(*(str(value) for value in values))

    def to_dict(self) -> dict[str, str]:
        """The JSON object in the order the vectors use."""
        return {
            "coopname": self.coopname,
            "username": self.username,
            "private_key": self.private_key,
            "public_key": self.public_key,
        }


def new_coop_account(coopname: str) -> CoopAccount:
    """A fresh account for `coopname`: random username and a new K1 key pair (made here, on the
    client: the server only ever sees the public half)."""
    key = K1PrivateKey.generate()
    return CoopAccount(
        coopname=coopname,
        username=generate_antelope_username(),
        private_key=key.to_string(),
        public_key=key.public_key.to_string(),
    )
