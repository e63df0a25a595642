"""The document the fuzzer reads: idp's own /openapi.json, plus the request parameters of the
OAuth 2.0 / OpenID Connect endpoints that it does not describe.

``@endpoint`` describes JSON bodies only; the protocol endpoints take their parameters in the
query (authorization, logout) or a form body (token, revocation, introspection), as RFC 6749,
RFC 7009, RFC 7662 and OpenID Connect define them. Without them the fuzzer would only ever send
empty requests there. Only requests are added: every response is judged against the document
exactly as idp serves it. Values are plain strings on purpose (any string is a request the
endpoint must answer well); the examples are a registered client's, so that the examples and
coverage phases also get past the client check.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.fuzz.credentials import COOP, REDIRECT

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 Appendix B
AUTHORIZE = {
    "response_type": "code", "client_id": COOP, "redirect_uri": REDIRECT,
    "scope": "openid share", "state": "xyz", "code_challenge": CHALLENGE,
    "code_challenge_method": "S256", "nonce": "n-0S6_WzA2Mj", "fields": "last_name",
    "origin": "https://coop.example", "prompt": "consent",
}
TOKEN = {"grant_type": "authorization_code", "code": "ticket", "redirect_uri": REDIRECT,
         "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "client_id": COOP,
         "client_secret": "secret"}
TOKEN_QUERY = {"token": "token", "token_type_hint": "access_token"}
LOGOUT = {"id_token_hint": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "post_logout_redirect_uri": REDIRECT,
          "client_id": COOP, "state": "xyz", "ui_locales": "ru en", "logout_hint": "member"}

QUERY = {("get", "/oauth/authorize"): AUTHORIZE, ("get", "/application/o/authorize/"): AUTHORIZE,
         ("get", "/oauth/logout"): LOGOUT}
FORM = {("post", "/oauth/token"): TOKEN, ("post", "/application/o/token/"): TOKEN,
        ("post", "/oauth/revoke"): TOKEN_QUERY, ("post", "/oauth/introspect"): TOKEN_QUERY,
        ("post", "/oauth/logout"): LOGOUT}
# The token endpoint authenticates the client by HTTP Basic or by client_secret_post (RFC 6749
# §2.3.1): both ways are tried.
CLIENT_AUTH_OPTIONAL = {("post", "/oauth/token"), ("post", "/application/o/token/")}


def fuzz_document(served: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(served)
    for (method, path), names in QUERY.items():
        operation = doc["paths"][path][method]
        assert "parameters" not in operation, f"{method} {path} documents its query now"
        operation["parameters"] = [
            {"name": name, "in": "query", "required": False,
             "schema": {"type": "string"}, "example": example}
            for name, example in names.items()]
    for (method, path), names in FORM.items():
        operation = doc["paths"][path][method]
        assert "requestBody" not in operation, f"{method} {path} documents its body now"
        operation["requestBody"] = {"required": False, "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object",
                           "properties": {name: {"type": "string"} for name in names}},
                "example": names}}}
    for method, path in CLIENT_AUTH_OPTIONAL:
        operation = doc["paths"][path][method]
        assert "security" not in operation, f"{method} {path} documents its security now"
        operation["security"] = [{"clientAuth": []}, {}]
    return doc
