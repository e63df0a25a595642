"""The member's Bearer token on idp's own API (RFC 6750 §2.1).

Two kinds of token reach these endpoints: the member's own (idp's pages, ``/auth/login``
clients) and one that a first-party app (portal, business) got at the token endpoint for the
member. An app's token is refused everywhere (403 ``insufficient_scope``) except on the
endpoints that name the scope it carries: the member's API (accounts, grants, sessions,
activity). Changing the card, the password or the account stays with the member's own pages,
which hold the keys.
"""

from __future__ import annotations

from flask import g, request

from common.errors import Forbidden, Unauthorized
from idp.auth.sessions import authenticate
from idp.models import AuthSession
from idp.services import services
from idp.tokens import OWN_CLIENT_ID, AccessClaims

MEMBER_API_SCOPE = "cardcoop:member"


def bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send the access token as 'Authorization: Bearer <token>'.",
                           code="missing_token")
    return token.strip()


def current_session(*, app_scope: str | None = None) -> tuple[AccessClaims, AuthSession]:
    """The request's verified token and open session, checked once per request. An app's
    token passes only where ``app_scope`` names a scope it holds."""
    if "member_session" not in g:
        g.member_session = authenticate(services(), bearer_token())
    result: tuple[AccessClaims, AuthSession] = g.member_session
    claims = result[0]
    if claims.client_id != OWN_CLIENT_ID and (app_scope is None or
                                              app_scope not in claims.scopes):
        raise Forbidden("This token was issued to an application and does not allow this.",
                        code="insufficient_scope")
    return result


def member_api_session() -> tuple[AccessClaims, AuthSession]:
    """``@endpoint(auth="memberApi")``: the member's API, open to first-party apps too."""
    return current_session(app_scope=MEMBER_API_SCOPE)
