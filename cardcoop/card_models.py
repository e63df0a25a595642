"""Typed values of the card API (`/card/*`, `/auth/change-password`, `/auth/recovery*`) and of the
decrypted card (`cardcoop.card`).

`Stored*` values are what the server keeps and returns: ciphertext plus the public identifiers.
`Card` and `Account` are their decrypted forms, made in this process only. No `repr` here shows a
key, a ciphertext or a personal value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from .crypto import KdfParams, ProtocolError, b64u_decode
from .errors import ResponseError
from .models import (
    MAX_KDF_ITERATIONS,
    SERVER_SALT_BYTES,
    _bool,
    _datetime,
    _get,
    _int,
    _kdf,
    _list,
    _object,
    _str,
    _uuid,
)

if TYPE_CHECKING:
    from .schema import CardProblem

__all__ = [
    "Account",
    "Card",
    "CardInvalid",
    "CardMeta",
    "RecoveryStatus",
    "RecoveryUnlocked",
    "StoredAccount",
    "StoredCard",
]


class CardInvalid(ValueError):
    """The card data does not validate against the card schema; raised before any request.

    `problems` are `cardcoop.schema.CardProblem`s (a JSON Pointer and a Russian and an English
    message). The message lists the paths and the English texts, never a value.
    """

    def __init__(self, problems: list[CardProblem]) -> None:
        self.problems = list(problems)
        listed = "; ".join(f"{p.path or '/'}: {p.message_en}" for p in self.problems)
        super().__init__(f"card data is not valid: {listed}")


# -- what the server stores -------------------------------------------------------------------


@dataclass(frozen=True)
class CardMeta:
    """`meta`, in clear beside the encrypted card: the plaintext's format `version` (PROTOCOL.md
    §4) and the card `schema` id."""

    version: int
    schema: str

    @classmethod
    def from_json(cls, data: object) -> CardMeta:
        obj = _object(data, "'meta'")
        version = _int(obj, "version")
        if version < 0:
            raise ResponseError("malformed response: 'meta.version' is negative")
        return cls(version=version, schema=_str(obj, "schema", non_empty=True))

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "schema": self.schema}


def meta_json(meta: CardMeta | Mapping[str, Any]) -> dict[str, Any]:
    """`meta` as sent: a `CardMeta`, or a mapping passed through as it is (raw API callers)."""
    return meta.to_json() if isinstance(meta, CardMeta) else dict(meta)


def card_id_from_json(obj: Mapping[str, Any]) -> str:
    """`card_id` as a canonical UUID string."""
    return str(_uuid(obj, "card_id"))


@dataclass(frozen=True)
class StoredAccount:
    """A cooperative account as the server stores it: the public identifiers in clear and the
    account record (with the private key) only inside `encrypted_account`."""

    coopname: str
    username: str
    public_key: str
    encrypted_account: str = field(repr=False)
    created_at: datetime

    @classmethod
    def from_json(cls, data: object) -> StoredAccount:
        obj = _object(data, "an account")
        return cls(coopname=_str(obj, "coopname", non_empty=True),
                   username=_str(obj, "username", non_empty=True),
                   public_key=_str(obj, "public_key", non_empty=True),
                   encrypted_account=_str(obj, "encrypted_account", non_empty=True),
                   created_at=_datetime(obj, "created_at"))

    @classmethod
    def list_from_json(cls, data: object) -> list[StoredAccount]:
        """The ``{"accounts": [...]}`` body."""
        return _accounts(_object(data, "the body"))


def _accounts(obj: Mapping[str, Any]) -> list[StoredAccount]:
    return [StoredAccount.from_json(item) for item in _list(obj, "accounts")]


@dataclass(frozen=True)
class StoredCard:
    """`GET /card`: the card as stored. The ciphertexts are left out of `repr`."""

    card_id: str
    encrypted_personal_data: str = field(repr=False)
    wrapped_card_key: str = field(repr=False)
    meta: CardMeta
    revision: int
    accounts: list[StoredAccount]

    @classmethod
    def from_json(cls, data: object) -> StoredCard:
        obj = _object(data, "the body")
        revision = _int(obj, "revision")
        if revision < 1:
            raise ResponseError("malformed response: 'revision' is not positive")
        return cls(card_id=card_id_from_json(obj),
                   encrypted_personal_data=_str(obj, "encrypted_personal_data", non_empty=True),
                   wrapped_card_key=_str(obj, "wrapped_card_key", non_empty=True),
                   meta=CardMeta.from_json(_get(obj, "meta")), revision=revision,
                   accounts=_accounts(obj))


def revision_from_json(data: object) -> int:
    """`PUT /card`: ``{"card_id", "revision"}`` -> the new revision."""
    obj = _object(data, "the body")
    card_id_from_json(obj)
    revision = _int(obj, "revision")
    if revision < 1:
        raise ResponseError("malformed response: 'revision' is not positive")
    return revision


@dataclass(frozen=True)
class RecoveryStatus:
    """`GET /auth/recovery`: whether a recovery key is set up, and since when."""

    enabled: bool
    created_at: datetime | None

    @classmethod
    def from_json(cls, data: object) -> RecoveryStatus:
        obj = _object(data, "the body")
        # The server leaves `created_at` out (rather than null) when there is none.
        created = obj.get("created_at")
        return cls(enabled=_bool(obj, "enabled"),
                   created_at=None if created is None else _datetime(obj, "created_at"))


class RecoveryUnlocked(NamedTuple):
    """`POST /auth/recovery/verify`: the card key wrapped under the recovery key, and the
    account's `serverSalt` and KDF parameters (checked like at login) to derive the new keys."""

    recovery_wrapped_card_key: str
    server_salt: str
    kdf: KdfParams

    def __repr__(self) -> str:
        return f"RecoveryUnlocked(recovery_wrapped_card_key=<hidden>, kdf={self.kdf!r})"

    @classmethod
    def from_json(cls, data: object, *,
                  max_iterations: int = MAX_KDF_ITERATIONS) -> RecoveryUnlocked:
        obj = _object(data, "the body")
        wrapped = _str(obj, "recovery_wrapped_card_key", non_empty=True)
        server_salt = _str(obj, "serverSalt")
        try:
            salt_ok = len(b64u_decode(server_salt)) == SERVER_SALT_BYTES
        except ProtocolError:
            salt_ok = False
        if not salt_ok:
            raise ResponseError("malformed response: 'serverSalt' is not 16 bytes of base64url")
        return cls(wrapped, server_salt, _kdf(_get(obj, "kdf"), max_iterations))


# -- the decrypted card -----------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """The member's account in one cooperative, decrypted. `private_key` ("PVT_K1_...") is kept
    for signing but is not in `repr`."""

    coopname: str
    username: str
    public_key: str
    private_key: str = field(repr=False)
    created_at: datetime | None = None


@dataclass(frozen=True)
class Card:
    """The member card, decrypted in this process.

    `data` is the personal data in the current format (`cardcoop.migrations.CURRENT_VERSION`),
    left out of `repr`. `version` is the format the server now stores, `revision` the one to
    name in the next update. When this read migrated an older card, `migrated_from` is that
    older version; if the migrated data does not validate, it is not written back (`version`
    stays the old one) and `problems` says what the member has to correct with `update_card`.
    """

    card_id: str
    data: dict[str, Any] = field(repr=False)
    version: int
    revision: int
    accounts: list[Account]
    problems: list[CardProblem] = field(default_factory=list)
    migrated_from: int | None = None

    def account(self, coopname: str) -> Account | None:
        """The account in `coopname`, if the card has one."""
        return next((a for a in self.accounts if a.coopname == coopname), None)

