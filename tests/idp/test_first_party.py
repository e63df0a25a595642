"""card.coop's own apps as first-party clients of idp (issue #12; idp/oauth/first_party.py):
sign-in without a consent screen, the member's session tokens with the app's scope, rotating
refresh tokens, and the member's API open to them and nothing else."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from common.db import db
from idp.models import AuthSession
from idp.oauth import clients
from idp.services import services
from tests.idp.oauth_flow import (
    COOP,
    CardHolder,
    add_account,
    card_holder,
    make_client,
    pkce,
    query_of,
)

APP = "portal"
APP_URL = "http://127.0.0.1:8001"
CALLBACK = f"{APP_URL}/auth/callback"
SCOPE = "openid cardcoop:card cardcoop:member"


@pytest.fixture
def app_secret(app: Flask) -> str:
    with app.app_context():
        return clients.create_first_party(APP, [CALLBACK], [APP_URL], [f"{APP_URL}/"],
                                          f"{APP_URL}/auth/backchannel-logout").secret


def basic(secret: str, client_id: str = APP) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def authorize(client: FlaskClient, *, scope: str = SCOPE, client_id: str = APP,
              redirect_uri: str = CALLBACK, **extra: str) -> Any:
    verifier, challenge = pkce()
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
             "scope": scope, "state": "st-1", "nonce": "n-1", "code_challenge": challenge,
             "code_challenge_method": "S256"} | extra
    response = client.get(f"/oauth/authorize?{urlencode(query)}")
    return response, verifier


def signed_in_app(client: FlaskClient, secret: str) -> dict[str, Any]:
    """The browser (with its idp session) signs in to the app; the app exchanges the code."""
    response, verifier = authorize(client)
    assert response.status_code == 302, response.data[:300]
    params = query_of(response.headers["Location"])
    assert "code" in params, params
    token = client.post("/oauth/token", headers=basic(secret), data={
        "grant_type": "authorization_code", "code": params["code"],
        "redirect_uri": CALLBACK, "code_verifier": verifier})
    assert token.status_code == 200, token.json
    return dict(token.json)


def bearer(token: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['access_token']}"}


def refresh(client: FlaskClient, secret: str, refresh_token: str, **extra: str) -> Any:
    return client.post("/oauth/token", headers=basic(secret), data={
        "grant_type": "refresh_token", "refresh_token": refresh_token} | extra)


@pytest.fixture
def browser_holder(app: Flask, client: FlaskClient) -> CardHolder:
    """A member with a card whose test client keeps the idp session cookie (a browser)."""
    return card_holder(app, client, browser=True)


def test_a_signed_in_member_gets_in_at_once_and_the_app_gets_session_tokens(
        app: Flask, client: FlaskClient, app_secret: str, browser_holder: CardHolder) -> None:
    token = signed_in_app(client, app_secret)
    assert {"access_token", "refresh_token", "id_token", "expires_in"} <= set(token)
    assert token["scope"] == SCOPE
    with app.app_context():
        claims = jwt.decode(token["access_token"], services().tokens.verifying_keys()).claims
        id_claims = jwt.decode(token["id_token"],
                               KeySet.import_key_set(services().tokens.jwks())).claims
    assert claims["client_id"] == APP and claims["scope"] == SCOPE
    # Tokens of the member's idp session: the one the ID token names.
    assert id_claims["aud"] == APP and id_claims["sid"] == claims["sid"]
    assert id_claims["nonce"] == "n-1" and "email" not in id_claims
    # The member's own list of accesses does not show card.coop itself.
    listed = client.get("/access/list", headers=bearer(token))
    assert listed.status_code == 200 and listed.json["grants"] == []


def test_the_app_token_reads_the_members_api_and_nothing_else(
        client: FlaskClient, app_secret: str, browser_holder: CardHolder) -> None:
    token = signed_in_app(client, app_secret)
    for path in ("/card/overview", "/auth/sessions", "/auth/activity", "/access/list"):
        answer = client.get(path, headers=bearer(token))
        assert answer.status_code == 200, (path, answer.json)
    overview = client.get("/card/overview", headers=bearer(token)).json
    assert set(overview) == {"card_id", "card_number", "created_at", "accounts", "memberships"}
    for method, path in (("GET", "/card"), ("PUT", "/card"), ("GET", "/card/accounts"),
                         ("POST", "/auth/change-password"), ("POST", "/auth/delete-account"),
                         ("GET", "/auth/export"), ("POST", "/access/share-data"),
                         ("POST", "/auth/sessions/revoke-others"), ("GET", "/cooperatives")):
        answer = client.open(path, method=method, headers=bearer(token), json={})
        assert answer.status_code == 403, (method, path, answer.status_code)
        assert answer.json["error"] == "insufficient_scope"
    # The member's own token still opens all of it.
    assert client.get("/card", headers=browser_holder.bearer).status_code == 200


def test_refresh_rotates_and_a_reused_token_closes_the_session(
        app: Flask, client: FlaskClient, app_secret: str, browser_holder: CardHolder) -> None:
    token = signed_in_app(client, app_secret)
    first = refresh(client, app_secret, token["refresh_token"])
    assert first.status_code == 200, first.json
    assert first.json["refresh_token"] != token["refresh_token"]
    assert client.get("/card/overview", headers=bearer(first.json)).status_code == 200
    replay = refresh(client, app_secret, token["refresh_token"])
    assert replay.status_code == 400 and replay.json["error"] == "invalid_grant"
    # Two parties hold the session: it is closed, for the app and the member alike.
    assert client.get("/card/overview", headers=bearer(first.json)).status_code == 401
    assert client.get("/auth/account", headers=browser_holder.bearer).status_code == 401


def test_an_app_refresh_leaves_the_sessions_device_as_it_was(
        app: Flask, client: FlaskClient, app_secret: str, browser_holder: CardHolder) -> None:
    token = signed_in_app(client, app_secret)
    with app.app_context():
        before = db.session.scalars(select(AuthSession)).one()
        device = (before.ip, before.user_agent)
    answer = client.post("/oauth/token", headers=basic(app_secret) | {
        "User-Agent": "portal-server/1.0"}, data={"grant_type": "refresh_token",
                                                  "refresh_token": token["refresh_token"]},
        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert answer.status_code == 200, answer.json
    with app.app_context():
        after = db.session.scalars(select(AuthSession)).one()
        assert (after.ip, after.user_agent) == device


def test_refresh_tokens_belong_to_their_holder(
        client: FlaskClient, app_secret: str, browser_holder: CardHolder) -> None:
    token = signed_in_app(client, app_secret)
    own = browser_holder.member.tokens["refreshToken"]
    # The member's own refresh token is no token at the app's endpoint, and the other way.
    assert refresh(client, app_secret, own).json["error"] == "invalid_grant"
    mine = client.post("/auth/refresh-token", json={"refreshToken": token["refresh_token"]})
    assert mine.status_code == 401
    # Neither was spent by the attempt.
    assert refresh(client, app_secret, token["refresh_token"]).status_code == 200


def test_refresh_needs_the_apps_own_credentials(
        app: Flask, client: FlaskClient, app_secret: str, browser_holder: CardHolder) -> None:
    token = signed_in_app(client, app_secret)
    coop = make_client(app, COOP)
    assert refresh(client, "wrong", token["refresh_token"]).status_code == 401
    as_coop = client.post("/oauth/token", headers=basic(coop.secret, COOP), data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"]})
    assert as_coop.status_code == 400 and as_coop.json["error"] == "unauthorized_client"
    for bad in ({}, {"refresh_token": ""}, {"refresh_token": "x" * 500}):
        answer = client.post("/oauth/token", headers=basic(app_secret),
                             data={"grant_type": "refresh_token"} | bad)
        assert answer.status_code == 400, bad
    wider = refresh(client, app_secret, token["refresh_token"], scope=f"{SCOPE} share")
    assert wider.status_code == 400 and wider.json["error"] == "invalid_scope"
    assert refresh(client, app_secret, token["refresh_token"]).status_code == 200


def test_a_cooperative_cannot_ask_for_the_members_api(
        app: Flask, client: FlaskClient, browser_holder: CardHolder) -> None:
    make_client(app, COOP)
    response, _ = authorize(client, client_id=COOP, redirect_uri="https://coop.example/callback",
                            scope="openid cardcoop:member")
    assert response.status_code == 302
    assert query_of(response.headers["Location"])["error"] == "invalid_scope"


def test_without_an_idp_session_the_page_signs_in_then_continues(
        app: Flask, client: FlaskClient, app_secret: str) -> None:
    response, _ = authorize(client)
    assert response.status_code == 200
    assert b'data-first-party="true"' in response.data
    assert b"data-coop-name" not in response.data


def test_the_card_frame_is_framed_only_by_first_party_origins(
        client: FlaskClient, app_secret: str) -> None:
    page = client.get(f"/frame/card?{urlencode({'parent': APP_URL})}")
    assert page.status_code == 200
    assert f"frame-ancestors {APP_URL}" in page.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in page.headers
    assert f'data-embed-parent="{APP_URL}"'.encode() in page.data
    elsewhere = client.get("/frame/card?parent=https://evil.example")
    assert b"data-embed-parent" not in elsewhere.data


def test_the_card_frame_without_apps_may_be_framed_by_nobody(client: FlaskClient) -> None:
    page = client.get("/frame/card")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_the_card_frame_speaks_the_embedding_apps_language_from_its_first_byte(
        client: FlaskClient) -> None:
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    page = client.get("/frame/card?lang=ru", headers=english_browser)
    assert b'<html lang="ru"' in page.data and "Загрузка…".encode() in page.data
    page = client.get("/frame/card?lang=en", headers={"Accept-Language": "ru"})
    assert b'<html lang="en"' in page.data and "Loading…".encode() in page.data
    # A language we do not speak falls back to the browser's.
    page = client.get("/frame/card?lang=de", headers=english_browser)
    assert b'<html lang="en"' in page.data


def test_activity_pages_newest_first_and_refuses_bad_cursors(
        client: FlaskClient, app_secret: str, browser_holder: CardHolder) -> None:
    token = signed_in_app(client, app_secret)
    page = client.get("/auth/activity?limit=1", headers=bearer(token)).json
    assert len(page["events"]) == 1 and page["next_before"] is not None
    older = client.get(f"/auth/activity?limit=1&before={page['next_before']}",
                       headers=bearer(token)).json
    assert older["events"][0]["id"] < page["events"][0]["id"]
    newest = page["events"][0]
    assert newest["event"] == "signed_in" and newest["coopname"] == APP
    assert set(newest) == {"id", "at", "event", "ip", "device", "coopname"}
    for bad in ("limit=0", "limit=abc", "before=-1", "before=" + "9" * 30, "limit=1.5"):
        answer = client.get(f"/auth/activity?{bad}", headers=bearer(token))
        assert answer.status_code == 400, bad


def test_another_members_session_is_not_found(
        app: Flask, client: FlaskClient, app_secret: str, browser_holder: CardHolder) -> None:
    token = signed_in_app(client, app_secret)
    other_client = app.test_client()
    other = card_holder(app, other_client, browser=True)
    theirs = other_client.get("/auth/sessions", headers=other.bearer).json["sessions"][0]["id"]
    answer = client.delete(f"/auth/sessions/{theirs}", headers=bearer(token))
    assert answer.status_code == 404
    assert other_client.get("/auth/account", headers=other.bearer).status_code == 200


def test_an_authorization_request_without_scope_is_refused_not_a_crash(
        app: Flask, client: FlaskClient) -> None:
    make_client(app, COOP)
    _verifier, challenge = pkce()
    query = {"response_type": "code", "client_id": COOP,
             "redirect_uri": "https://coop.example/callback", "state": "s",
             "code_challenge": challenge, "code_challenge_method": "S256"}
    response = client.get(f"/oauth/authorize?{urlencode(query)}")
    assert response.status_code in (200, 302, 400), response.status_code
    if response.status_code == 302:
        assert "error=" in response.headers["Location"]


def test_notices_tell_of_the_cards_own_events(client: FlaskClient, app_secret: str,
                                              browser_holder: CardHolder) -> None:
    """The centre's list: a new card and a new cooperative account from the audit log (origin
    "event", ids counted apart from idp's messages), newest first."""
    add_account(client, browser_holder, COOP)
    token = signed_in_app(client, app_secret)
    notices = client.get("/auth/notifications", headers=bearer(token)).json["notices"]
    events = [(n["kind"], n["origin"], n.get("coopname")) for n in notices
              if n["origin"] == "event"]
    assert ("card_issued", "event", None) in events
    assert ("account_added", "event", COOP) in events
    assert [n["at"] for n in notices] == sorted((n["at"] for n in notices), reverse=True)
    assert all(n["origin"] in ("message", "event") for n in notices)
