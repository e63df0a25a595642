"""Sharing with a cooperative across two sites, in Chromium (issue #4): the demo cooperative
«ПК ВОСХОД» (examples/coop_site) on http://localhost:<port>, idp on http://127.0.0.1:<port> — two
sites, so the iframe is a third-party frame. Both methods end with the cooperative showing the
member's data, decrypted with its own key; joining creates the account on the card; revoking
stops the cooperative's token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import Flask
from playwright.sync_api import Browser, Frame, Page, Playwright, expect

from cardcoop import CardSession, IdpClient
from examples.coop_site import create_app as create_coop_site
from idp.oauth import clients
from idp.services import services
from tests.conftest import random_email
from tests.e2e.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveIdp,
    Steps,
    assert_no_leaks,
    guide_shot,
)
from tests.leaks import LogRecorder
from tests.live import free_port, serving

pytestmark = pytest.mark.e2e

PASSWORD = "делимся только нужным 2026"
CARD = {"person_type": "individual", "last_name": "Смирнова", "first_name": "Ольга",
        "middle_name": "Петровна", "birthdate": "1988-04-12", "email": "olga@example.ru",
        "phone": "+7 (495) 111-22-33",
        "full_address": "109012, г. Москва, ул. Ильинка, 4",
        "passport": {"series": "4512", "number": "654321", "issued_by": "ОВД Басманный",
                     "issued_at": "2008-05-20", "code": "770-001"}}
COOKIE_PROBE = ("() => { document.cookie = 'probe=1; SameSite=None; Secure; path=/'; "
                "return document.cookie; }")
JOIN = "openid share account"
SHARE = "openid email cardcoop:card cardcoop:memberships share"


@dataclass
class CoopSite:
    url: str
    secret: str


@pytest.fixture
def coop_site(live_idp: LiveIdp) -> Iterator[CoopSite]:
    port = free_port()
    url = f"http://localhost:{port}"  # another site than idp's 127.0.0.1
    with live_idp.app.app_context():
        issued = clients.create("voskhod", [f"{url}/callback"], [url],
                                post_logout_redirect_uris=[f"{url}/"])
        private_key = services().registry.private_key("voskhod").to_string()
    site = create_coop_site({"idp_url": live_idp.url, "client_id": "voskhod",
                             "client_secret": issued.secret, "redirect_uri": f"{url}/callback",
                             "site_url": url, "private_key": private_key})
    with serving(site, port):
        yield CoopSite(url, issued.secret)


@pytest.fixture(scope="module")
def strict_browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Chromium with third-party cookies blocked, as browsers increasingly ship (Debian's
    Chromium 156 headless blocks them already; the flag keeps it so in other builds)."""
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"])
    yield browser
    browser.close()


def member_with_card(live: LiveIdp, *, join: str | None = None) -> tuple[str, str | None]:
    """A member (made by the SDK: the browser part is what this file tests) with a card, and
    optionally already an account in ``join``."""
    email = random_email("share")
    with IdpClient(live.url) as client:
        cards = CardSession(client.register(email, PASSWORD, live.code_for))
        cards.issue_card(CARD)
        username = cards.add_account(join).username if join else None
    return email, username


def log_in(where: Page | Frame, email: str) -> None:
    where.get_by_label("Электронная почта").fill(email)
    where.get_by_label("Пароль", exact=True).fill(PASSWORD)
    where.get_by_role("button", name="Войти").click()


def choose_fields(where: Page | Frame, fields: list[str]) -> None:
    boxes = where.locator('input[name="share-field"]')
    expect(boxes.first).to_be_visible()
    for box in boxes.all():
        if box.get_attribute("value") in fields:
            box.check()
        else:
            box.uncheck()


def shared_rows(page: Page) -> dict[str, str]:
    rows = page.locator("#shared-data tr[data-field]")
    return {row.get_attribute("data-field") or "": row.locator("td.value").inner_text()
            for row in rows.all()}


def test_redirect_method_share_then_revoke(page: Page, live_idp: LiveIdp, coop_site: CoopSite,
                                           step: Steps, server_logs: LogRecorder) -> None:
    email, username = member_with_card(live_idp, join="voskhod")
    with step("the cooperative sends the member to id.card.coop"):
        page.goto(f"{coop_site.url}/start?method=redirect&scope={SHARE.replace(' ', '+')}")
        expect(page).to_have_url(re.compile(re.escape(live_idp.url) + r"/oauth/authorize\?"))
        log_in(page, email)
    with step("the consent page names the cooperative and lets the member choose"):
        expect(page.locator(".consent-coop")).to_have_text("ПК ВОСХОД")
        choose_fields(page, ["last_name", "first_name", "birthdate"])
        guide_shot(page, "consent")
        page.locator("#consent-share").click()
    with step("back on the cooperative's site, the data is decrypted with its key"):
        expect(page).to_have_url(re.compile(re.escape(coop_site.url) + "/callback"))
        expect(page.locator("#shared-data")).to_be_visible()
        assert shared_rows(page) == {"last_name": "Смирнова", "first_name": "Ольга",
                                     "birthdate": "1988-04-12"}
        expect(page.locator("#member-username")).to_have_text(username or "")
        claims = page.locator("#id-claims")
        expect(claims.locator('[data-claim="email"]')).to_have_text(email)
        expect(claims.locator('[data-claim="card_number"]')).to_have_text(re.compile(r"^\d{16}$"))
        expect(claims.locator('tr[data-coopname="voskhod"]')).to_contain_text("active")
        page.locator("#reread").click()
        assert shared_rows(page)["last_name"] == "Смирнова"  # the token reads again
    with step("the member revokes the access on id.card.coop"):
        idp = page.context.new_page()
        idp.goto(f"{live_idp.url}/#/access")
        # The same browser is still signed in (its idp session): locked, the password alone.
        idp.get_by_label("Пароль", exact=True).fill(PASSWORD)
        idp.get_by_role("button", name="Открыть карту").click()
        grant = idp.locator('li.grant[data-coop="voskhod"]')
        expect(grant).to_contain_text("ПК ВОСХОД")
        guide_shot(idp, "access")
        grant.locator("button.revoke-grant").click()
        grant.locator("button.revoke-confirm").click()
        expect(idp.locator('li.grant[data-coop="voskhod"]')).to_have_count(0)
    with step("the cooperative's token stops working at once"):
        page.locator("#reread").click()  # the result page is still open in the first tab
        expect(page.locator("#error-code")).to_have_text("invalid_token")
    with step("nothing personal reached idp's database or logs"):
        assert_no_leaks(live_idp, server_logs,
                        [PASSWORD, "Смирнова", "Ольга", "Петровна", "1988-04-12", "111-22-33"])


