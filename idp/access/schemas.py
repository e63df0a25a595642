"""Bodies of the /access/* endpoints. The authorization request travels as the same string
parameters a ``GET /oauth/authorize`` URL carries; the member's page copies them from its URL."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from common.api import Schema

Param = Annotated[str, StringConstraints(max_length=2048)]
OAUTH_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                "code_challenge_method", "nonce", "fields", "origin", "prompt", "max_age")


class AuthorizationRequestIn(Schema):
    """The authorization request as ``GET /oauth/authorize`` received it."""

    coopname: Annotated[str, StringConstraints(min_length=1, max_length=13)] = Field(
        description="The cooperative (= client_id)")
    response_type: Param | None = None
    client_id: Param | None = None
    redirect_uri: Param | None = Field(default=None, description="Absent: the iframe method")
    scope: Param | None = None
    state: Param | None = None
    code_challenge: Param | None = None
    code_challenge_method: Param | None = None
    nonce: Param | None = None
    fields: Param | None = Field(default=None, description="Card fields the cooperative asks for")
    origin: Param | None = Field(default=None, description="Iframe method: the embedding origin")
    prompt: Param | None = None
    max_age: Param | None = Field(default=None, description="OpenID Connect: seconds since the "
                                                            "last password proof at most")

    def oauth_params(self) -> dict[str, str]:
        return {name: value for name in OAUTH_PARAMS
                if (value := getattr(self, name)) is not None}


class ShareDataIn(AuthorizationRequestIn):
    username: Annotated[str, StringConstraints(min_length=1, max_length=13)] | None = Field(
        default=None, description="The member's account in the cooperative")
    public_key: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="That account's public key (PUB_K1_...)")
    encrypted_data: Annotated[str, StringConstraints(max_length=65536)] | None = Field(
        default=None, description="Compact JWE to the cooperative's key (PROTOCOL §6)")
    shared_fields: Annotated[list[Annotated[str, StringConstraints(max_length=64)]],
                             Field(max_length=64)] | None = None

    def share_data(self) -> dict[str, Any]:
        return {"username": self.username, "public_key": self.public_key,
                "encrypted_data": self.encrypted_data, "shared_fields": self.shared_fields}


class AccountRef(Schema):
    username: str
    public_key: str


class PreparedShareOut(Schema):
    coopname: str
    announce: str = Field(description="The cooperative's public name (ВОСХОД)")
    public_key: str | None = Field(description="The cooperative's K1 key, when shares go to it")
    encryption_jwk: dict[str, str] = Field(description="The public JWK to encrypt the share to")
    kid: str = Field(description="RFC 7638 thumbprint of encryption_jwk; the JWE's kid")
    scopes: list[str]
    requested_fields: list[str] | None = Field(description="null: the cooperative names none")
    share: bool
    join: bool = Field(description="The page creates the member's account in the cooperative")
    account: AccountRef | None
    mode: Literal["redirect", "iframe"]
    redirect_uri: str | None
    origin: str | None
    schema_id: str = Field(alias="schema")
    claims: list[str] = Field(description="Server-side claims the cooperative will receive")


class TicketOut(Schema):
    ticket: str
    state: str | None
    mode: Literal["redirect", "iframe"]
    redirect_to: str | None = Field(description="Redirect method: where to send the browser")
    origin: str | None = Field(description="Iframe method: the only origin to postMessage to")


# Why the answer is a refusal; the cooperative receives it as `cardcoop_reason` beside
# error=access_denied (docs/api.md "What the cooperative receives").
RefusalReason = Literal["refused", "not_a_member"]


class DenyIn(AuthorizationRequestIn):
    reason: RefusalReason = Field(
        default="refused", description="`refused`: the member said no; `not_a_member`: the "
        "member is not (yet) a member of the cooperative and went back to it")


class RefusalOut(Schema):
    error: Literal["access_denied"]
    reason: RefusalReason
    state: str | None
    mode: Literal["redirect", "iframe"]
    redirect_to: str | None
    origin: str | None


class ExchangeTicketIn(Schema):
    ticket: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    code_verifier: Annotated[str, StringConstraints(max_length=200)] | None = None
    redirect_uri: Param | None = None
    client_id: Annotated[str, StringConstraints(max_length=13)] | None = None
    client_secret: Annotated[str, StringConstraints(max_length=200)] | None = None


class TokenOut(Schema):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    username: str | None
    coopname: str
    id_token: str | None = None


class SharedDataMeta(Schema):
    kid: str | None
    schema_id: str = Field(alias="schema")
    shared_fields: list[str]
    scope: list[str]
    granted_at: datetime


class SharedDataOut(Schema):
    encrypted_data: str
    coopname: str
    username: str
    public_key: str | None
    meta: SharedDataMeta


class GrantOut(Schema):
    id: uuid.UUID
    coopname: str
    announce: str
    username: str | None
    scope: list[str]
    shared_fields: list[str]
    created_at: datetime
    updated_at: datetime


class GrantsOut(Schema):
    grants: list[GrantOut]
