"""Card issuance from a cooperative (issue #11): {idp}/enter/{coopname} signs the member in at
the cooperative's CoopID (a stub OpenID provider on 127.0.0.1, with an RSA key of its own), and
the card they then open is linked to that subject: ``link.created``."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from tests.idp.network import COOP, Mono, admitted, post
from tests.idp.oauth_flow import card_holder
from tests.idp.test_network_webhooks import Cooperative, deliver

ISSUER_PATH = "/application/o/cardcoop/"


class CoopId:
    """The cooperative's authentik-like CoopID: discovery, token endpoint and JWKS (its
    authorize page is where the member would sign in; the test plays the redirect back)."""

    def __init__(self, server: HTTPServer, client_secret: str) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "coopid-1", "use": "sig"},
                                       private=True)
        self.issuer = server.url_for(ISSUER_PATH)
        self.client_secret, self.codes = client_secret, {}
        self.nonce_override: str | None = None
        self.token_requests: list[dict[str, str]] = []
        server.expect_request(f"{ISSUER_PATH}.well-known/openid-configuration").respond_with_json({
            "issuer": self.issuer, "authorization_endpoint": server.url_for(
                "/application/o/authorize/"),
            "token_endpoint": server.url_for("/application/o/token/"),
            "jwks_uri": server.url_for(f"{ISSUER_PATH}jwks/")})
        server.expect_request(f"{ISSUER_PATH}jwks/").respond_with_json(
            {"keys": [self.key.as_dict(private=False)]})
        server.expect_request("/application/o/token/", method="POST").respond_with_handler(
            self.token)
        self.subject = "authentik-user-uuid-1"
        server.expect_request("/application/o/authorize/").respond_with_handler(self.authorize)

    def authorize(self, request: Request) -> Response:
        """A member already signed in at the CoopID (consent remembered): straight back."""
        code, state = self.code_for(request.url, self.subject)
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        return Response(status=302, headers={
            "Location": f"{query['redirect_uri']}?code={code}&state={state}"})

    def code_for(self, authorize_url: str, subject: str) -> tuple[str, str]:
        """The member signed in at the CoopID: (code, state) as its redirect carries them."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**query, "sub": subject}
        return code, query["state"]

    def token(self, request: Request) -> Response:
        form = request.form.to_dict()
        self.token_requests.append(form)
        grant = self.codes.pop(form.get("code", ""), None)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(
            form.get("code_verifier", "").encode()).digest()).rstrip(b"=").decode()
        if grant is None or form.get("client_secret") != self.client_secret \
                or challenge != grant["code_challenge"] \
                or form.get("redirect_uri") != grant["redirect_uri"]:
            return Response('{"error":"invalid_grant"}', status=400,
                            content_type="application/json")
        now = int(time.time())
        id_token = jwt.encode({"alg": "RS256", "kid": "coopid-1"}, {
            "iss": self.issuer, "aud": grant["client_id"], "sub": grant["sub"],
            "nonce": self.nonce_override or grant["nonce"], "iat": now, "exp": now + 300,
            "email": "anna@example.org"}, self.key)
        return Response(json.dumps({"access_token": "x", "token_type": "Bearer",
                                    "id_token": id_token}), content_type="application/json")


@pytest.fixture
def coopid(api: FlaskClient, net: Mono, httpserver: HTTPServer) -> CoopId:
    provider = CoopId(httpserver, "coopid-secret-" + secrets.token_hex(4))
    admitted(api, net)
    hooks = Cooperative(httpserver)
    document = net.connect_document(webhooks=hooks.url, oidc_issuer=provider.issuer,
                                    oidc_client_secret=provider.client_secret)
    assert post(api, "/v1/coops/connect", document).status_code == 200
    provider.hooks = hooks  # type: ignore[attr-defined]
    return provider


def signed_in_at_coopid(browser: FlaskClient, coopid: CoopId, subject: str) -> Any:
    started = browser.get(f"/enter/{COOP}")
    assert started.status_code == 302, started.data[:300]
    location = started.headers["Location"]
    assert location.startswith(coopid.issuer.split(ISSUER_PATH)[0] + "/application/o/authorize/")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["redirect_uri"] == f"http://idp.test/source/oauth/callback/{COOP}/"
    assert query["code_challenge_method"] == "S256" and query["nonce"] and query["state"]
    assert query["client_id"] == "cardcoop"
    code, state = coopid.code_for(location, subject)
    return browser.get(f"/source/oauth/callback/{COOP}/?code={code}&state={state}")


