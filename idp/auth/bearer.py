"""The member's Bearer token on idp's own API (RFC 6750 §2.1)."""

from __future__ import annotations

from flask import g, request

from common.errors import Unauthorized
from idp.auth.sessions import authenticate
from idp.models import AuthSession
from idp.services import services
from idp.tokens import AccessClaims


def bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send the access token as 'Authorization: Bearer <token>'.",
                           code="missing_token")
    return token.strip()


def current_session() -> tuple[AccessClaims, AuthSession]:
    """The request's verified token and open session, checked once per request."""
    if "member_session" not in g:
        g.member_session = authenticate(services(), bearer_token())
    result: tuple[AccessClaims, AuthSession] = g.member_session
    return result
