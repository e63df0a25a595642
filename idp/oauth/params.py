"""The syntax of OAuth 2.0 / OpenID Connect request parameters (RFC 6749 Appendix A, RFC 7636
§4.1, OpenID Connect Core), checked before Authlib sees a request (issue #8).

Authlib copies some values into error descriptions and refuses to build an error whose
description has characters RFC 6749 forbids there (a ``"`` in ``response_type`` became a
ValueError, so a 500); others would end in a database column they cannot fit. A parameter
that breaks its grammar is no parameter of this protocol: the request is refused as
``invalid_request`` with a fixed description that quotes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from common.errors import InvalidRequest

VSCHAR = r"[\x20-\x7e]*"  # RFC 6749 Appendix A.1
NQCHAR = r"[\x21\x23-\x5b\x5d-\x7e]"
NAME = r"[A-Za-z0-9._-]+"
URI = r"[\x21-\x7e]+"  # an absolute URI: printable ASCII, no spaces (IRIs come percent-encoded)
PKCE = r"[A-Za-z0-9._~-]{43,128}"

GRAMMAR: dict[str, re.Pattern[str]] = {name: re.compile(pattern) for name, pattern in {
    "client_id": VSCHAR, "client_secret": VSCHAR, "state": VSCHAR, "code": VSCHAR,
    "token": VSCHAR, "login_hint": VSCHAR, "logout_hint": VSCHAR,
    "nonce": r"[\x20-\x7e]{1,255}",  # OpenID Connect: stored with the ticket (255 characters)
    "response_type": r"[A-Za-z0-9_]+( [A-Za-z0-9_]+)*",
    "response_mode": NAME, "display": NAME, "token_type_hint": NAME,
    "code_challenge_method": NAME,
    "prompt": r"[A-Za-z0-9_]+( [A-Za-z0-9_]+)*",
    "scope": rf"{NQCHAR}+( {NQCHAR}+)*",
    "grant_type": rf"{NAME}|[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+",
    "redirect_uri": URI, "post_logout_redirect_uri": URI, "origin": URI,
    # code_verifier is left to Authlib's PKCE check: a malformed one must still spend the ticket.
    "code_challenge": PKCE,
    "id_token_hint": r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*){2,4}",
    "ui_locales": r"[A-Za-z0-9-]+( [A-Za-z0-9-]+)*",
    "max_age": r"[0-9]{1,9}",
}.items()}


class MalformedParameter(InvalidRequest):
    code = "invalid_request"


def malformed(params: Mapping[str, object], name: str) -> bool:
    value = params.get(name)
    return isinstance(value, str) and bool(value) and not GRAMMAR[name].fullmatch(value)


def check_oauth_params(params: Mapping[str, object]) -> None:
    """Refuse the request if a known parameter breaks its grammar. Empty values are left to
    Authlib, which answers "missing parameter" in its own words."""
    for name in GRAMMAR:
        if malformed(params, name):
            raise MalformedParameter(f"The {name} parameter is malformed.")
