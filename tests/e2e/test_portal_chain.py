"""The portal in Chromium on the ВОСХОД chain as nodeos answers (issue #12; the chain stub of
tests/common/voskhod/chainstub.py, the rows as the coopenomics/mono contracts keep them):
accounts, memberships and balances from ``ledger2::userwallets`` (and, on a chain without
ledger2, from ``soviet::progwallets``); a cooperative that has not accepted the member shows
neither its name nor a balance; settled deposits from the chain's history node; the iCalendar
feed parses and lists the chain's meeting; a setting changed in the page decides the delivery;
browser push turned on in the page reaches the local push endpoint, decrypts there, and the
service worker shows it."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import http_ece
import httpx
import icalendar
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Page, expect
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from portal import reminders
from portal.services import services
from tests.e2e.conftest import Steps
from tests.e2e.test_portal import log_in_at_idp
from tests.idp.conftest import mails_to
from tests.portal.conftest import PASSWORD, ChainSetup, member_with_accounts
from tests.portal.conftest import chain as chain  # the fixtures, for this module
from tests.portal.conftest import chain_portal as chain_portal
from tests.portal.conftest import history as history
from tests.portal.test_meetings import chain_time
from tests.portal.test_notifications import deliver

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}

# Headless Chromium reaches no real push service, so the browser's push service is the
# test's: PushManager.subscribe answers with a subscription to the local endpoint, with a real
# P-256 key pair and auth secret made here by WebCrypto (RFC 8291), whose private half the test
# reads to decrypt what arrives as the browser would. Everything else (the page's push.js, the
# permission, the service worker's registration, the portal's delivery) is the real one.
LOCAL_PUSH_SERVICE = """
(() => {
  const b64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  PushManager.prototype.subscribe = async function subscribe() {
    const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true,
      ['deriveBits']);
    const auth = crypto.getRandomValues(new Uint8Array(16));
    const json = { endpoint: ENDPOINT, expirationTime: null, keys: {
      p256dh: b64(await crypto.subtle.exportKey('raw', pair.publicKey)), auth: b64(auth) } };
    const jwk = await crypto.subtle.exportKey('jwk', pair.privateKey);
    const keys = { d: jwk.d, auth: json.keys.auth };
    window.localStorage.setItem('test-push-keys', JSON.stringify(keys));
    return { endpoint: ENDPOINT, toJSON: () => json, unsubscribe: async () => true };
  };
})();
"""


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LocalPushEndpoint:
    def __init__(self, server: HTTPServer) -> None:
        self.received: list[bytes] = []
        server.expect_request("/push/e2e", method="POST").respond_with_handler(self._keep)
        self.url = server.url_for("/push/e2e")

    def _keep(self, request: Request) -> Response:
        assert request.headers["Content-Encoding"] == "aes128gcm"
        assert request.headers["Authorization"].startswith("vapid t=")
        self.received.append(request.get_data())
        return Response(status=201)

    def decrypt(self, body: bytes, keys: dict[str, str]) -> dict[str, Any]:
        private = ec.derive_private_key(int.from_bytes(unb64(keys["d"]), "big"), ec.SECP256R1())
        plain = http_ece.decrypt(body, private_key=private, auth_secret=unb64(keys["auth"]),
                                 version="aes128gcm")
        return dict(json.loads(plain))


def sign_in_to_portal(page: Page, setup: ChainSetup, email: str) -> None:
    log_in_at_idp(page, setup.portal.idp, email, PASSWORD)
    page.goto(f"{setup.portal.url}/")
    page.get_by_role("link", name="Войти с картой пайщика").click()
    expect(page.locator("h1")).to_have_text("Моя карта пайщика")


def add_meeting(setup: ChainSetup, meet_id: int, in_days: float) -> None:
    opens = datetime.now(UTC).replace(microsecond=0) + timedelta(days=in_days)
    setup.chain.add_meeting("voskhod", meet_id, open_at=chain_time(opens),
                            close_at=chain_time(opens + timedelta(days=7)), questions=2)


def remind_and_deliver(setup: ChainSetup) -> None:
    with setup.portal.app.app_context():
        reminders.run_once(services())
    deliver(setup.portal.app)


def meeting_mails(setup: ChainSetup, email: str) -> list[Any]:
    return [m for m in mails_to(setup.portal.idp.app, email) if "собрание" in m.subject]


def set_channels(page: Page, portal: str, *, email: bool, push: bool) -> None:
    page.goto(f"{portal}/settings")
    page.locator('input[name="meeting_reminder.email"]').set_checked(email)
    page.locator('input[name="meeting_reminder.push"]').set_checked(push)
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("status").first).to_contain_text("Сохранено")


def test_the_portal_on_the_chain(page: Page, chain_portal: ChainSetup, httpserver: HTTPServer,
                                 step: Steps) -> None:
    setup, chain, portal = chain_portal, chain_portal.chain, chain_portal.portal.url
    email, usernames = member_with_accounts(setup.portal.idp, "voskhod", "zelenyisad")
    chain.add_participant("voskhod", usernames["voskhod"], created_at="2025-03-04T10:00:00")
    chain.add_wallet("voskhod", usernames["voskhod"], "w.reg.minshr", "300.0000 RUB")
    chain.add_wallet("voskhod", usernames["voskhod"], "w.wal.share", "1500.0000 RUB")
    # The other cooperative keeps a wallet for the account, but has not accepted it.
    chain.add_wallet("zelenyisad", usernames["zelenyisad"], "w.wal.share", "777.0000 RUB")
    setup.history.add_settled_deposit("voskhod", usernames["voskhod"], "1500.0000 RUB",
                                      "2026-11-20T08:15:00.000")
    add_meeting(setup, 7, in_days=1)
    with step("signed in at idp → the dashboard from ledger2, at phone and desktop widths"):
        sign_in_to_portal(page, setup, email)
        for size in (PHONE, {"width": 1280, "height": 900}):
            page.set_viewport_size(size)
            voskhod = page.locator('.coop[data-coopname="voskhod"]')
            expect(voskhod.locator("h3")).to_have_text("ПК ВОСХОД")
            expect(voskhod.locator('[data-wallet="w.wal.share"] dd')).to_have_text("1 500,00 ₽")
            expect(voskhod.locator('[data-wallet="w.reg.minshr"] dd')).to_have_text("300,00 ₽")
            expect(voskhod).to_contain_text("4 марта 2025")
            other = page.locator(f'.account[data-username="{usernames["zelenyisad"]}"]')
            expect(other).to_contain_text("членство ещё не подтверждено")
            expect(page.locator('.coop[data-coopname="zelenyisad"]')).to_have_count(0)
            text = page.locator("main").inner_text()
            assert "Зелёный сад" not in text and "777" not in text
            assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    with step("contributions: in flight from the chain, settled from its history node"):
        page.get_by_role("link", name="Взносы").click()
        expect(page.locator(".settled-deposit")).to_have_count(1)
        expect(page.locator(".settled-deposit")).to_contain_text("1 500,00 ₽")
    with step("the calendar feed parses and lists the chain's meeting"):
        page.get_by_role("link", name="Собрания").click()
        expect(page.locator(".meeting")).to_have_count(1)
        page.get_by_role("button", name="Получить адрес календаря").click()
        feed = page.locator(".feed-url").inner_text()
        calendar = icalendar.Calendar.from_ical(httpx.get(feed, timeout=10).content)
        events = list(calendar.walk("VEVENT"))
        assert len(events) == 1 and "ПК ВОСХОД" in str(events[0]["SUMMARY"])
    with step("email off for meetings: the reminder reaches the centre, not the mailbox"):
        set_channels(page, portal, email=False, push=False)
        remind_and_deliver(setup)
        assert meeting_mails(setup, email) == []
        page.get_by_role("link", name="Уведомления").click()
        expect(page.locator('.notice[data-kind="meeting_reminder"]')).to_have_count(1)
    with step("email and push back on, push turned on in this browser"):
        endpoint = LocalPushEndpoint(httpserver)
        page.context.grant_permissions(["notifications"], origin=portal)
        page.add_init_script(LOCAL_PUSH_SERVICE.replace("ENDPOINT", json.dumps(endpoint.url)))
        set_channels(page, portal, email=True, push=True)
        page.get_by_role("button", name="Включить в этом браузере").click()
        expect(page.locator("#push-status")).to_have_text("Уведомления в браузере включены.")
    with step("the next meeting's reminder: mailed, and pushed encrypted to the endpoint"):
        add_meeting(setup, 8, in_days=2)
        remind_and_deliver(setup)
        assert len(meeting_mails(setup, email)) == 1
        keys = json.loads(page.evaluate("localStorage.getItem('test-push-keys')"))
        pushed = [endpoint.decrypt(body, keys) for body in endpoint.received]
        meetings = [m for m in pushed if m["kind"] == "meeting_reminder"]
        assert len(meetings) == 1, pushed
        message = meetings[0]
        assert "ПК ВОСХОД" in message["title"] and message["url"] == "/notifications"
    with step("the service worker shows the message the browser would decrypt"):
        shown = show_in_service_worker(page, portal, message)
        assert shown == [message["title"]]


def show_in_service_worker(page: Page, portal: str, message: dict[str, Any]) -> list[str]:
    """Deliver ``message`` to the portal's service worker as the browser's push service would
    (Chrome DevTools Protocol, ServiceWorker.deliverPushMessage) and read what it shows."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    cdp = page.context.new_cdp_session(page)
    registrations: list[str] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(
        r["registrationId"] for r in event["registrations"]
        if r["scopeURL"].startswith(portal) and not r["isDeleted"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not registrations and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert registrations, "the portal's service worker is not registered"
    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": portal, "registrationId": registrations[0],
        "data": json.dumps(message, ensure_ascii=False)})
    titles: list[str] = []
    while not titles and time.monotonic() < deadline + 10:
        page.wait_for_timeout(200)
        titles = page.evaluate("navigator.serviceWorker.ready.then((r) => r.getNotifications())"
                               ".then((shown) => shown.map((n) => n.title))")
    return titles


def test_a_chain_without_ledger2_shows_progwallets(page: Page, chain_portal: ChainSetup) -> None:
    setup, chain = chain_portal, chain_portal.chain
    del chain.contracts["ledger2"]
    email, usernames = member_with_accounts(setup.portal.idp, "voskhod")
    chain.add_participant("voskhod", usernames["voskhod"])
    chain.add_progwallet("voskhod", usernames["voskhod"], 1, "2500.0000 RUB")
    page.set_viewport_size(PHONE)
    sign_in_to_portal(page, setup, email)
    voskhod = page.locator('.coop[data-coopname="voskhod"]')
    expect(voskhod.locator('[data-wallet="w.wal.share"] dd')).to_have_text("2 500,00 ₽")
    assert re.search(r"Паевой взнос", voskhod.inner_text())
