"""The account's end of life in Chromium (issue #9): deleting it from «Безопасность» cuts the
cooperative off at once and emails a confirmation; the export downloads as one JSON file with
the card decrypted in the browser; showing a private key asks for the password again."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from cardcoop import CardSession, IdpClient
from cardcoop.card import recover
from common.db import db
from idp.models import Member
from tests.conftest import random_email
from tests.e2e import test_sharing as sharing
from tests.e2e.conftest import LiveIdp, Steps, assert_no_leaks, run_worker
from tests.e2e.test_sharing import (
    PASSWORD,
    SHARE,
    CoopSite,
    choose_fields,
    log_in,
    member_with_card,
    shared_rows,
)
from tests.leaks import LogRecorder

pytestmark = pytest.mark.e2e

coop_site = sharing.coop_site  # the demo cooperative's site, as in the sharing tests


def mailbox(live: LiveIdp, email: str) -> list[dict[str, Any]]:
    run_worker(live.app)
    query = urllib.parse.urlencode({"to": email})
    with urllib.request.urlopen(f"{live.url}/dev/mailbox.json?{query}", timeout=10) as resp:  # noqa: S310 (our server)
        messages: list[dict[str, Any]] = json.load(resp)["messages"]
    return messages


def open_security(page: Page, live: LiveIdp, email: str) -> None:
    page.goto(f"{live.url}/#/login")
    log_in(page, email)
    page.get_by_role("navigation").get_by_role("link", name="Безопасность").click()
    page.get_by_role("heading", name="Удаление учётной записи").wait_for()


def test_delete_cuts_the_cooperative_off_and_emails(page: Page, live_idp: LiveIdp,
                                                    coop_site: CoopSite, step: Steps) -> None:
    email, _ = member_with_card(live_idp, join="voskhod")
    with step("the member shares data with the cooperative"):
        page.goto(f"{coop_site.url}/start?method=redirect&scope={SHARE.replace(' ', '+')}")
        log_in(page, email)
        choose_fields(page, ["last_name"])
        page.locator("#consent-share").click()
        expect(page.locator("#shared-data")).to_be_visible()
        assert shared_rows(page) == {"last_name": "Смирнова"}
    # Another browser (its own cookies): the member manages the account there.
    browser = page.context.browser
    assert browser is not None
    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    idp = other.new_page()
    idp.set_default_timeout(20_000)
    with step("deleting asks for the confirmation and the password"):
        open_security(idp, live_idp, email)
        section = idp.locator("#delete-account")
        section.get_by_label("Пароль для подтверждения удаления").fill(PASSWORD)
        section.locator("#del-submit").click()
        expect(section.locator(".alert-error")).to_contain_text("Подтвердите")
        section.get_by_label("Я понимаю").check()
        section.get_by_label("Пароль для подтверждения удаления").fill("не тот пароль")
        section.locator("#del-submit").click()
        expect(section).to_contain_text("неверн", ignore_case=True)
        assert idp.url.endswith("#/security")
    with step("the account is deleted and the member lands on the login page"):
        section.get_by_label("Пароль для подтверждения удаления").fill(PASSWORD)
        section.locator("#del-submit").click()
        idp.get_by_role("heading", name="Вход").wait_for()
        expect(idp.locator("#app")).to_contain_text("Учётная запись удалена")
        with live_idp.app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Member)
                                     .where(Member.email == email)) == 0
    with step("the cooperative's token answers 401 at once"):
        page.locator("#reread").click()
        expect(page.locator("#error-code")).to_have_text("invalid_token")
    with step("the confirmation email arrives"):
        subjects = [m["subject"] for m in mailbox(live_idp, email)]
        assert "Учётная запись card.coop удалена" in subjects
    with step("the old password no longer signs in"):
        idp.get_by_label("Электронная почта").fill(email)
        idp.get_by_label("Пароль", exact=True).fill(PASSWORD)
        idp.get_by_role("button", name="Войти").click()
        expect(idp.locator("#app .alert-error").first).to_be_visible()


def test_export_downloads_and_the_private_key_asks_for_the_password(
        page: Page, live_idp: LiveIdp, step: Steps, server_logs: LogRecorder) -> None:
    email, username = member_with_card(live_idp, join="voskhod")
    with step("the export downloads as one JSON file with the card decrypted"):
        open_security(page, live_idp, email)
        with page.expect_download() as info:
            page.locator("#export-submit").click()
        download = info.value
        assert re.fullmatch(r"card-coop-export-\d{4}-\d{2}-\d{2}\.json",
                            download.suggested_filename)
        doc = json.loads(download.path().read_text(encoding="utf-8"))
        assert doc["format"] == "card.coop/export/v1"
        assert doc["account"]["email"] == email
        assert doc["card"]["personal_data"]["last_name"] == "Смирнова"
        assert doc["card"]["accounts"][0]["username"] == username
        assert any(s["current"] for s in doc["sessions"])
        assert doc["audit_events"][0]["event"] == "registered"
        expect(page.locator("#export")).to_contain_text(download.suggested_filename)
    with step("the recovery key downloads as a .txt and prints"):
        page.locator("#rk-create").click()
        groups = page.locator(".rk-groups code").all_inner_texts()
        assert len(groups) == 13
        with page.expect_download() as info:
            page.locator("#rk-download").click()
        saved = info.value
        assert saved.suggested_filename == "card-coop-recovery-key.txt"
        text = saved.path().read_text(encoding="utf-8")
        assert "-".join(groups) in text and email in text
        assert "Ключ восстановления card.coop" in text
        page.locator("#rk-print").click()
        assert not [e for e in page.csp_errors  # type: ignore[attr-defined]
                    if "Content Security Policy" in e or "Refused" in e]
    with step("the private key is shown only after the password again"):
        page.get_by_role("navigation").get_by_role("link", name="Аккаунты").click()
        item = page.locator('li.account[data-coop="voskhod"]')
        item.get_by_role("button", name="Показать закрытый ключ").click()
        expect(item.locator(".private-key")).to_have_count(0)
        item.get_by_label("Текущий пароль").fill("не тот пароль")
        item.locator(".reauth-submit").click()
        expect(item).to_contain_text("неверн", ignore_case=True)
        expect(item.locator(".private-key")).to_have_count(0)
        item.get_by_label("Текущий пароль").fill(PASSWORD)
        item.locator(".reauth-submit").click()
        expect(item.locator(".private-key")).to_be_visible()
        private_key = item.locator(".private-key").inner_text()
        assert len(private_key) > 40
        item.get_by_role("button", name="Скрыть закрытый ключ").click()
        expect(item.locator(".private-key")).to_have_count(0)
    with step("nothing decrypted, no password and no private key reached idp"):
        assert_no_leaks(live_idp, server_logs, [PASSWORD, private_key, "Смирнова", "Ольга",
                                                "Петровна", "1988-04-12", "111-22-33"])


def test_a_spent_recovery_key_asks_for_a_new_one(page: Page, live_idp: LiveIdp,
                                                step: Steps) -> None:
    new_password = "новый пароль после восстановления"
    with step("a recovery key is set up and then used (the SDK, as a member's other device)"):
        email = random_email("spent")
        with IdpClient(live_idp.url) as client:
            cards = CardSession(client.register(email, PASSWORD, live_idp.code_for))
            cards.issue_card(sharing.CARD)
            key = cards.setup_recovery(PASSWORD)
            mark = live_idp.last_mail_id(email)
            recover(client, email, key, new_password,
                    lambda e: live_idp.code_for(e, after=mark))
        subjects = [m["subject"] for m in mailbox(live_idp, email)]
        assert "Новый ключ восстановления card.coop" in subjects
        assert "Ключ восстановления card.coop использован" in subjects
    with step("the security page says the key is spent and offers a new one"):
        page.goto(f"{live_idp.url}/#/login")
        page.get_by_label("Электронная почта").fill(email)
        page.get_by_label("Пароль", exact=True).fill(new_password)
        page.get_by_role("button", name="Войти").click()
        page.get_by_role("navigation").get_by_role("link", name="Безопасность").click()
        expect(page.locator("#rk-spent")).to_contain_text("больше не действует")
        expect(page.locator("#rk-create")).to_have_text("Создать ключ восстановления")
