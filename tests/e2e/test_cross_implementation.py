"""Two implementations of protocol v1, one card: what the browser writes the Python SDK reads,
and what the SDK writes the browser shows (issue #3)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cardcoop import CardSession, IdpClient
from cardcoop.schema import normalize_card
from tests.conftest import random_email
from tests.e2e.conftest import LiveIdp, Steps, assert_no_leaks, fill_fields, login, register
from tests.leaks import LogRecorder

pytestmark = pytest.mark.e2e

PASSWORD = "кросс-проверка двух реализаций 7"
PETROV = {
    "/last_name": "Петров", "/first_name": "Алексей", "/middle_name": "Николаевич",
    "/birthdate": "1979-11-03", "/phone": "+7 (812) 555-01-02",
    "/email": "petrov@example.ru", "/full_address": "190000, г. Санкт-Петербург, Невский пр., 10",
    "/passport/series": "4009", "/passport/number": "112233",
    "/passport/issued_by": "ТП №1 УФМС по г. Санкт-Петербургу", "/passport/issued_at": "2010-01-15",
    "/passport/code": "780-001",
}


def as_card(values: dict[str, str]) -> dict[str, object]:
    """The JSON Pointer form used by the page helpers → the card's JSON."""
    card: dict[str, object] = {"person_type": "individual"}
    for pointer, value in values.items():
        *parents, leaf = pointer.strip("/").split("/")
        node = card
        for name in parents:
            node = node.setdefault(name, {})  # type: ignore[assignment]
        node[leaf] = value  # type: ignore[index]
    return card


def test_a_card_written_in_the_browser_is_read_by_the_sdk(
        page: Page, live_idp: LiveIdp, step: Steps, server_logs: LogRecorder) -> None:
    email = random_email("browser")
    with step("the browser registers and issues the card"):
        register(page, live_idp, email, PASSWORD)
        page.get_by_text("Физическое лицо", exact=True).click()
        fill_fields(page, PETROV)
        page.get_by_role("button", name="Зашифровать и выпустить карту").click()
        expect(page.locator(".alert-success")).to_contain_text("Карта выпущена")

    with step("the SDK logs in with the same password and decrypts the same data"), \
            IdpClient(live_idp.url) as client:
        card = CardSession(client.login(email, PASSWORD)).read_card()
        assert card.version == 1
        # The page saves the card's stored form (phone in E.164), as the SDK's normalize_card.
        assert card.data == normalize_card(as_card(PETROV))
        assert card.data["phone"] == "+78125550102"

    with step("nothing secret reached the database or the logs"):
        assert_no_leaks(live_idp, server_logs, [PASSWORD, *PETROV.values()])


def test_a_card_written_by_the_sdk_is_shown_in_the_browser(
        page: Page, live_idp: LiveIdp, step: Steps) -> None:
    email = random_email("sdk")
    with step("the SDK registers, issues the card and joins a cooperative"), \
            IdpClient(live_idp.url) as client:
        cards = CardSession(client.register(email, PASSWORD, live_idp.code_for))
        cards.issue_card(as_card(PETROV))
        account = cards.add_account("voskhod")

    with step("the browser logs in and shows the decrypted card and account"):
        page.goto(f"{live_idp.url}/#/login")
        login(page, live_idp, email, PASSWORD)
        view = page.locator(".member-card")
        for pointer in ("/last_name", "/first_name", "/passport/number", "/full_address"):
            expect(view.locator(f'[data-path="{pointer}"] dd')).to_have_text(PETROV[pointer])
        page.get_by_role("navigation").get_by_role("link", name="Аккаунты").click()
        item = page.locator('.account[data-coop="voskhod"]')
        expect(item.locator(".username")).to_have_text(account.username)
        expect(item.locator(".public-key")).to_have_text(account.public_key)
