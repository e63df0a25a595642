"""What the fuzzer found (issue #8), each as a regression test, and the classes they belong to:
strings the database or the protocols cannot take (NUL, controls, lone surrogates, length),
integers wider than their columns, characters Authlib cannot put in an error description. The
answer is always a clear 4xx in the endpoint's own format, and nothing is written."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from common.db import db
from idp.card.models import Card
from idp.oauth.models import AuthorizationCode, Grant
from tests.idp.oauth_flow import (
    COOP,
    REDIRECT,
    CardHolder,
    Coop,
    auth_request,
    card_holder,
    make_client,
    pkce,
    query_of,
    share_body,
)

NUL = "vosk\x00hod"
HOSTILE_STRINGS = ["a\x00b", "line\nbreak", "esc\x1b[2J", "\ud800", "del\x7f", "x" * 5000]


@pytest.fixture
def coop(app: Flask) -> Coop:
    return make_client(app)


@pytest.fixture
def holder(app: Flask, client: FlaskClient, coop: Coop) -> CardHolder:
    return card_holder(app, client, COOP)


def basic(client_id: str, secret: str = "s") -> dict[str, str]:  # noqa: S107 (a test value)
    raw = f"{client_id}:{secret}".encode("utf-8", "surrogatepass")
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def nothing_written(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(AuthorizationCode)) or 0,
                db.session.scalar(select(func.count()).select_from(Grant)) or 0)


# -- response_type that Authlib would copy into an error description ------------------------

@pytest.mark.parametrize("response_type", ['"', "\\", "cодe", "code\\", 'co"de'])
def test_authorize_with_an_unquotable_response_type_is_a_page(client, response_type):
    r = client.get("/oauth/authorize?" + urlencode({"response_type": response_type}))
    assert r.status_code == 400 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert "The response_type parameter is malformed." in page
    assert response_type not in page.split('id="oauth-error">')[1].split("</p>")[0]


def test_a_known_client_gets_the_malformed_response_type_back_as_invalid_request(client, coop):
    _, challenge = pkce()
    params = auth_request(challenge=challenge) | {"response_type": 'co"de'}
    r = client.get("/oauth/authorize?" + urlencode(params))
    assert r.status_code == 302
    back = query_of(r.headers["Location"])
    assert r.headers["Location"].startswith(REDIRECT)
    assert back["error"] == "invalid_request" and back["state"] == params["state"]
    assert back["iss"] == "http://idp.test"


@pytest.mark.parametrize("path", ["/access/deny", "/access/prepare-share-data",
                                  "/access/share-data"])
def test_the_json_endpoints_refuse_an_unquotable_response_type(app, client, holder, path):
    _, challenge = pkce()
    params = auth_request(challenge=challenge) | {"response_type": 'co"de'}
    body = share_body(app, holder, params) if path.endswith("share-data") and \
        "prepare" not in path else {"coopname": COOP, **params}
    before = nothing_written(app)
    r = client.post(path, json=body, headers=holder.bearer)
    assert r.status_code == 400, r.json
    assert r.json["error"] == "invalid_request"
    assert nothing_written(app) == before


# -- NUL bytes in client_id and nonce --------------------------------------------------------

def test_nul_in_client_id_on_the_authorization_endpoint_is_a_page(client, coop):
    _, challenge = pkce()
    for name in ("client_id", "nonce"):
        params = auth_request(challenge=challenge) | {name: NUL}
        r = client.get("/oauth/authorize?" + urlencode(params))
        assert r.status_code == 400 and r.mimetype == "text/html", name


@pytest.mark.parametrize("path", ["/oauth/token", "/application/o/token/", "/oauth/introspect",
                                  "/oauth/revoke"])
def test_nul_in_client_id_on_the_form_endpoints_is_an_rfc6749_error(client, coop, path):
    form = {"grant_type": "authorization_code", "code": "x", "token": "x", "client_id": NUL,
            "client_secret": coop.secret}
    for sent in ({"data": form}, {"data": {"token": "x", "code": "x"}, "headers": basic(NUL)}):
        r = client.post(path, **sent)
        assert r.status_code == 400, (path, r.get_data(as_text=True))
        assert r.json["error"] == "invalid_request"
        assert isinstance(r.json["error_description"], str)
        assert r.headers["Cache-Control"] == "no-store"


def test_nul_on_the_logout_endpoint_is_a_page(client):
    for name in ("client_id", "id_token_hint", "post_logout_redirect_uri", "state"):
        r = client.get("/oauth/logout?" + urlencode({name: NUL}))
        assert r.status_code == 400 and r.mimetype == "text/html", name


@pytest.mark.parametrize("field", ["client_id", "nonce"])
@pytest.mark.parametrize("path", ["/access/deny", "/access/prepare-share-data",
                                  "/access/share-data"])
def test_nul_in_the_json_endpoints(app, client, holder, path, field):
    _, challenge = pkce()
    params = auth_request(challenge=challenge) | {field: NUL}
    body = {"coopname": COOP, **params}
    before = nothing_written(app)
    r = client.post(path, json=body, headers=holder.bearer)
    assert r.status_code == 400 and r.json["error"] == "invalid_request"
    assert nothing_written(app) == before


def test_nul_in_the_ticket_exchange(client, coop):
    for body in ({"ticket": "x", "client_id": NUL, "client_secret": coop.secret},
                 {"ticket": "x\x00", "client_id": COOP, "client_secret": coop.secret}):
        r = client.post("/access/exchange-ticket", json=body)
        assert r.status_code == 400
        assert r.json["error"] == "invalid_request" and "error_description" in r.json


@pytest.mark.parametrize("nonce", ["n" * 256, "ünïcode", "tab\there"])
def test_a_nonce_that_cannot_be_kept_with_the_ticket_is_refused(app, client, holder, nonce):
    _, challenge = pkce()
    params = auth_request(challenge=challenge) | {"nonce": nonce}
    before = nothing_written(app)
    r = client.post("/access/share-data", json=share_body(app, holder, params),
                    headers=holder.bearer)
    assert r.status_code == 400 and r.json["error"] == "invalid_request"
    assert nothing_written(app) == before


# -- integers wider than their columns -------------------------------------------------------

@pytest.mark.parametrize("revision", [2**31, -(2**31) - 1, 10**30])
def test_card_revision_beyond_32_bits_is_a_400_and_the_card_unchanged(app, client, holder,
                                                                      revision):
    current = client.get("/card", headers=holder.bearer).json
    body = {"encrypted_personal_data": current["encrypted_personal_data"],
            "meta": current["meta"], "revision": revision}
    r = client.put("/card", json=body, headers=holder.bearer)
    assert r.status_code == 400, r.json
    assert r.json["details"][0]["field"] == "revision"
    with app.app_context():
        card = db.session.scalar(select(Card))
        assert card is not None and card.revision == current["revision"]


# -- the class: every route, every way in ----------------------------------------------------

def _routes(app: Flask) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/dev/"):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", "x").replace(f"<uuid:{arg}>",
                                                         "00000000-0000-0000-0000-000000000000")
        found += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def test_no_route_answers_a_hostile_string_with_a_server_error(app: Flask,
                                                               client: FlaskClient) -> None:
    routes = _routes(app)
    assert len(routes) > 40  # the whole API, not a sample
    failures: list[Any] = []
    for method, path in routes:
        for hostile in HOSTILE_STRINGS:
            # As bytes on the wire: a lone surrogate arrives as its (invalid) UTF-8 encoding.
            params = urlencode({"client_id": hostile, "state": hostile, "email": hostile,
                                "token": hostile}, encoding="utf-8", errors="surrogatepass")
            attempts = [
                {"query_string": params},
                {"data": json.dumps({"email": hostile, "client_id": hostile, hostile: 1}),
                 "content_type": "application/json"},
                {"data": params, "content_type": "application/x-www-form-urlencoded"},
                {"headers": basic(hostile)},
            ]
            for attempt in attempts:
                r = client.open(path, method=method, **attempt)
                if r.status_code >= 500:
                    failures.append((method, path, repr(hostile[:10]), r.status_code))
    assert not failures, failures
    assert client.get("/health").status_code == 200


def test_a_hostile_string_is_refused_before_the_view_with_the_field_named(client):
    r = client.post("/auth/initiate-login", json={"email": "a\x00@example.com"})
    assert r.status_code == 400
    assert r.json["details"] == [{"field": "body.email", "problem":
                                  "contains a control character or an invalid code point"}]
    r = client.get("/oauth/authorize?state=" + "s" * 5000)
    assert r.status_code == 400 and r.mimetype == "text/html"
    lone = '{"email": "\\udc00@example.com"}'
    r = client.post("/auth/initiate-login", data=lone, content_type="application/json")
    assert r.status_code == 400 and r.json["details"][0]["field"] == "body.email"
    # Text with newlines is still data in JSON (tab, LF, CR); other controls are not.
    ok = client.post("/auth/initiate-login", json={"email": "not an email\n"})
    assert ok.status_code == 400 and ok.json["error"] == "invalid_email"


@pytest.mark.parametrize("path", ["/oauth/introspect", "/oauth/revoke"])
def test_an_empty_basic_header_is_an_unauthenticated_client(client, path):
    r = client.post(path, data={"token": "x"}, headers={"Authorization": "Basic "})
    assert r.status_code == 401 and r.json["error"] == "invalid_client"
    assert r.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("path", ["/oauth/introspect", "/oauth/revoke"])
def test_an_unknown_token_type_hint_is_ignored(client, coop, path):
    r = client.post(path, data={"token": "", "token_type_hint": ".exe"}, headers=coop.basic)
    assert r.status_code == 200, r.get_data(as_text=True)
