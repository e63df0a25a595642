"""One idp session per browser, held by a cookie (issue #9): resume after a reload, unlock with
the password alone, single sign-on at /oauth/authorize with OpenID Connect's prompt / max_age /
auth_time, the sessions list, and back-channel logout to a client that registered for it."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet
from pytest_httpserver import HTTPServer
from sqlalchemy import update

from common.db import db, utcnow
from idp.auth.cookie import PLAIN_NAME
from idp.models import AuthSession
from idp.oauth import backchannel
from idp.oauth.models import OAuthClient
from tests.idp.conftest import login, new_hash_key, register
from tests.idp.oauth_flow import (
    COOP,
    REDIRECT,
    CardHolder,
    Coop,
    auth_request,
    card_holder,
    exchange,
    make_client,
    pkce,
    query_of,
    receive_backchannel_logouts,
    ticket_for,
)

SIGN_IN = "openid email cardcoop:card"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(PLAIN_NAME)
    return cookie.value if cookie else None


def authorize(client: FlaskClient, **extra: str) -> tuple[Any, str]:
    verifier, challenge = pkce()
    params = auth_request(scope=extra.pop("scope", SIGN_IN), challenge=challenge, **extra)
    return client.get("/oauth/authorize", query_string=params), verifier


def consented(app: Flask, client: FlaskClient, coop: Coop) -> CardHolder:
    """A member with a card who signed in to the cooperative once, through the page."""
    holder = card_holder(app, client, browser=True)
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(scope=SIGN_IN, challenge=challenge))
    assert exchange(client, coop, ticket, verifier).status_code == 200
    return holder


# -- the cookie and the locked session --------------------------------------------------------

def test_login_sets_an_httponly_lax_cookie_and_reload_resumes_locked(app: Flask,
                                                                    client: FlaskClient) -> None:
    member = register(app, client, browser=True)
    done = login(client, member.email, member.hash_key, browser=True)
    set_cookie = done.headers["Set-Cookie"]
    assert f"{PLAIN_NAME}=" in set_cookie and "HttpOnly" in set_cookie
    assert "SameSite=Lax" in set_cookie and "Path=/" in set_cookie
    assert "Secure" not in set_cookie  # http://: a Secure cookie would never come back
    assert session_cookie(client) not in str(done.json)  # the secret is not in the body

    resumed = client.post("/auth/session")
    assert resumed.status_code == 200
    body = resumed.json
    assert body["email"] == member.email and body["kdfEmail"] == member.email
    assert set(body) >= {"accessToken", "serverSalt", "kdf", "authTime"}
    assert "refreshToken" not in body and "hashKey" not in body
    account = client.get("/auth/account",
                         headers={"Authorization": f"Bearer {body['accessToken']}"})
    assert account.status_code == 200 and account.json["email"] == member.email


def test_https_issuer_gets_a_secure_host_prefixed_cookie(make_app: Any) -> None:
    app = make_app(idp_url="https://id.card.coop.test")
    client = app.test_client()
    register(app, client, browser=True)
    cookies = {c.key: c for c in client._cookies.values()}
    assert "__Host-cardcoop_session" in cookies and cookies["__Host-cardcoop_session"].secure
    assert PLAIN_NAME not in cookies


@pytest.mark.parametrize("value", ["", "x", "a" * 43 + "!", "Ω" * 43, "a" * 4000])
def test_no_or_forged_cookie_is_a_clear_401(client: FlaskClient, value: str) -> None:
    if value:
        client.set_cookie(PLAIN_NAME, value)
    answer = client.post("/auth/session")
    assert answer.status_code in (400, 401) and answer.json["error"] in (
        "no_session", "invalid_request", "bad_input", "invalid_input")


def test_logout_ends_the_session_and_clears_the_cookie(app: Flask, client: FlaskClient) -> None:
    member = register(app, client, browser=True)
    assert client.post("/auth/logout", headers=member.bearer, json={}).status_code == 204
    assert session_cookie(client) is None
    assert client.post("/auth/session").status_code == 401
    assert client.get("/auth/account", headers=member.bearer).status_code == 401


def test_logout_with_another_sessions_refresh_token_is_refused(app: Flask,
                                                              client: FlaskClient) -> None:
    first = register(app, client, browser=True)
    other = login(app.test_client(), first.email, first.hash_key).json
    refused = client.post("/auth/logout", headers=first.bearer,
                          json={"refreshToken": other["refreshToken"]})
    assert refused.status_code == 401
    assert client.get("/auth/account", headers=first.bearer).status_code == 200


def test_one_session_per_browser_a_new_login_ends_the_old_one(app: Flask,
                                                              client: FlaskClient) -> None:
    member = register(app, client, browser=True)
    first_cookie = session_cookie(client)
    again = login(client, member.email, member.hash_key, browser=True)
    assert again.status_code == 200 and session_cookie(client) != first_cookie
    assert client.get("/auth/account", headers=member.bearer).status_code == 401  # the old one
    listed = client.get("/auth/sessions",
                        headers={"Authorization": f"Bearer {again.json['accessToken']}"}).json
    assert len(listed["sessions"]) == 1


def test_idle_session_ends(app: Flask, client: FlaskClient) -> None:
    member = register(app, client, browser=True)
    with app.app_context():
        idle = app.extensions["idp"].settings.session_idle_ttl
        db.session.execute(update(AuthSession).values(
            last_used_at=utcnow() - timedelta(seconds=idle + 1)))
        db.session.commit()
    assert client.post("/auth/session").status_code == 401
    assert client.get("/auth/account", headers=member.bearer).status_code == 401


def test_unlock_needs_the_password_and_counts_toward_the_lockout(app: Flask,
                                                                 client: FlaskClient) -> None:
    member = register(app, client, browser=True)
    token = {"Authorization": f"Bearer {client.post('/auth/session').json['accessToken']}"}
    with app.app_context():
        before = db.session.get(AuthSession, _session_id(client, token)).auth_time
    time.sleep(0.01)
    assert client.post("/auth/reauth", headers=token,
                       json={"hashKey": member.hash_key}).status_code == 204
    with app.app_context():
        assert db.session.get(AuthSession, _session_id(client, token)).auth_time > before
    threshold = app.extensions["idp"].settings.lockout_threshold
    answers = [client.post("/auth/reauth", headers=token, json={"hashKey": new_hash_key()})
               for _ in range(threshold + 1)]
    assert [a.status_code for a in answers[:threshold]] == [403] * threshold
    assert answers[-1].status_code == 429
    assert client.post("/auth/reauth", headers=token,
                       json={"hashKey": member.hash_key}).status_code == 429


@pytest.mark.parametrize("body", [{}, {"hashKey": 5}, {"hashKey": "short"},
                                  {"hashKey": "A" * 43, "extra": 1}, [], "x"])
def test_unlock_bad_input(app: Flask, client: FlaskClient, body: Any) -> None:
    member = register(app, client, browser=True)
    answer = client.post("/auth/reauth", headers=member.bearer, json=body)
    assert answer.status_code == 400


def test_unlock_without_a_token(client: FlaskClient) -> None:
    assert client.post("/auth/reauth", json={"hashKey": "A" * 43}).status_code == 401


def _session_id(client: FlaskClient, bearer: dict[str, str]) -> Any:
    import uuid

    current = [s for s in client.get("/auth/sessions", headers=bearer).json["sessions"]
               if s["current"]]
    return uuid.UUID(current[0]["id"])


# -- the sessions list --------------------------------------------------------------------------

def test_sessions_list_names_devices_and_signs_out_everywhere_else(app: Flask) -> None:
    laptop, phone, tablet = app.test_client(), app.test_client(), app.test_client()
    member = register(app, laptop, browser=True)
    login(phone, member.email, member.hash_key, browser=True, **{"User-Agent": CHROME})
    login(tablet, member.email, member.hash_key, browser=True)
    listed = laptop.get("/auth/sessions", headers=member.bearer).json["sessions"]
    assert len(listed) == 3
    assert "Chrome 131 · Windows 10" in [s["device"] for s in listed]
    ended = laptop.post("/auth/sessions/revoke-others", headers=member.bearer)
    assert ended.status_code == 200 and ended.json["revoked"] == 2
    assert phone.post("/auth/session").status_code == 401
    assert tablet.post("/auth/session").status_code == 401
    assert laptop.post("/auth/session").status_code == 200
    assert len(laptop.get("/auth/sessions", headers=member.bearer).json["sessions"]) == 1


# -- single sign-on at the authorization endpoint ----------------------------------------------

def test_sso_signs_in_again_at_once_after_consent(app: Flask, client: FlaskClient) -> None:
    coop = make_client(app)
    consented(app, client, coop)
    answer, verifier = authorize(client)
    assert answer.status_code == 302
    location = query_of(answer.headers["Location"])
    assert answer.headers["Location"].startswith(REDIRECT) and "code" in location
    token = exchange(client, coop, location["code"], verifier)
    assert token.status_code == 200 and "id_token" in token.json


def test_no_session_or_no_consent_shows_the_page(app: Flask, client: FlaskClient) -> None:
    make_client(app)
    assert authorize(client)[0].status_code == 200  # nobody signed in
    card_holder(app, client, browser=True)
    assert authorize(client)[0].status_code == 200  # signed in, never consented


def test_data_scopes_always_show_the_page(app: Flask, client: FlaskClient) -> None:
    coop = make_client(app)
    consented(app, client, coop)
    assert authorize(client, scope="openid share")[0].status_code == 200
    none = authorize(client, scope="openid share", prompt="none")[0]
    assert query_of(none.headers["Location"])["error"] == "interaction_required"


@pytest.mark.parametrize(("prepare", "expected"), [
    ("nobody", "login_required"), ("signed_in", "consent_required"), ("consented", None)])
def test_prompt_none_per_oidc_core(app: Flask, client: FlaskClient, prepare: str,
                                   expected: str | None) -> None:
    coop = make_client(app)
    if prepare == "signed_in":
        card_holder(app, client, browser=True)
    elif prepare == "consented":
        consented(app, client, coop)
    answer, _ = authorize(client, prompt="none", state="s1")
    assert answer.status_code == 302  # never a page
    params = query_of(answer.headers["Location"])
    assert params["state"] == "s1" and params["iss"]
    if expected is None:
        assert "code" in params and "error" not in params
    else:
        assert params["error"] == expected and "code" not in params


def test_prompt_none_with_another_value_is_invalid(app: Flask, client: FlaskClient) -> None:
    make_client(app)
    answer, _ = authorize(client, prompt="none login")
    assert query_of(answer.headers["Location"])["error"] == "invalid_request"


def test_prompt_login_and_consent_show_the_page(app: Flask, client: FlaskClient) -> None:
    coop = make_client(app)
    consented(app, client, coop)
    assert authorize(client, prompt="login")[0].status_code == 200
    assert authorize(client, prompt="consent")[0].status_code == 200


def test_max_age_and_auth_time(app: Flask, client: FlaskClient) -> None:
    coop = make_client(app)
    holder = consented(app, client, coop)
    with app.app_context():
        db.session.execute(update(AuthSession).values(auth_time=utcnow() - timedelta(hours=2)))
        db.session.commit()
    assert authorize(client, max_age="3600")[0].status_code == 200  # asks for the password
    stale = authorize(client, max_age="3600", prompt="none")[0]
    assert query_of(stale.headers["Location"])["error"] == "login_required"
    # The page's consent without a fresh proof is refused; after unlock it goes through.
    verifier, challenge = pkce()
    params = auth_request(scope=SIGN_IN, challenge=challenge, max_age="3600")
    refused = client.post("/access/share-data", headers=holder.bearer,
                          json={"coopname": COOP, **params})
    assert refused.status_code == 401 and refused.json["error"] == "reauthentication_required"
    assert client.post("/auth/reauth", headers=holder.bearer,
                       json={"hashKey": holder.member.hash_key}).status_code == 204
    fresh, verifier = authorize(client, max_age="3600")
    assert fresh.status_code == 302
    id_token = exchange(client, coop, query_of(fresh.headers["Location"])["code"],
                        verifier).json["id_token"]
    claims = jwt.decode(id_token, KeySet.import_key_set(client.get(
        "/.well-known/jwks.json").json)).claims
    assert abs(claims["auth_time"] - time.time()) < 60


def test_revoked_consent_is_no_sso(app: Flask, client: FlaskClient) -> None:
    coop = make_client(app)
    holder = consented(app, client, coop)
    grant_id = client.get("/access/list", headers=holder.bearer).json["grants"][0]["id"]
    assert client.delete(f"/access/grants/{grant_id}", headers=holder.bearer).status_code == 204
    assert authorize(client)[0].status_code == 200


def test_iframe_sso_posts_the_ticket_to_the_validated_origin(app: Flask,
                                                             client: FlaskClient) -> None:
    coop = make_client(app)
    consented(app, client, coop)
    answer, _ = authorize(client, redirect_uri=None, origin="https://coop.example")  # type: ignore[arg-type]
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert 'data-origin="https://coop.example"' in html and "cardcoop:ticket" in html
    assert "frame-ancestors https://coop.example" in answer.headers["Content-Security-Policy"]


# -- logout at the client's request and back-channel logout ------------------------------------

def test_rp_logout_without_hint_asks_then_ends_the_browser_session(app: Flask,
                                                                  client: FlaskClient) -> None:
    coop = make_client(app)
    consented(app, client, coop)
    page = client.get("/oauth/logout", query_string={"client_id": coop.client_id})
    assert page.status_code == 200 and 'name="confirm"' in page.get_data(as_text=True)
    assert client.post("/auth/session").status_code == 200  # a link alone signs nobody out
    done = client.post("/oauth/logout", data={"client_id": coop.client_id, "confirm": "yes"})
    assert done.status_code == 200
    assert client.post("/auth/session").status_code == 401 and session_cookie(client) is None


def test_backchannel_logout_reaches_the_client(app: Flask, client: FlaskClient,
                                               httpserver: HTTPServer) -> None:
    coop = make_client(app)
    received = receive_backchannel_logouts(app, coop, httpserver)
    holder = consented(app, client, coop)
    sid = next(s for s in client.get("/auth/sessions", headers=holder.bearer).json["sessions"]
               if s["current"])["id"]
    assert client.post("/auth/logout", headers=holder.bearer, json={}).status_code == 204
    backchannel.drain()
    assert len(received) == 1
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").json)
    token = jwt.decode(received[0], keys)
    assert token.header["typ"] == "logout+jwt"
    claims = token.claims
    assert claims["aud"] == coop.client_id and claims["sid"] == sid
    assert claims["events"] == {backchannel.EVENT: {}} and "nonce" not in claims
    assert claims["exp"] > time.time() and claims["jti"]


def test_backchannel_not_sent_for_a_rolled_back_logout(app: Flask) -> None:
    with app.test_request_context():
        db.session.execute(update(AuthSession).values(revoke_reason="x"))  # a transaction
        db.session.info[backchannel.PENDING] = [
            backchannel.LogoutDelivery("x", "http://127.0.0.1:9/", "t")]
        db.session.rollback()
        assert backchannel.PENDING not in db.session.info


def test_discovery_announces_backchannel_logout(client: FlaskClient) -> None:
    meta = client.get("/.well-known/openid-configuration").json
    assert meta["backchannel_logout_supported"] is True
    assert meta["backchannel_logout_session_supported"] is True


@pytest.mark.parametrize(("uri", "ok"), [
    ("https://voskhod.coop/backchannel", True), ("http://127.0.0.1:8003/bc", True),
    ("http://voskhod.coop/backchannel", False), ("https://voskhod.coop/bc#x", False),
    ("javascript:alert(1)", False)])
def test_clients_create_registers_a_backchannel_logout_uri(app: Flask, uri: str,
                                                            ok: bool) -> None:
    result = app.test_cli_runner().invoke(args=[
        "clients", "create", "voskhod", "--redirect-uri", "https://voskhod.coop/callback",
        "--backchannel-logout-uri", uri])
    with app.app_context():
        client = db.session.get(OAuthClient, "voskhod")
        if ok:
            assert result.exit_code == 0, result.output
            assert client is not None and client.backchannel_logout_uri == uri
        else:
            assert result.exit_code != 0 and client is None
