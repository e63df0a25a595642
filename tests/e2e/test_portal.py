"""The portal in Chromium (issue #12), at phone and desktop widths: signed in at idp → the
dashboard without a password; joining the demo cooperative from the dashboard (idp's join
flow); the card through idp's frame; a deposit in the demo cooperative raises the balance;
"go to the cooperative" lands signed in; a grant and a device revoked; a meeting reminder in
the dev mailbox; the notification centre filtered; afterwards the portal's tables and the
logs hold no personal value of the member."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from cardcoop import CardSession, IdpClient
from common.db import db
from examples.coop_site import create_app as create_coop_site
from idp.oauth import clients
from idp.services import services as idp_services
from portal import reminders
from portal.cli import build_channels
from portal.models import Outbox
from portal.services import services as portal_services
from tests.conftest import random_email
from tests.e2e.conftest import LiveIdp, Steps, guide_shot
from tests.e2e.test_accessibility import axe_violations, describe
from tests.idp.conftest import mails_to
from tests.leaks import LogRecorder, find_leaks
from tests.live import free_port, serving

pytestmark = pytest.mark.e2e

PASSWORD = "кабинет пайщика в браузере"
CARD = {"person_type": "individual", "last_name": "Воробьёва", "first_name": "Ольга",
        "middle_name": "Игоревна", "birthdate": "1990-08-21", "phone": "+79161234567",
        "email": "olga.vorobyova@example.ru"}
PHONE = {"width": 390, "height": 844}


@dataclass
class Stack:
    idp: LiveIdp
    portal: Flask
    portal_url: str
    coop_url: str


@pytest.fixture
def stack(live_idp: LiveIdp, make_portal: Any, base_settings: dict[str, Any]
          ) -> Iterator[Stack]:
    """idp, the portal and the demo cooperative, as `make run` starts them: one sandbox
    registry and one sandbox ledger, shared through the instance folder."""
    portal_port, coop_port = free_port(), free_port()
    portal_url, coop_url = f"http://127.0.0.1:{portal_port}", f"http://127.0.0.1:{coop_port}"
    with live_idp.app.app_context():
        secret = clients.create_first_party(
            "portal", [f"{portal_url}/auth/callback"], [portal_url], [f"{portal_url}/"],
            f"{portal_url}/auth/backchannel-logout").secret
        coop = clients.create("voskhod", [f"{coop_url}/callback"], [coop_url],
                              post_logout_redirect_uris=[f"{coop_url}/"],
                              client_uri=f"{coop_url}/", initiate_login_uri=f"{coop_url}/login",
                              join_uri=f"{coop_url}/join")
        private_key = idp_services().registry.private_key("voskhod").to_string()
    ledger_file = base_settings["instance_path"] / "voskhod-ledger.json"
    ledger_file.unlink(missing_ok=True)
    portal = make_portal(idp_url=live_idp.url, portal_url=portal_url,
                         portal_client_secret=secret)  # the default reminder window
    site = create_coop_site({"idp_url": live_idp.url, "client_id": "voskhod",
                             "client_secret": coop.secret, "redirect_uri": f"{coop_url}/callback",
                             "site_url": coop_url, "private_key": private_key,
                             "ledger_file": str(ledger_file)})
    with serving(portal, portal_port), serving(site, coop_port):
        yield Stack(live_idp, portal, portal_url, coop_url)


def member(live: LiveIdp) -> str:
    """A member with a card and no account in any cooperative yet."""
    email = random_email("portal-e2e")
    with IdpClient(live.url) as client:
        CardSession(client.register(email, PASSWORD, live.code_for)).issue_card(CARD)
    return email


def log_in_at_idp(page: Page, live: LiveIdp, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{live.url}/#/login")
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Пароль", exact=True).fill(password)
    page.get_by_role("button", name="Войти").click()
    expect(page.locator("#app h1")).to_have_text("Моя карта")


def deliver_portal(stack: Stack) -> None:
    from common.outbox import deliver_claimed

    with stack.portal.app_context():
        deliver_claimed(db.session, Outbox, build_channels(), max_attempts=3)


def test_the_member_uses_the_portal(page: Page, browser: Browser, stack: Stack,
                                    step: Steps, server_logs: LogRecorder) -> None:
    email = member(stack.idp)
    portal = stack.portal_url
    with step("signed in at idp, the portal opens without a password"):
        log_in_at_idp(page, stack.idp, email)
        page.goto(f"{portal}/")
        page.get_by_role("link", name="Войти с картой пайщика").click()
        expect(page).to_have_url(f"{portal}/")
        expect(page.locator("h1")).to_have_text("Моя карта пайщика")
        expect(page.locator(".coop")).to_have_count(0)
    with step("the member joins the demo cooperative from the dashboard (idp's join flow)"):
        page.locator('.join[data-coopname="voskhod"]').get_by_role("link").click()
        # The new account's keys are made here and sealed with the card key: the card opens
        # with the password first (the idp session alone does not hold the keys).
        page.get_by_label("Пароль", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Открыть карту").click()
        expect(page.locator(".consent-coop")).to_have_text("ПК ВОСХОД")
        expect(page.locator(".consent-account-new")).to_be_visible()
        page.locator("#consent-share").click()
        username = page.locator("#member-username").inner_text()
        assert re.fullmatch(r"[a-z1-5]{12}", username)
        page.get_by_role("link", name=re.compile("Вернуться в кабинет")).click()
        expect(page.locator('.coop[data-coopname="voskhod"] h3')).to_have_text("ПК ВОСХОД")
        expect(page.locator(f'.account[data-username="{username}"]')).to_be_visible()
        expect(page.locator(".join")).to_have_count(0)
        expect(page.locator('.coop [data-wallet="w.reg.minshr"] dd')).to_have_text("300,00 ₽")
    with step("the card is shown by idp's frame, unlocked there"):
        frame = page.frame_locator("#card-frame")
        frame.get_by_label("Пароль", exact=True).fill(PASSWORD)
        frame.get_by_role("button", name="Открыть карту").click()
        expect(frame.get_by_text("Воробьёва")).to_be_visible()
        # The portal's own page holds none of it: it is in idp's document only.
        assert "Воробьёва" not in page.content()
        guide_shot(page, "portal-dashboard")
    with step("a contribution through the demo cooperative raises the balance"):
        page.get_by_role("link", name="Взносы").click()
        expect(page.locator(".coop-dues h2")).to_have_text("ПК ВОСХОД")
        page.get_by_label("Паевой взнос, рублей").fill("1500")
        page.get_by_role("button", name="Внести взнос").click()
        # The cooperative's sign-in through idp: the first time the member consents.
        page.locator("#consent-share").click()
        expect(page.get_by_role("heading", name=re.compile("Паевой взнос"))).to_be_visible()
        page.get_by_role("button", name=re.compile("Внести взнос")).click()
        expect(page.locator("#balance")).to_have_text("1500.00 ₽")
        page.get_by_role("link", name=re.compile("Вернуться в кабинет")).click()
        expect(page.locator('[data-wallet="w.wal.share"] dd')).to_have_text("1 500,00 ₽")
        expect(page.locator(".settled-deposit")).to_have_count(1)
        expect(page.locator(".settled-deposit")).to_contain_text("1 500,00 ₽")
    with step("going to the cooperative lands signed in (single sign-on, no page of idp)"):
        page.get_by_role("link", name="Моя карта").click()
        page.get_by_role("link", name="Перейти в кооператив").click()
        expect(page).to_have_url(f"{stack.coop_url}/")
        expect(page.locator("#signed-in")).to_contain_text("Вы вошли с картой пайщика")
    with step("the cooperative's access is revoked from the portal"):
        page.goto(f"{portal}/security")
        expect(page.locator(".grant strong")).to_have_text("ПК ВОСХОД")
        page.locator(".grant button").click()
        expect(page.get_by_role("status")).to_contain_text("Доступ отозван")
        expect(page.locator(".grant")).to_have_count(0)
    with step("another device is signed out from the portal"):
        other = browser.new_context()
        try:
            log_in_at_idp(other.new_page(), stack.idp, email)
            page.reload()
            expect(page.locator(".device")).to_have_count(3)  # SDK, this browser, the other
            page.locator(".device").filter(has_not_text="это устройство").first.locator(
                "button").click()
            expect(page.locator(".device")).to_have_count(2)
        finally:
            other.close()
    with step("a meeting reminder arrives in the dev mailbox"):
        with stack.portal.app_context():
            reminders.run_once(portal_services())
        deliver_portal(stack)
        mails = [m for m in mails_to(stack.idp.app, email) if "собрание" in m.subject]
        assert len(mails) == 1 and "ПК ВОСХОД" in mails[0].body
    with step("the notification centre filters"):
        page.get_by_role("link", name="Уведомления").click()
        expect(page.locator('.notice[data-kind="meeting_reminder"]')).to_have_count(1)
        page.get_by_label("Вид").select_option("contribution_due")
        page.get_by_role("button", name="Показать").click()
        expect(page.locator('.notice[data-kind="meeting_reminder"]')).to_have_count(0)
        page.get_by_label("Вид").select_option("")
        page.get_by_role("button", name="Показать").click()
        page.get_by_role("button", name="Отметить все прочитанными").click()
        expect(page.locator(".notice.unread")).to_have_count(0)
    with step("at 390 px and at desktop width: no overflow, no axe-core violation"):
        pages = ("/", "/contributions", "/meetings", "/meetings?view=month", "/notifications",
                 "/settings", "/security")
        # bypass_csp: the pages forbid inline scripts, and axe arrives as one. The same
        # signed-in browser state, in a context of its own.
        audit = browser.new_context(bypass_csp=True, storage_state=page.context.storage_state())
        try:
            checker = audit.new_page()
            for size in (PHONE, {"width": 1280, "height": 900}):
                checker.set_viewport_size(size)
                for path in pages:
                    checker.goto(f"{portal}{path}")
                    width = checker.evaluate("document.documentElement.scrollWidth")
                    assert width <= size["width"], (path, width)
                    violations = axe_violations(checker)
                    assert violations == [], (path, describe(violations))
        finally:
            audit.close()
        page.set_viewport_size(PHONE)
        page.goto(f"{portal}/notifications")
        guide_shot(page, "portal-notifications-phone")
        page.goto(f"{portal}/contributions")
        guide_shot(page, "portal-contributions-phone")
        page.goto(f"{portal}/meetings?lang=en")
        expect(page.locator("h1")).to_have_text("General meetings")
        page.goto(f"{portal}/?lang=ru")
    with step("nothing personal in the portal's tables or in any log line"):
        secrets = [CARD["last_name"], CARD["first_name"], CARD["middle_name"], CARD["phone"],
                   CARD["email"], CARD["birthdate"], email, PASSWORD]
        assert find_leaks(portal_tables(stack.portal), secrets) == []
        # idp knows the member's email (its logs may name the test's mailbox queries); the
        # card's values appear in no log line at all, and the portal's lines hold nothing.
        assert find_leaks(server_logs.text, [s for s in secrets if s != email]) == []
        portal_lines = [line for line in server_logs.lines if " cardcoop.portal" in line]
        assert portal_lines, "no portal log line was recorded: the scan would prove nothing"
        assert find_leaks("\n".join(portal_lines), secrets) == []


def portal_tables(app: Flask) -> str:
    """Every row of every portal_* table, as text."""
    dump = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name.startswith("portal_"):
                dump += [repr(tuple(row)) for row in db.session.execute(select(table))]
    assert dump, "the portal's tables are empty: the scan would prove nothing"
    return "\n".join(dump)