def test_a_card_opened_from_a_cooperative_is_linked_and_the_cooperative_told(
        network_app: Flask, coopid: CoopId) -> None:
    browser = network_app.test_client()
    answer = signed_in_at_coopid(browser, coopid, "authentik-user-uuid-1")
    assert answer.status_code == 303, answer.data[:300]
    assert answer.headers["Location"].startswith("/#/enter/")
    token = answer.headers["Location"].rsplit("/", 1)[1]
    # The member signs in to card.coop (here: a new member) and opens a card.
    holder = card_holder(network_app, browser)
    card = browser.get("/card", headers=holder.bearer).json
    linked = browser.post(f"/card/entries/{token}", headers=holder.bearer)
    assert linked.status_code == 200
    assert linked.json == {"coopname": COOP, "coop": "ПК Зелёный сад"}
    again = browser.post(f"/card/entries/{token}", headers=holder.bearer)
    assert (again.status_code, again.json["error"]) == (404, "unknown_entry")
    while deliver(network_app).sent:
        pass
    [event] = [b for b, _ in coopid.hooks.received if b["event"] == "link.created"]  # type: ignore[attr-defined]
    assert event["card_id"] == card["card_id"] and event["coopname"] == COOP
    assert event["external_subject"] == "authentik-user-uuid-1"
    assert event["card_number"] == card["card_number"] and event["origin"] == "enter"


def test_an_answer_that_did_not_start_in_this_browser_is_refused(
        network_app: Flask, coopid: CoopId) -> None:
    started = network_app.test_client().get(f"/enter/{COOP}")
    code, state = coopid.code_for(started.headers["Location"], "someone")
    elsewhere = network_app.test_client().get(
        f"/source/oauth/callback/{COOP}/?code={code}&state={state}",
        headers={"Accept-Language": "ru"})
    assert elsewhere.status_code == 403 and elsewhere.mimetype == "text/html"
    assert "Начните заново на сайте кооператива" in elsewhere.get_data(as_text=True)
    assert coopid.token_requests == []  # the code was never even exchanged
    browser = network_app.test_client()
    browser.get(f"/enter/{COOP}")
    wrong_state = browser.get(f"/source/oauth/callback/{COOP}/?code=x&state=forged")
    assert wrong_state.status_code == 403


def test_an_id_token_for_another_sign_in_is_refused(network_app: Flask,
                                                    coopid: CoopId) -> None:
    coopid.nonce_override = "another-sign-in"
    answer = signed_in_at_coopid(network_app.test_client(), coopid, "someone")
    assert answer.status_code == 403
    assert "could not be verified" in answer.get_data(as_text=True) or \
        "не удалось проверить" in answer.get_data(as_text=True)


def test_entry_for_an_unknown_cooperative_and_bad_tokens(network_app: Flask,
                                                         coopid: CoopId) -> None:
    browser = network_app.test_client()
    assert browser.get("/enter/rodnik").status_code == 404
    assert browser.get("/enter/" + "x" * 300).status_code == 404
    holder = card_holder(network_app, browser)
    for token in ("short", "a" * 43, "a" * 500):
        assert browser.post(f"/card/entries/{token}", headers=holder.bearer).status_code == 404
    assert network_app.test_client().post(f"/card/entries/{'a' * 43}").status_code == 401


def test_an_entry_token_expires(network_app: Flask, coopid: CoopId) -> None:
    """The member has half an hour from the CoopID's answer to open the card."""
    from datetime import timedelta

    from common.db import db, utcnow
    from idp.network.models import NetworkEntry

    browser = network_app.test_client()
    token = signed_in_at_coopid(browser, coopid, "late-member").headers["Location"].rsplit(
        "/", 1)[1]
    with network_app.app_context():
        entry = db.session.scalars(select(NetworkEntry)).one()
        entry.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    holder = card_holder(network_app, browser)
    late = browser.post(f"/card/entries/{token}", headers=holder.bearer)
    assert (late.status_code, late.json["error"]) == (404, "unknown_entry")
    while deliver(network_app).sent:
        pass
    assert not [b for b, _ in coopid.hooks.received if b["event"] == "link.created"]  # type: ignore[attr-defined]
