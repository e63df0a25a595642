"""Typed answers of the cooperative side of id.card.coop (`cardcoop.coop`).

Like `cardcoop.models`: frozen dataclasses whose `from_json` checks the decoded JSON and raises
`ResponseError` for a missing or mistyped field; unknown fields are ignored. Tokens and personal
data are kept out of `repr`, so that logging one of these objects leaks nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ResponseError
from .models import _object, _str
from .protocol.errors import InvalidKey
from .protocol.k1 import K1PublicKey

__all__ = [
    "DATA_SCOPES",
    "InvalidIdToken",
    "ShareMismatch",
    "SharePlaintext",
    "SharedData",
    "TicketTokens",
    "check_share",
]

#: Scopes under which the member hands the cooperative a JWE (PROTOCOL.md §6).
DATA_SCOPES = frozenset({"share", "account"})


class ShareMismatch(ResponseError):
    """A share decrypted, but it is bound to another cooperative, account or key than the one
    asked for (`error` ``share_mismatch``). The message names the field, never the values."""

    def __init__(self, message: str) -> None:
        super().__init__(message, error="share_mismatch")


class InvalidIdToken(ResponseError):
    """An ID token failed verification: signature, issuer, audience, expiry or nonce
    (`error` ``invalid_id_token``)."""

    def __init__(self, message: str = "the ID token is not valid") -> None:
        super().__init__(message, error="invalid_id_token")


# -- checked field access (messages name the field only, never its value) ----------------------


def _req(obj: Mapping[str, Any], key: str) -> str:
    return _str(obj, key, non_empty=True)


def _opt(obj: Mapping[str, Any], key: str) -> str | None:
    """A string field that may be absent or null, else non-empty."""
    return None if obj.get(key) is None else _req(obj, key)


def _scope(obj: Mapping[str, Any], key: str) -> list[str]:
    """A scope as RFC 6749 §3.3 sends it (space-separated) or as a JSON list of strings."""
    value = obj.get(key)
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise ResponseError(f"malformed response: field {key!r} is not a scope")


def _str_list(obj: Mapping[str, Any], key: str) -> list[str]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ResponseError(f"malformed response: field {key!r} is not a list of strings")
    return list(value)


@dataclass(frozen=True)
class TicketTokens:
    """The answer of `POST /access/exchange-ticket`. `username` is None for a grant of OIDC
    scopes only (no cooperative account involved)."""

    access_token: str = field(repr=False)
    token_type: str
    expires_in: int
    scope: list[str]
    username: str | None
    coopname: str
    id_token: str | None = field(default=None, repr=False)

    @property
    def has_data(self) -> bool:
        """Whether the grant carries encrypted data (`share` or `account` scope)."""
        return not DATA_SCOPES.isdisjoint(self.scope)

    @classmethod
    def from_json(cls, data: object) -> TicketTokens:
        obj = _object(data, "the body")
        token_type = _req(obj, "token_type")
        if token_type.lower() != "bearer":
            raise ResponseError("malformed response: 'token_type' is not Bearer")
        expires_in = obj.get("expires_in")
        if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
            raise ResponseError("malformed response: field 'expires_in' is not a positive integer")
        return cls(access_token=_req(obj, "access_token"), token_type=token_type,
                   expires_in=expires_in, scope=_scope(obj, "scope"),
                   username=_opt(obj, "username"),
                   coopname=_req(obj, "coopname"),
                   id_token=_opt(obj, "id_token"))


@dataclass(frozen=True)
class SharedData:
    """The answer of `GET /access/get-encrypted-data/{username}/{coopname}`: the member's JWE
    (still encrypted) and the grant's metadata."""

    encrypted_data: str = field(repr=False)
    coopname: str
    username: str
    public_key: str
    kid: str | None = None
    schema: str | None = None
    shared_fields: list[str] = field(default_factory=list)
    scope: list[str] = field(default_factory=list)
    granted_at: str | None = None

    @classmethod
    def from_json(cls, data: object) -> SharedData:
        obj = _object(data, "the body")
        meta = _object(obj.get("meta", {}), "field 'meta'")
        return cls(encrypted_data=_req(obj, "encrypted_data"), coopname=_req(obj, "coopname"),
                   username=_req(obj, "username"), public_key=_req(obj, "public_key"),
                   kid=_opt(meta, "kid"),
                   schema=_opt(meta, "schema"),
                   shared_fields=_str_list(meta, "shared_fields"),
                   scope=_scope(meta, "scope") if "scope" in meta else [],
                   granted_at=_opt(meta, "granted_at"))


@dataclass(frozen=True)
class SharePlaintext:
    """The decrypted share (PROTOCOL.md §6). `data` holds the personal data the member agreed
    to share: it is kept out of `repr`."""

    v: int
    coopname: str
    username: str
    public_key: str
    schema: str
    data: dict[str, Any] = field(repr=False)
    issued_at: str
    kid: str | None = None

    @property
    def fields(self) -> list[str]:
        return list(self.data)


def _same_key(a: str, b: str) -> bool:
    """Equal K1 keys, whatever their string form (PUB_K1_ or legacy EOS); else equal strings."""
    try:
        return K1PublicKey.from_string(a) == K1PublicKey.from_string(b)
    except InvalidKey:
        return a == b


def check_share(plaintext: Mapping[str, Any], shared: SharedData, *,
                kid: str | None = None) -> SharePlaintext:
    """Check a decrypted share (a JSON object, decrypted by any JOSE library) against what was
    asked for: the version, the shape, and that coopname, username and public key are those of
    `shared` (which `CoopClient.get_encrypted_data` checked against the request). Raises
    `ShareMismatch` or `ResponseError`; messages name fields, never values."""
    obj = _object(plaintext, "the share")
    if obj.get("v") != 1 or isinstance(obj.get("v"), bool):
        raise ResponseError("malformed share: unsupported version", error="malformed_share")
    try:
        coopname, username = _req(obj, "coopname"), _req(obj, "username")
        public_key, schema = _req(obj, "public_key"), _req(obj, "schema")
        issued_at = _req(obj, "issued_at")
    except ResponseError as exc:
        raise ResponseError(exc.message.replace("malformed response", "malformed share"),
                            error="malformed_share") from None
    data = obj.get("data")
    if not isinstance(data, dict):
        raise ResponseError("malformed share: field 'data' is not a JSON object",
                            error="malformed_share")
    if coopname != shared.coopname:
        raise ShareMismatch("the share is for another cooperative (coopname)")
    if username != shared.username:
        raise ShareMismatch("the share is for another account (username)")
    if not _same_key(public_key, shared.public_key):
        raise ShareMismatch("the share names another account key (public_key)")
    return SharePlaintext(v=1, coopname=coopname, username=username, public_key=public_key,
                          schema=schema, data=dict(data), issued_at=issued_at, kid=kid)