def test_refusal_goes_back_as_access_denied(page: Page, live_idp: LiveIdp,
                                            coop_site: CoopSite) -> None:
    email, _ = member_with_card(live_idp, join="voskhod")
    page.goto(f"{coop_site.url}/start?method=redirect&scope={SHARE.replace(' ', '+')}")
    log_in(page, email)
    page.locator("#consent-deny").click()
    expect(page.locator("#error-code")).to_have_text("access_denied")
    assert page.url.startswith(coop_site.url)


def test_iframe_method_joins_with_third_party_cookies_blocked(
        strict_browser: Browser, live_idp: LiveIdp, coop_site: CoopSite, step: Steps) -> None:
    email, _ = member_with_card(live_idp)  # no account in the cooperative yet
    context = strict_browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        with step("the cooperative's page frames id.card.coop, a third-party frame"):
            page.goto(f"{coop_site.url}/iframe?scope={JOIN.replace(' ', '+')}")
            page.locator("iframe.cardcoop-frame").wait_for()
            frame = page.frame_locator("iframe.cardcoop-frame")
            frame.get_by_label("Электронная почта").wait_for()
            idp_frame = next(f for f in page.frames if f.url.startswith(live_idp.url))
            # The proof that cookies are really out of reach in there: the same cookie that
            # sticks on the top-level page does not in the frame.
            assert page.evaluate(COOKIE_PROBE) == "probe=1"
            assert idp_frame.evaluate(COOKIE_PROBE) == ""
            log_in(idp_frame, email)
        with step("the member joins: the page makes the account and shares the fields"):
            expect(idp_frame.locator(".consent-coop")).to_have_text("ПК ВОСХОД")
            expect(idp_frame.locator(".consent-account-new")).to_be_visible()
            choose_fields(idp_frame, ["last_name", "first_name"])
            idp_frame.locator("#consent-share").click()
        with step("the ticket comes back by postMessage; the cooperative decrypts"):
            expect(page).to_have_url(re.compile(re.escape(coop_site.url) + "/iframe/complete"))
            assert shared_rows(page) == {"last_name": "Смирнова", "first_name": "Ольга"}
            username = page.locator("#member-username").inner_text()
            assert re.fullmatch(r"[a-z1-5]{12}", username)
        with step("the new account is on the member's card"), IdpClient(live_idp.url) as sdk:
            session = sdk.login(email, PASSWORD)
            accounts = sdk.accounts(session.access_token)
            assert [(a.coopname, a.username) for a in accounts] == [("voskhod", username)]
    finally:
        context.close()


def test_a_foreign_page_cannot_frame_idp_or_fake_the_answer(
        page: Page, live_idp: LiveIdp, coop_site: CoopSite) -> None:
    """The consent page may be framed by the registered origin only, and widget.js ignores
    messages that are not from its own idp frame."""
    with step_page(page, coop_site):
        # A forged answer posted into the cooperative's page by another window is ignored.
        page.evaluate("""() => window.postMessage(
            {type: 'cardcoop:ticket', ticket: 'forged', state: document.querySelector(
             '#cardcoop-frame').dataset.state}, '*')""")
        page.wait_for_timeout(500)
        assert "/iframe/complete" not in page.url
    # Another origin frames a valid consent request that claims the cooperative's origin.
    evil = Flask("evil")
    authorize = page.locator("iframe.cardcoop-frame").get_attribute("src")

    @evil.get("/")
    def framing() -> str:
        return f'<!doctype html><title>evil</title><iframe src="{authorize}"></iframe>'

    port = free_port()
    with serving(evil, port):
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_timeout(1500)
    refused = [e for e in page.csp_errors if "frame-ancestors" in e]  # type: ignore[attr-defined]
    assert refused, "Chromium did not report the frame-ancestors refusal"
    assert not any(f.url.startswith(live_idp.url) and f.locator("#app h1").count()
                   for f in page.frames)


@contextmanager
def step_page(page: Page, coop_site: CoopSite) -> Iterator[None]:
    page.goto(f"{coop_site.url}/iframe?scope=openid+share")
    page.locator("iframe.cardcoop-frame").wait_for()
    yield
