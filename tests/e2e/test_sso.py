"""Single sign-on with a locked or unlocked vault, in Chromium (issue #9): a reload or a click on
the logo keeps the member signed in but locked, and the password alone unlocks; the demo
cooperative signs the member in at once after the first consent; prompt=none answers per OpenID
Connect Core; logging out reaches a client by back-channel logout."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from playwright.sync_api import Page, expect
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from cardcoop import CardSession, IdpClient
from common.db import db
from examples.coop_site import create_app as create_coop_site
from idp.models import AuthSession
from idp.oauth import backchannel, clients
from idp.services import services
from tests.conftest import random_email
from tests.e2e.conftest import LiveIdp, Steps, guide_shot, probe
from tests.idp.oauth_flow import Coop, receive_backchannel_logouts
from tests.live import free_port, serving

pytestmark = pytest.mark.e2e

PASSWORD = "один вход на все кооперативы"
CARD = {"person_type": "individual", "last_name": "Кузнецов", "first_name": "Пётр",
        "birthdate": "1979-02-03", "email": "petr@example.ru"}
SIGN_IN = "openid email cardcoop:card"


def member_with_card(live: LiveIdp) -> str:
    email = random_email("sso")
    with IdpClient(live.url) as client:
        CardSession(client.register(email, PASSWORD, live.code_for)).issue_card(CARD)
    return email


def log_in(page: Page, live: LiveIdp, email: str) -> None:
    page.goto(f"{live.url}/#/login")
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page.locator("#app h1")).to_have_text("Моя карта")


def unlock(page: Page) -> None:
    expect(page.locator("#app h1")).to_have_text("Карта заблокирована")
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Открыть карту").click()


@pytest.fixture
def coop(live_idp: LiveIdp, httpserver: HTTPServer) -> Iterator[dict[str, Any]]:
    """The demo cooperative, registered with a back-channel logout endpoint (a local HTTP
    server that keeps what it receives)."""
    port = free_port()
    url = f"http://localhost:{port}"
    with live_idp.app.app_context():
        issued = clients.create("voskhod", [f"{url}/callback"], [url],
                                post_logout_redirect_uris=[f"{url}/"])
    received = receive_backchannel_logouts(live_idp.app, Coop("voskhod", issued.secret),
                                           httpserver)
    with live_idp.app.app_context():
        private_key = services().registry.private_key("voskhod").to_string()
    site = create_coop_site({"idp_url": live_idp.url, "client_id": "voskhod",
                             "client_secret": issued.secret, "redirect_uri": f"{url}/callback",
                             "site_url": url, "private_key": private_key})
    with serving(site, port):
        yield {"url": url, "received": received}


def test_reload_and_logo_keep_the_member_signed_in_but_locked(page: Page, live_idp: LiveIdp,
                                                              step: Steps) -> None:
    email = member_with_card(live_idp)
    with step("log in once"):
        log_in(page, live_idp, email)
        cookies = {c["name"]: c for c in page.context.cookies()}
        assert cookies["cardcoop_session"]["httpOnly"] is True
        assert cookies["cardcoop_session"]["sameSite"] == "Lax"
        assert page.evaluate("document.cookie") == ""  # HttpOnly: out of the page's reach
    with step("a reload keeps the session, without the keys"):
        page.reload()
        expect(page.locator("#app h1")).to_have_text("Карта заблокирована")
        expect(page.locator("#app")).to_contain_text(email)
        expect(page.get_by_label("Электронная почта")).to_have_count(0)  # the email is known
        report = probe(page)
        assert report["loggedIn"] is True and report["unlocked"] is False
        assert report["encKey"] is None and report["hasCardData"] is False
        guide_shot(page, "locked")
    with step("the password alone unlocks the card"):
        unlock(page)
        expect(page.locator("#app h1")).to_have_text("Моя карта")
        expect(page.locator("#app")).to_contain_text("Кузнецов")
        assert probe(page)["encKey"]["extractable"] is False
    with step("the logo (the site's root) is a reload too: still signed in, locked"):
        logo = page.locator("a.brand")
        if logo.count():
            logo.first.click()
        else:
            page.goto(f"{live_idp.url}/")
        unlock(page)
        expect(page.locator("#app h1")).to_have_text("Моя карта")
    with step("a wrong password is refused in words"):
        page.reload()
        page.get_by_label("Пароль", exact=True).fill("не тот пароль")
        page.get_by_role("button", name="Открыть карту").click()
        expect(page.get_by_text("Пароль неверный.")).to_be_visible()
    with step("one browser, one session: reloads opened no new ones"), \
            live_idp.app.app_context():
        # the SDK's registration above is one, this browser's login the other
        assert db.session.scalar(select(func.count()).select_from(AuthSession)) == 2
    with step("logging out ends it: a reload shows the login screen"):
        page.locator("#locked-logout").click()
        page.get_by_role("heading", name="Вход").wait_for()
        page.reload()
        page.get_by_role("heading", name="Вход").wait_for()
        assert "cardcoop_session" not in {c["name"] for c in page.context.cookies()}


def test_the_cooperative_signs_in_at_once_after_the_first_consent(
        page: Page, live_idp: LiveIdp, coop: dict[str, Any], step: Steps) -> None:
    email = member_with_card(live_idp)
    # The demo's own "sign in with the member card" button (sign-in scopes only).
    start = f"{coop['url']}/"
    with step("signed in at idp, the first sign-in asks only for consent, not the password"):
        log_in(page, live_idp, email)
        page.reload()  # locked: signing in to a cooperative needs no keys
        page.goto(start)
        page.locator("#redirect-login").click()
        expect(page.locator(".consent-coop")).to_have_text("ПК ВОСХОД")
        expect(page.get_by_label("Пароль", exact=True)).to_have_count(0)
        page.locator("#consent-share").click()
        expect(page).to_have_url(re.compile(re.escape(coop["url"]) + "/callback"))
        expect(page.locator('#id-claims [data-claim="email"]')).to_have_text(email)
    with step("the second time no idp page at all: straight back with a ticket"):
        seen: list[str] = []
        page.on("framenavigated", lambda frame: seen.append(frame.url))
        page.goto(start)
        page.locator("#redirect-login").click()
        expect(page.locator('#id-claims [data-claim="email"]')).to_have_text(email)
        authorize_hits = [u for u in seen if "/oauth/authorize" in u]
        assert authorize_hits == [], "the authorization endpoint answered with a page"
    with step("logging out at idp tells the cooperative by back-channel"):
        page.goto(f"{live_idp.url}/")
        page.locator("#locked-logout").click()
        page.get_by_role("heading", name="Вход").wait_for()
        backchannel.drain()
        deadline = time.time() + 10
        while not coop["received"] and time.time() < deadline:
            time.sleep(0.1)
        assert len(coop["received"]) == 1
        keys = KeySet.import_key_set(page.request.get(f"{live_idp.url}/.well-known/jwks.json")
                                     .json())
        token = jwt.decode(coop["received"][0], keys)
        assert token.header["typ"] == "logout+jwt"
        assert token.claims["aud"] == "voskhod" and token.claims["sid"]
    with step("and the cooperative's next sign-in shows the login page again"):
        page.goto(start)
        page.locator("#redirect-login").click()
        expect(page.get_by_label("Электронная почта")).to_be_visible()


def _prompt_none(page: Page, live: LiveIdp, coop_url: str) -> dict[str, list[str]]:
    """A prompt=none request the browser follows; the answer is read from where it lands."""
    params = {"response_type": "code", "client_id": "voskhod", "scope": SIGN_IN,
              "redirect_uri": f"{coop_url}/callback", "state": secrets.token_urlsafe(8),
              "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
              "code_challenge_method": "S256", "prompt": "none"}
    with page.expect_response(lambda r: "/oauth/authorize" in r.url) as answered:
        page.goto(f"{live.url}/oauth/authorize?{urlencode(params)}")
    response = answered.value
    assert response.status == 302, "prompt=none must never show a page"
    location = response.headers["location"]
    assert location.startswith(f"{coop_url}/callback")
    return parse_qs(urlsplit(location).query)


def test_prompt_none_per_openid_connect_core(page: Page, live_idp: LiveIdp,
                                             coop: dict[str, Any]) -> None:
    email = member_with_card(live_idp)
    assert _prompt_none(page, live_idp, coop["url"])["error"] == ["login_required"]
    log_in(page, live_idp, email)
    assert _prompt_none(page, live_idp, coop["url"])["error"] == ["consent_required"]
    page.goto(f"{coop['url']}/start?method=redirect&scope={SIGN_IN.replace(' ', '+')}")
    page.locator("#consent-share").click()
    expect(page).to_have_url(re.compile(re.escape(coop["url"]) + "/callback"))
    answer = _prompt_none(page, live_idp, coop["url"])
    assert "code" in answer and "error" not in answer


def test_sessions_list_names_browsers_and_signs_out_everywhere_else(
        page: Page, live_idp: LiveIdp, step: Steps) -> None:
    email = member_with_card(live_idp)  # the SDK's session: "cardcoop SDK"-like, unnamed
    other = page.context.browser.new_context(locale="ru-RU")  # type: ignore[union-attr]
    try:
        phone = other.new_page()
        with step("two browsers signed in"):
            log_in(phone, live_idp, email)
            log_in(page, live_idp, email)
        with step("the sessions list names each browser, not its user-agent string"):
            page.get_by_role("navigation").get_by_role("link", name="Безопасность").click()
            sessions = page.locator("#sessions li.session")
            expect(sessions).to_have_count(3)
            names = [n.strip() for n in sessions.locator("h3").all_inner_texts()]
            assert sum(bool(re.fullmatch(r"(Headless)?Chrome \d+ · Linux", n)) for n in names) == 2
            expect(page.locator("#sessions")).not_to_contain_text("Mozilla/5.0")
            guide_shot(page, "sessions", only=page.locator("#sessions"))
        with step("sign out everywhere else"):
            page.locator("#revoke-others").click()
            expect(sessions).to_have_count(1)
            expect(page.locator("#revoke-others")).to_be_hidden()
            phone.reload()
            phone.get_by_role("heading", name="Вход").wait_for()
    finally:
        other.close()
