"""email_norm v1.1 in the browser's forms (PROTOCOL.md §1, §2): a homograph address is refused
at the field, a twin is the same account, and a member from before the rule signs in with the
salt their keys were derived with until a password change makes it the canonical address."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from common.db import db
from idp.models import Member, Registration
from tests.e2e.conftest import LiveIdp, Steps, login, logout, open_app, register
from tests.idp.conftest import insert_v1_0_member

pytestmark = pytest.mark.e2e

PASSWORD = "пароль до правила v1.1, 2025"
NEW_PASSWORD = "пароль после правила v1.1, 2026"


def test_a_mixed_script_address_is_refused_at_the_field(page: Page, live_idp: LiveIdp,
                                                        step: Steps) -> None:
    with step("registration: a Cyrillic а among Latin letters"):
        open_app(page, live_idp, "register")
        page.get_by_role("checkbox").check()
        page.get_by_label("Электронная почта").fill("iv\u0430n@example.com")
        page.get_by_role("button", name="Получить код").click()
        error = page.locator("#reg-email-error")
        expect(error).to_contain_text("смешаны буквы разных алфавитов")
        expect(page.get_by_label("Электронная почта")).to_be_focused()
        with live_idp.app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Registration)) == 0

    with step("login: the same address, and a domain that is no domain"):
        page.goto(f"{live_idp.url}/#/login")
        login(page, live_idp, "iv\u0430n@example.com", PASSWORD)
        expect(page.locator("#login-email-error")).to_contain_text("смешаны буквы")
        login(page, live_idp, "ivan@exa_mple.com", PASSWORD)
        expect(page.locator("#login-email-error")).to_contain_text("name@example")


def test_a_twin_typed_at_registration_is_the_canonical_account(page: Page, live_idp: LiveIdp,
                                                               step: Steps) -> None:
    t = secrets.token_hex(3)
    canonical = f"ivan-{t}@почта.рф"
    with step("register typing the domain in capitals"):
        page.goto(f"{live_idp.url}/#/register")
        page.get_by_role("checkbox").check()
        page.get_by_label("Электронная почта").fill(f"Ivan-{t}@ПОЧТА.РФ")
        page.get_by_role("button", name="Получить код").click()
        page.get_by_role("heading", name="Код из письма").wait_for()
        page.get_by_label("Код из письма").fill(live_idp.code_for(canonical))
        page.get_by_role("button", name="Подтвердить").click()
        page.get_by_label("Новый пароль").fill(PASSWORD)
        page.get_by_label("Пароль ещё раз").fill(PASSWORD)
        page.get_by_role("button", name="Создать аккаунт").click()
        page.get_by_role("heading", name="Выпуск карты").wait_for()
        with live_idp.app.app_context():
            assert list(db.session.scalars(select(Member.email))) == [canonical]
        logout(page)

    with step("log in typing the punycode form"):
        login(page, live_idp, f"ivan-{t}@xn--80a1acny.xn--p1ai", PASSWORD)
        page.get_by_role("heading", name="Выпуск карты").wait_for()


def test_a_v1_0_member_signs_in_and_changes_the_password(page: Page, live_idp: LiveIdp,
                                                         step: Steps) -> None:
    t = secrets.token_hex(3)
    canonical, legacy = f"café-{t}@example.com", f"cafe\u0301-{t}@example.com"
    insert_v1_0_member(live_idp.app, canonical, legacy, PASSWORD)

    with step("log in typing the NFC form: the keys come from the stored NFD salt"):
        open_app(page, live_idp)
        login(page, live_idp, canonical, PASSWORD)
        page.get_by_role("heading", name="Выпуск карты").wait_for()

    with step("change the password: the current one with the old salt, the new one canonical"):
        page.goto(f"{live_idp.url}/#/security")
        page.get_by_label("Текущий пароль").fill(PASSWORD)
        page.locator("#chg-password").fill(NEW_PASSWORD)
        page.locator("#chg-confirm").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Сменить пароль").click()
        expect(page.get_by_text("Пароль изменён. Остальные сеансы завершены.")).to_be_visible()
        with live_idp.app.app_context():
            assert db.session.scalar(select(Member.kdf_email)) is None
        logout(page)

    with step("the new password signs in, whichever form of the address is typed"):
        login(page, live_idp, legacy, NEW_PASSWORD)
        page.get_by_role("heading", name="Выпуск карты").wait_for()
        logout(page)
        login(page, live_idp, canonical, PASSWORD)
        expect(page.get_by_role("alert")).to_contain_text("Неверный адрес почты или пароль")


def test_registering_an_existing_member_twin_sends_no_second_account(
        page: Page, live_idp: LiveIdp, step: Steps) -> None:
    t = secrets.token_hex(3)
    canonical = f"user-{t}@example.com"
    register(page, live_idp, canonical, PASSWORD)
    logout(page)
    with step("the fullwidth twin gets the same answer; no second account"):
        page.goto(f"{live_idp.url}/#/register")
        page.get_by_role("checkbox").check()
        page.get_by_label("Электронная почта").fill("ＵＳＥＲ-" + t + "@ＥＸＡＭＰＬＥ.com")
        page.get_by_role("button", name="Получить код").click()
        page.get_by_role("heading", name="Код из письма").wait_for()
        with live_idp.app.app_context():
            assert list(db.session.scalars(select(Member.email))) == [canonical]
