"""The cooperative's Bearer token on the protected reads (RFC 6750 §2.1; issue #10).

``/oauth/userinfo`` and ``/access/get-encrypted-data`` are the calls a cooperative makes most.
Each costs one round trip: the token and its grant in one statement, built once, on an
autocommit connection (no BEGIN, no ROLLBACK). Nothing is cached: a revoked token or grant
fails on the very next request on every instance.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g
from flask import request as flask_request
from sqlalchemy import bindparam, select

from common.db import HotStatement, utcnow
from common.errors import Unauthorized
from idp.auth.sessions import token_hash
from idp.oauth.models import Grant, OAuthToken

MAX_TOKEN_LENGTH = 200  # ours are 43 characters; anything longer is not worth a query


@dataclass(frozen=True)
class SharedGrant:
    """What the member handed the cooperative: the share, as the grant holds it now."""

    client_id: str
    scope: str
    username: str | None
    public_key: str | None
    encrypted_data: str | None
    recipient_kid: str | None
    shared_fields: list[str]
    updated_at: datetime


@dataclass(frozen=True)
class CoopToken:
    client_id: str
    scope: str
    claims: dict[str, Any]
    grant_id: uuid.UUID
    grant: SharedGrant | None  # None when the grant is gone (the member deleted the account)


_GRANT_COLUMNS = (Grant.client_id, Grant.scope, Grant.username, Grant.public_key,
                  Grant.encrypted_data, Grant.recipient_kid, Grant.shared_fields,
                  Grant.updated_at)
_LIVE_TOKEN = HotStatement(
    select(OAuthToken.client_id, OAuthToken.scope, OAuthToken.claims, OAuthToken.grant_id,
           Grant.id.label("grant_found"), *(c.label(f"grant_{c.key}") for c in _GRANT_COLUMNS))
    .outerjoin(Grant, Grant.id == OAuthToken.grant_id)
    .where(OAuthToken.token_hash == bindparam("token_hash"),
           OAuthToken.revoked_at.is_(None), OAuthToken.expires_at > bindparam("now")))


def live_token(presented: str) -> CoopToken | None:
    """The token if it exists, is not revoked and has not expired (revoking the grant revokes
    its tokens)."""
    if not presented or len(presented) > MAX_TOKEN_LENGTH:
        return None
    row = _LIVE_TOKEN.first({"token_hash": token_hash(presented), "now": utcnow()})
    if row is None:
        return None
    grant = None
    if row["grant_found"] is not None:
        grant = SharedGrant(**{c.key: row[f"grant_{c.key}"] for c in _GRANT_COLUMNS})
    return CoopToken(client_id=row["client_id"], scope=row["scope"], claims=row["claims"],
                     grant_id=row["grant_id"], grant=grant)


def current_coop_token() -> CoopToken:
    """The cooperative's Bearer token of this request, live, checked once per request."""
    if "coop_token" not in g:
        scheme, _, value = flask_request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("Send the access token as 'Authorization: Bearer <token>'.",
                               code="missing_token")
        token = live_token(value.strip())
        if token is None:
            raise Unauthorized("The access token is not valid.", code="invalid_token")
        g.coop_token = token
    result: CoopToken = g.coop_token
    return result
