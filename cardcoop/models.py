"""Typed answers of the id.card.coop account API (docs/api.md).

Each model is a frozen dataclass with a `from_json` classmethod that checks the decoded JSON of
the answer and raises `cardcoop.errors.ResponseError` when a field is missing or has the wrong
type (`UnsafeKdf` for KDF parameters the client refuses). Unknown fields are ignored, so that the
server can add fields without breaking older clients. Wire names (``serverSalt``,
``accessToken``...) become snake_case attributes.
"""

from __future__ import annotations

import uuid as uuid_mod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from .crypto import MIN_ITERATIONS, KdfParams, ProtocolError, b64u_decode
from .errors import ResponseError, UnsafeKdf

__all__ = [
    "MAX_KDF_ITERATIONS",
    "Attempt",
    "PrivacyPolicy",
    "ResendResult",
    "SessionInfo",
    "Tokens",
]

#: The client's ceiling on PBKDF2 iterations: a hostile server must not be able to make the client
#: spin for minutes either. 10 million is ~17x the protocol default.
MAX_KDF_ITERATIONS = 10_000_000
SERVER_SALT_BYTES = 16


# -- checked field access ---------------------------------------------------------------------
# Messages name the field only, never its value (a value may be a token).


def _object(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise ResponseError(f"malformed response: {what} is not a JSON object")
    return data


def _get(obj: Mapping[str, Any], key: str) -> Any:
    if key not in obj:
        raise ResponseError(f"malformed response: missing field {key!r}")
    return obj[key]


def _list(obj: Mapping[str, Any], key: str) -> list[Any]:
    value = _get(obj, key)
    if not isinstance(value, list):
        raise ResponseError(f"malformed response: field {key!r} is not a list")
    return value


def _str(obj: Mapping[str, Any], key: str, *, non_empty: bool = False) -> str:
    value = _get(obj, key)
    if not isinstance(value, str) or (non_empty and not value):
        raise ResponseError(f"malformed response: field {key!r} is not a"
                            f"{' non-empty' if non_empty else ''} string")
    return value


def _int(obj: Mapping[str, Any], key: str) -> int:
    value: object = _get(obj, key)
    # bool is an int subclass: `true` must not pass as 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ResponseError(f"malformed response: field {key!r} is not an integer")
    return value


def _bool(obj: Mapping[str, Any], key: str) -> bool:
    value = _get(obj, key)
    if not isinstance(value, bool):
        raise ResponseError(f"malformed response: field {key!r} is not a boolean")
    return value


def _uuid(obj: Mapping[str, Any], key: str) -> uuid_mod.UUID:
    text = _str(obj, key)
    try:
        return uuid_mod.UUID(text)
    except ValueError:
        raise ResponseError(f"malformed response: field {key!r} is not a UUID") from None


def _datetime(obj: Mapping[str, Any], key: str) -> datetime:
    text = _str(obj, key)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ResponseError(f"malformed response: field {key!r} is not an ISO 8601 "
                            "date-time") from None
    # The server speaks UTC; a naive value is read as UTC so that every instance is comparable.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _date(obj: Mapping[str, Any], key: str) -> date:
    text = _str(obj, key)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ResponseError(f"malformed response: field {key!r} is not an ISO 8601 "
                            "date") from None


def _kdf(data: object, max_iterations: int) -> KdfParams:
    obj = _object(data, "'kdf'")
    kdf_type = _str(obj, "type")
    iterations = _int(obj, "iterations")
    try:
        params = KdfParams(type=kdf_type, iterations=iterations)
    except ProtocolError:
        raise UnsafeKdf(f"refused KDF parameters: only pbkdf2-sha256 with at least "
                        f"{MIN_ITERATIONS} iterations is accepted") from None
    if params.iterations > max_iterations:
        raise UnsafeKdf(f"refused KDF parameters: more than {max_iterations} iterations")
    return params


# -- models -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """`initiate-registration` / `initiate-login`: the attempt id, the account's `serverSalt`
    (b64u, 16 bytes) and its KDF parameters, already checked against the protocol minimum;
    `kdf_email` is initiate-login's `kdfEmail` (PROTOCOL.md §2), the PBKDF2 salt the server says
    the account's keys were derived with (None from registration or an older server). It is
    trusted only once checked against the typed address (`cardcoop.crypto.kdf_salt_email`)."""

    uuid: uuid_mod.UUID
    server_salt: str
    kdf: KdfParams
    kdf_email: str | None = None

    @classmethod
    def from_json(cls, data: object, *, max_iterations: int = MAX_KDF_ITERATIONS) -> Attempt:
        obj = _object(data, "the body")
        attempt_id = _uuid(obj, "uuid")
        server_salt = _str(obj, "serverSalt")
        try:
            salt_ok = len(b64u_decode(server_salt)) == SERVER_SALT_BYTES
        except ProtocolError:
            salt_ok = False
        if not salt_ok:
            raise ResponseError("malformed response: 'serverSalt' is not 16 bytes of base64url")
        kdf_email = _str(obj, "kdfEmail", non_empty=True) if "kdfEmail" in obj else None
        return cls(uuid=attempt_id, server_salt=server_salt,
                   kdf=_kdf(_get(obj, "kdf"), max_iterations), kdf_email=kdf_email)


@dataclass(frozen=True)
class Tokens:
    """A token pair (`complete-registration`, `complete-login`, `refresh-token`). The tokens are
    kept out of `repr`."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    token_type: str

    @classmethod
    def from_json(cls, data: object) -> Tokens:
        obj = _object(data, "the body")
        token_type = _str(obj, "tokenType")
        if token_type.lower() != "bearer":
            raise ResponseError("malformed response: 'tokenType' is not Bearer")
        expires_in = _int(obj, "expiresIn")
        if expires_in <= 0:
            raise ResponseError("malformed response: 'expiresIn' is not positive")
        return cls(access_token=_str(obj, "accessToken", non_empty=True),
                   refresh_token=_str(obj, "refreshToken", non_empty=True),
                   expires_in=expires_in, token_type=token_type)


@dataclass(frozen=True)
class SessionInfo:
    """One of the member's open sessions (`GET /auth/sessions`)."""

    id: uuid_mod.UUID
    user_agent: str
    ip: str
    created_at: datetime
    last_used_at: datetime
    current: bool

    @classmethod
    def from_json(cls, data: object) -> SessionInfo:
        obj = _object(data, "a session")
        return cls(id=_uuid(obj, "id"), user_agent=_str(obj, "user_agent"), ip=_str(obj, "ip"),
                   created_at=_datetime(obj, "created_at"),
                   last_used_at=_datetime(obj, "last_used_at"), current=_bool(obj, "current"))

    @classmethod
    def list_from_json(cls, data: object) -> list[SessionInfo]:
        """The ``{"sessions": [...]}`` body."""
        return [cls.from_json(item) for item in _list(_object(data, "the body"), "sessions")]


@dataclass(frozen=True)
class PrivacyPolicy:
    """`GET /privacy-policy`: the policy a member accepts at registration."""

    version: str
    effective_date: date
    text_ru: str
    text_en: str

    @classmethod
    def from_json(cls, data: object) -> PrivacyPolicy:
        obj = _object(data, "the body")
        text = _object(_get(obj, "text"), "'text'")
        return cls(version=_str(obj, "version", non_empty=True),
                   effective_date=_date(obj, "effective_date"),
                   text_ru=_str(text, "ru"), text_en=_str(text, "en"))


@dataclass(frozen=True)
class ResendResult:
    """`resend-code`: whether a new code was sent and the seconds before the next resend."""

    sent: bool
    retry_after: int

    @classmethod
    def from_json(cls, data: object) -> ResendResult:
        obj = _object(data, "the body")
        return cls(sent=_bool(obj, "sent"), retry_after=_int(obj, "retryAfter"))
