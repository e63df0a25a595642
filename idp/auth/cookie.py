"""The browser's idp session cookie (issue #9): HttpOnly, SameSite=Lax, ``Secure`` (and the
``__Host-`` prefix, so no subdomain can set or shadow it) when idp is served over https.

It holds only the session's random secret; the server keeps its SHA-256. The member's API stays
Bearer-only: the cookie is read by exactly three places, none of which changes data on a
cross-site request (SameSite=Lax keeps it off cross-site POSTs, and the JSON endpoints need a
CORS-preflighted content type): ``POST /auth/session`` (a fresh access token for this
browser), ``POST /auth/logout`` and ``GET /oauth/authorize`` (single sign-on).
"""

from __future__ import annotations

import re

from flask import Response, after_this_request, request

from common.errors import Unauthorized
from common.security import SESSION_COOKIES, client_info
from idp.auth import browser
from idp.auth.sessions import Tokens
from idp.services import services

PLAIN_NAME, SECURE_NAME = SESSION_COOKIES
_SECRET = re.compile(r"^[A-Za-z0-9_-]{43}$")


def _secure() -> bool:
    return services().tokens.issuer.startswith("https://")


def name() -> str:
    return SECURE_NAME if _secure() else PLAIN_NAME


def browser_cookie_present() -> None:
    """``@endpoint(auth="sessionCookie")``: a request without the cookie is not signed in
    (whether the cookie names an open session is the endpoint's own check)."""
    if presented() is None:
        raise Unauthorized("This browser is not signed in.", code="no_session")


def presented() -> str | None:
    """The cookie's secret, when the request carries a well-formed one."""
    value = request.cookies.get(name(), "")
    return value if _SECRET.match(value) else None


def set_on_response(secret: str) -> None:
    """Give the browser its session cookie. No Max-Age beyond the session's own end: the
    server decides when the session is over, the cookie only carries it."""
    max_age = services().settings.refresh_token_ttl

    @after_this_request
    def _set(response: Response) -> Response:
        response.set_cookie(name(), secret, max_age=max_age, path="/", secure=_secure(),
                            httponly=True, samesite="Lax")
        return response


def clear_on_response() -> None:
    @after_this_request
    def _clear(response: Response) -> Response:
        response.delete_cookie(name(), path="/", secure=_secure(), httponly=True,
                               samesite="Lax")
        return response


def signed_in(tokens: Tokens) -> None:
    """A login, registration or recovery opened a session: it becomes this browser's."""
    if tokens.cookie is None:
        return
    browser.replace(services(), presented(), tokens.session_id, client_info())
    set_on_response(tokens.cookie)
