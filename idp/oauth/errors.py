"""How the OAuth endpoints answer the errors raised before or beside Authlib (bad input, size,
rate limits, authentication), so that each speaks its protocol (issue #8):

- the token, revocation, introspection and userinfo endpoints and /access/exchange-ticket answer
  RFC 6749 §5.2 bodies, ``{"error", "error_description"}``, as Authlib's own errors there do;
- the authorization and logout endpoints are pages a member sees: an error is a page, in words,
  never a JSON body (redirecting is Authlib's choice alone, once the client and its redirect URI
  have been checked).

Every other endpoint keeps idp's ``{"error", "message"}``.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from common.errors import ApiError, error_response, http_error_response

PAGE_ENDPOINTS = frozenset({"oauth.authorize", "oauth.authorize_alias", "oauth.logout"})
# Where a cooperative authenticates itself (RFC 6749 §2.3): a 401 is invalid_client, and the
# challenge names Basic, the scheme these endpoints take.
CLIENT_AUTH_ENDPOINTS = frozenset({
    "oauth.token", "oauth.token_alias", "oauth.revoke", "oauth.introspect",
    "access.exchange_ticket"})
# Where a cooperative's access token is presented (RFC 6750): a 401 is invalid_token.
BEARER_ENDPOINTS = frozenset({"oauth.userinfo", "oauth.userinfo_alias"})
RFC6749_ENDPOINTS = CLIENT_AUTH_ENDPOINTS | BEARER_ENDPOINTS
# Error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, kept as they are; others are
# named by their status.
RFC_CODES = frozenset({
    "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
    "unsupported_grant_type", "invalid_scope", "access_denied", "unsupported_response_type",
    "server_error", "temporarily_unavailable", "invalid_token", "insufficient_scope"})
BY_STATUS = {429: "too_many_requests", 503: "temporarily_unavailable"}

INVALID_LINK = "Ссылка для входа неверна. / This sign-in link is not valid."
PAGE_MESSAGES = {
    413: "Ссылка для входа слишком длинная. / This sign-in link is too long.",
    429: "Слишком много попыток: подождите минуту. / Too many attempts: wait a minute.",
}


def error_page(detail: str | None = None, status: int = 400, message: str = INVALID_LINK
               ) -> Response:
    """The member reads ``message``; ``detail`` (the protocol's reason) is folded away for the
    cooperative's developers."""
    response = Response(render_template("idp/oauth_error.html", message=message, detail=detail),
                        status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def protocol_error(error: ApiError | HTTPException) -> Response:
    response = (error_response(error) if isinstance(error, ApiError)
                else http_error_response(error))
    if request.endpoint in PAGE_ENDPOINTS:
        page = error_page(response.get_json()["message"], response.status_code,
                          PAGE_MESSAGES.get(response.status_code, INVALID_LINK))
        if "Retry-After" in response.headers:
            page.headers["Retry-After"] = response.headers["Retry-After"]
        return page
    if request.endpoint in RFC6749_ENDPOINTS:
        body = response.get_json()
        client_auth = request.endpoint in CLIENT_AUTH_ENDPOINTS
        unauthenticated = "invalid_client" if client_auth else "invalid_token"
        code = body["error"] if body["error"] in RFC_CODES else \
            unauthenticated if response.status_code == 401 else \
            BY_STATUS.get(response.status_code, "invalid_request")
        rfc = jsonify({"error": code, "error_description": body["message"]})
        rfc.status_code = response.status_code
        for name, value in response.headers.items():
            if name.lower() not in ("content-type", "content-length"):
                rfc.headers[name] = value
        if response.status_code == 401 and client_auth:
            rfc.headers["WWW-Authenticate"] = 'Basic realm="card.coop"'
        rfc.headers["Cache-Control"] = "no-store"
        return rfc
    return response


def speak_the_protocol(bp: Blueprint) -> None:
    bp.register_error_handler(ApiError, protocol_error)
    bp.register_error_handler(HTTPException, protocol_error)
