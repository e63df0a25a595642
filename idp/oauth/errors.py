"""How the OAuth endpoints answer the errors raised before or beside Authlib (bad input, size,
rate limits, authentication), so that each speaks its protocol (issue #8):

- the token, revocation, introspection and userinfo endpoints and /access/exchange-ticket answer
  RFC 6749 §5.2 bodies, ``{"error", "error_description"}``, as Authlib's own errors there do;
- the authorization and logout endpoints are pages a member sees: an error is a page, in words,
  never a JSON body (redirecting is Authlib's choice alone, once the client and its redirect URI
  have been checked).

Every other endpoint keeps idp's ``{"error", "message"}``. Which is which is read from each
endpoint's own ``@endpoint`` declaration (its documented error responses), so the reference and
the answers cannot disagree.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    has_request_context,
    jsonify,
    render_template,
    request,
)
from werkzeug.exceptions import HTTPException

from common.api import Operation
from common.errors import ApiError, error_response, http_error_response
from common.openapi import HtmlPage, OAuthError

# Error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, kept as they are; others are
# named by their status.
RFC_CODES = frozenset({
    "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
    "unsupported_grant_type", "invalid_scope", "access_denied", "unsupported_response_type",
    "server_error", "temporarily_unavailable", "invalid_token", "insufficient_scope"})
BY_STATUS = {429: "too_many_requests", 503: "temporarily_unavailable"}

# What the member reads on a refused request, in each page language; the protocol's reason goes
# to the folded developer detail.
INVALID_LINK: dict[str, str] = {"ru": "Ссылка для входа неверна.",
                                "en": "This sign-in link is not valid."}
PAGE_MESSAGES: dict[int, dict[str, str]] = {
    413: {"ru": "Ссылка для входа слишком длинная.", "en": "This sign-in link is too long."},
    429: {"ru": "Слишком много попыток: подождите минуту.",
          "en": "Too many attempts: please wait a minute."},
}
PAGE_LANGS = ("ru", "en")


def page_lang() -> str:
    """The language of a page the server renders: the embedding app's ``lang`` (/frame/card),
    else the request's ``ui_locales`` (OpenID Connect Core §3.1.2.1, the first one we speak),
    else Accept-Language, else Russian: the order idp/static/app/i18n.js reads them in."""
    asked = [request.values.get("lang", ""), *request.values.get("ui_locales", "").split()]
    for tag in asked:
        language = tag.split("-", 1)[0].lower()
        if language in PAGE_LANGS:
            return language
    best = request.accept_languages.best_match(PAGE_LANGS)
    return best or PAGE_LANGS[0]


def lang_switch() -> list[dict[str, str]]:
    """Links to this page in each language, for the language switch. Only ``ui_locales``: the
    request's other parameters (a refused redirect URI, say) are never echoed into a link."""
    return [{"lang": code, "label": "Русский" if code == "ru" else "English",
             "href": f"{request.path}?{urlencode({'ui_locales': code})}"}
            for code in PAGE_LANGS]


def page_context() -> dict[str, object]:
    """Every server-rendered page knows its language (``lang``) and the switch (``langs``)."""
    if not has_request_context():
        return {"lang": PAGE_LANGS[0], "langs": []}
    return {"lang": page_lang(), "langs": lang_switch()}


def error_page(detail: str | None = None, status: int = 400,
               message: dict[str, str] | None = None) -> Response:
    """The member reads ``message`` in the page's language; ``detail`` (the protocol's reason)
    is folded away for the cooperative's developers."""
    lang = page_lang()
    words = (message or INVALID_LINK)[lang]
    response = Response(render_template("idp/oauth_error.html", message=words, detail=detail),
                        status=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = lang
    response.vary.add("Accept-Language")
    return response


def _declaration() -> Operation | None:
    view = current_app.view_functions.get(request.endpoint or "")
    operation: Operation | None = getattr(view, "__openapi__", None)
    return operation


def protocol_error(error: ApiError | HTTPException) -> Response:
    response = (error_response(error) if isinstance(error, ApiError)
                else http_error_response(error))
    operation = _declaration()
    if operation is None:
        return response
    documented = set(operation.responses.values())
    if HtmlPage in documented:
        page = error_page(response.get_json()["message"], response.status_code,
                          PAGE_MESSAGES.get(response.status_code, INVALID_LINK))
        if "Retry-After" in response.headers:
            page.headers["Retry-After"] = response.headers["Retry-After"]
        return page
    if OAuthError in documented:
        body = response.get_json()
        # A cooperative's access token (RFC 6750) is invalid_token; everywhere else the
        # cooperative authenticates itself (RFC 6749 §2.3) and the challenge names Basic.
        client_auth = operation.auth != "coopToken"
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
    bp.app_context_processor(page_context)
    bp.register_error_handler(ApiError, protocol_error)
    bp.register_error_handler(HTTPException, protocol_error)
