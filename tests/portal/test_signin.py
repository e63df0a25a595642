"""Signing in to the portal through idp (issue #12): single sign-on without a password, the
tokens kept on the portal's server, refresh under a lock, back-channel logout."""

from __future__ import annotations

import re
import time

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import func, select

from common.db import db
from idp.oauth import backchannel
from idp.services import services as idp_services
from portal.models import PortalSession
from portal.signin import LOGOUT_EVENT
from tests.portal.conftest import LivePortal, member_with_card, signed_in_browser


def test_a_member_signed_in_at_idp_lands_on_the_dashboard_without_a_password(
        live_portal: LivePortal) -> None:
    email = member_with_card(live_portal.idp)
    browser = signed_in_browser(live_portal.idp, email)
    page = browser.get(f"{live_portal.url}/auth/login")
    assert page.status_code == 200, page.text
    assert str(page.url) == f"{live_portal.url}/"
    assert "Моя карта пайщика" in page.text
    # The portal's cookie is an opaque id; idp's tokens never reach the browser.
    cookie = browser.cookies.get("portal_session", domain="127.0.0.1")
    assert cookie and len(cookie) >= 40
    assert "eyJ" not in page.text


def test_without_an_idp_session_sign_in_goes_to_idps_page(live_portal: LivePortal) -> None:
    anonymous = httpx.Client(follow_redirects=True, timeout=20)
    page = anonymous.get(f"{live_portal.url}/auth/login")
    assert str(page.url).startswith(f"{live_portal.idp.url}/oauth/authorize?")
    assert 'data-first-party="true"' in page.text


def test_a_callback_that_this_browser_did_not_start_signs_nobody_in(
        live_portal: LivePortal) -> None:
    email = member_with_card(live_portal.idp)
    browser = signed_in_browser(live_portal.idp, email)
    started = browser.get(f"{live_portal.url}/auth/login", follow_redirects=False)
    at_idp = browser.get(started.headers["location"], follow_redirects=False)
    callback = at_idp.headers["location"]
    assert callback.startswith(f"{live_portal.url}/auth/callback?")
    # Another browser (no state of this sign-in) presents the code: refused, nothing spent
    # on its behalf, no session.
    stranger = httpx.Client(timeout=20)
    refused = stranger.get(callback)
    assert refused.status_code == 400 and "Вход не завершён" in refused.text
    assert "portal_session" not in stranger.cookies
    # Replayed after the real sign-in: the code is spent, the state is used.
    assert browser.get(callback).status_code == 200
    replay = browser.get(callback, follow_redirects=False)
    assert replay.status_code == 400
    for query in ("", "?error=access_denied&state=x", "?code=abc", "?state=" + "x" * 5000):
        answer = stranger.get(f"{live_portal.url}/auth/callback{query}")
        assert answer.status_code in (400, 414), (query, answer.status_code)


def test_logout_ends_the_portal_session_and_goes_to_idps_logout(
        live_portal: LivePortal) -> None:
    email = member_with_card(live_portal.idp)
    browser = signed_in_browser(live_portal.idp, email)
    page = browser.get(f"{live_portal.url}/auth/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    out = browser.post(f"{live_portal.url}/auth/logout", data={"csrf_token": token},
                       follow_redirects=False)
    assert out.status_code == 303
    location = out.headers["location"]
    assert location.startswith(f"{live_portal.idp.url}/oauth/logout?")
    assert "id_token_hint=" in location and "client_id=portal" in location
    with live_portal.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PortalSession)) == 0


def test_back_channel_logout_accepts_only_idps_logout_tokens(live_portal: LivePortal) -> None:
    email = member_with_card(live_portal.idp)
    browser = signed_in_browser(live_portal.idp, email)
    assert browser.get(f"{live_portal.url}/auth/login").status_code == 200
    with live_portal.app.app_context():
        row = db.session.scalars(select(PortalSession)).one()
        sid, sub = row.sid, row.sub
    endpoint = f"{live_portal.url}/auth/backchannel-logout"
    with live_portal.idp.app.app_context():
        ctx = idp_services()
        good = backchannel.logout_token(ctx, "portal", "RS256", sid, sub)
        other_aud = backchannel.logout_token(ctx, "voskhod", "RS256", sid, sub)
        key = ctx.tokens.signing_key("RS256")
        claims = {"iss": live_portal.idp.url, "aud": "portal", "iat": int(time.time()),
                  "jti": "j", "sid": sid, "events": {LOGOUT_EVENT: {}}}
        # idp's own signature on what is not a logout token: an ID token's type, a nonce,
        # no event, or one from long ago.
        id_token = jwt.encode({"alg": "RS256", "typ": "JWT", "kid": key.kid}, claims, key)
        with_nonce = jwt.encode({"alg": "RS256", "typ": "logout+jwt", "kid": key.kid},
                                claims | {"nonce": "n"}, key)
        no_event = jwt.encode({"alg": "RS256", "typ": "logout+jwt", "kid": key.kid},
                              claims | {"events": {}}, key)
        stale = jwt.encode({"alg": "RS256", "typ": "logout+jwt", "kid": key.kid},
                           claims | {"iat": int(time.time()) - 3600}, key)
    stranger_key = RSAKey.generate_key(2048, parameters={"kid": "x"})
    forged = jwt.encode({"alg": "RS256", "typ": "logout+jwt", "kid": "x"},
                        {"iss": live_portal.idp.url, "aud": "portal", "iat": int(time.time()),
                         "jti": "j", "sid": sid, "events": {LOGOUT_EVENT: {}}}, stranger_key)
    for bad in ({}, {"logout_token": ""}, {"logout_token": "x" * 9000},
                {"logout_token": "not.a.jwt"}, {"logout_token": other_aud},
                {"logout_token": forged}, {"logout_token": good + "x"},
                {"logout_token": id_token}, {"logout_token": with_nonce},
                {"logout_token": no_event}, {"logout_token": stale}):
        answer = httpx.post(endpoint, data=bad, timeout=20)
        assert answer.status_code == 400, bad
        assert answer.json()["error"] == "invalid_request"
    with live_portal.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PortalSession)) == 1
    assert httpx.post(endpoint, data={"logout_token": good}, timeout=20).status_code == 200
    with live_portal.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PortalSession)) == 0
    # Replayed: nothing left to end, still a clean answer.
    assert httpx.post(endpoint, data={"logout_token": good}, timeout=20).status_code == 200
