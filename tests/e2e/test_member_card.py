"""The member's whole life with a card, in Chromium: register (policy required) → code →
password → issue an individual's card → log out/in → change the password → log in with it →
recover with the recovery key → the same data every time. Screenshots for the member's guide
are taken along the way (docs/guide/img)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Route, expect

from tests.conftest import random_email
from tests.e2e.conftest import (
    LiveIdp,
    Steps,
    assert_no_leaks,
    busy_states,
    fill_fields,
    guide_shot,
    login,
    logout,
    open_app,
    probe,
    register,
)
from tests.leaks import LogRecorder

pytestmark = pytest.mark.e2e

PASSWORD_1 = "тихий-берег-старой-реки-42"
PASSWORD_2 = "Зелёная лампа над столом 1987"
PASSWORD_3 = "восемь синих чашек на полке!"

IVANOVA = {
    "/last_name": "Иванова",
    "/first_name": "Мария",
    "/middle_name": "Сергеевна",
    "/birthdate": "1988-04-17",
    "/phone": "+7 (916) 123-45-67",
    "/email": "m.ivanova@example.ru",
    "/full_address": "125009, г. Москва, ул. Тверская, д. 7, кв. 12",
    "/passport/series": "4512",
    "/passport/number": "345678",
    "/passport/issued_by": "ОВД «Тверской» г. Москвы",
    "/passport/issued_at": "2008-05-20",
    "/passport/code": "770-045",
}


def expect_ivanova(page: Page) -> None:
    """The card view shows the decrypted data."""
    expect(page.get_by_role("heading", name="Моя карта")).to_be_visible()
    card = page.locator(".member-card")
    expect(card).to_contain_text("Физическое лицо")
    for pointer in ("/last_name", "/first_name", "/middle_name", "/phone", "/email",
                    "/full_address", "/passport/series", "/passport/number",
                    "/passport/issued_by", "/passport/code"):
        # The page saves the phone in E.164 (issue #9): "+7 (916) 123-45-67" -> "+79161234567".
        shown = "+79161234567" if pointer == "/phone" else IVANOVA[pointer]
        expect(card.locator(f'[data-path="{pointer}"] dd')).to_have_text(shown)
    expect(card.locator('[data-path="/birthdate"] dd')).to_have_text("17 апреля 1988 г.")
    expect(card.locator('[data-path="/passport"] h3')).to_have_text("Паспорт")


def test_member_card_lifecycle(page: Page, live_idp: LiveIdp, step: Steps,
                               server_logs: LogRecorder) -> None:
    email = random_email("ivanova")
    open_app(page, live_idp, "register")

    with step("registration: the policy must be accepted"):
        expect(page.get_by_role("heading", name="Регистрация")).to_be_visible()
        expect(page.locator(".policy-version")).to_contain_text("2026-11-01")
        expect(page.locator(".policy-text")).to_contain_text(
            "Политика конфиденциальности card.coop")
        send = page.get_by_role("button", name="Получить код")
        page.get_by_label("Электронная почта").fill(email)
        expect(send).to_be_disabled()
        page.get_by_label("Электронная почта").press("Enter")  # implicit submission is refused too
        expect(page.get_by_role("heading", name="Согласие и адрес почты")).to_be_visible()
        assert live_idp.last_mail_id(email) == 0, "no code may be sent without consent"
        guide_shot(page, "registration")
        page.get_by_label(re.compile("Я прочитал")).check()
        expect(send).to_be_enabled()
        send.click()

    with step("registration: the emailed code"):
        expect(page.get_by_role("heading", name="Код из письма")).to_be_focused()
        expect(page.locator("#reg-resend")).to_be_disabled()
        expect(page.locator("#reg-resend")).to_contain_text("через")
        code = live_idp.code_for(email)
        wrong = "000000" if code != "000000" else "111111"
        page.get_by_label("Код из письма").fill(wrong)
        page.get_by_role("button", name="Подтвердить").click()
        expect(page.locator("#reg-code-error")).to_have_text("Код не подходит. Проверьте письмо.")
        expect(page.get_by_label("Код из письма")).to_have_attribute("aria-invalid", "true")
        page.get_by_label("Код из письма").fill(code)
        guide_shot(page, "code")
        page.get_by_role("button", name="Подтвердить").click()

    with step("registration: the password"):
        expect(page.get_by_role("heading", name="Пароль", exact=True)).to_be_focused()
        page.get_by_label("Новый пароль").fill("qwerty12")
        expect(page.locator(".pw-level")).to_contain_text("слабый")
        page.get_by_label("Пароль ещё раз").fill("qwerty13")
        page.get_by_role("button", name="Создать аккаунт").click()
        expect(page.locator("#reg-password-error")).to_contain_text("не короче 10")
        page.get_by_label("Новый пароль").fill(PASSWORD_1)
        expect(page.locator(".pw-level")).to_contain_text("надёжный")
        page.get_by_label("Пароль ещё раз").fill(PASSWORD_1 + "x")
        page.get_by_role("button", name="Создать аккаунт").click()
        expect(page.locator("#reg-confirm-error")).to_have_text("Пароли не совпадают")
        page.get_by_label("Пароль ещё раз").fill(PASSWORD_1)
        guide_shot(page, "password")
        page.get_by_role("button", name="Создать аккаунт").click()
        expect(page.get_by_role("heading", name="Выпуск карты")).to_be_visible()
        deriving = [b for b in busy_states(page) if "Вычисляем ключ" in b["text"]]
        assert deriving, busy_states(page)
        assert deriving[0]["ariaBusy"] == "true" and deriving[0]["submitDisabled"] is True
        expect(page.locator(".alert-success")).to_contain_text("Аккаунт создан")

    with step("card form: validation, then an individual with a passport"):
        page.get_by_role("button", name="Зашифровать и выпустить карту").click()
        expect(page.locator(".error-summary")).to_contain_text("Тип лица")
        page.get_by_text("Физическое лицо", exact=True).click()
        expect(page.locator("#card-last_name")).to_be_visible()
        expect(page.get_by_role("textbox", name="Фамилия", exact=True)).to_be_visible()
        expect(page.locator(".error-summary")).to_be_hidden()
        page.get_by_role("button", name="Зашифровать и выпустить карту").click()
        expect(page.locator(".error-summary")).to_be_focused()
        expect(page.locator("#card-last_name-error")).to_have_text("Фамилия: обязательное поле")
        expect(page.locator("#card-last_name")).to_have_attribute("aria-invalid", "true")
        described = page.locator("#card-last_name").get_attribute("aria-describedby") or ""
        assert "card-last_name-error" in described.split()
        fill_fields(page, IVANOVA)
        page.locator("#card-passport-code").blur()
        expect(page.locator("#card-last_name")).not_to_have_attribute("aria-invalid", "true")
        guide_shot(page, "card-form")
        page.get_by_role("button", name="Зашифровать и выпустить карту").click()

    with step("card view after issue"):
        expect(page.locator(".alert-success")).to_contain_text("Карта выпущена")
        expect_ivanova(page)
        expect(page.get_by_text("Ключ восстановления не создан")).to_be_visible()
        guide_shot(page, "card-view")
        page.set_viewport_size({"width": 390, "height": 844})
        guide_shot(page, "card-view-phone")
        page.set_viewport_size({"width": 1280, "height": 900})

    with step("the keys in memory are not extractable"):
        state = probe(page)
        assert state["loggedIn"] is True
        for key in ("encKey", "cardKey"):
            assert state[key]["extractable"] is False, state
            assert state[key]["exported"] is False, state
            assert state[key]["exportError"] == "InvalidAccessError", state
        exposed = page.evaluate("""() => Object.getOwnPropertyNames(window).filter((name) => {
            try { return window[name] instanceof CryptoKey; } catch { return false; }
        })""")
        assert exposed == [], exposed
        assert page.evaluate("Object.keys(localStorage)") in ([], ["cardcoop.lang"])
        assert page.evaluate("sessionStorage.length") == 0
        assert page.evaluate("document.cookie") == ""

    recovery_key = ""
    with step("security: create the recovery key, shown once"):
        page.get_by_role("link", name="Безопасность").click()
        expect(page.get_by_role("heading", name="Безопасность", level=1)).to_be_focused()
        expect(page.locator(".rk-status")).to_contain_text("не создан")
        page.get_by_role("button", name="Создать ключ восстановления").click()
        groups = page.locator(".rk-groups li")
        expect(groups).to_have_count(13)
        recovery_key = "-".join(groups.all_inner_texts())
        assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){12}[0-9A-HJKMNP-TV-Z]{4}", recovery_key)
        save = page.get_by_role("button", name="Сохранить ключ восстановления")
        expect(save).to_be_disabled()
        guide_shot(page, "recovery-key", only=page.locator("#recovery"))
        page.get_by_label(re.compile("Я записал")).check()
        page.locator("#rk-password").fill(PASSWORD_1)
        save.click()
        expect(page.get_by_text("Ключ восстановления сохранён")).to_be_visible()
        expect(page.locator(".rk-groups")).to_have_count(0)
        assert recovery_key.split("-")[0] not in page.locator("#app").inner_text()
        expect(page.locator(".rk-status")).to_contain_text("Ключ восстановления создан")
        expect(page.locator(".session.current")).to_contain_text("Это устройство")
        guide_shot(page, "security")

    with step("log out: the session is gone from memory"):
        logout(page)
        expect(page.get_by_text("Вы вышли")).to_be_visible()
        state = probe(page)
        assert state == {"loggedIn": False, "unlocked": False, "hasRefreshToken": False,
                         "hasCardData": False,
                         "encKey": None, "cardKey": None}
        page.goto(f"{live_idp.url}/#/card")
        expect(page.get_by_role("heading", name="Вход")).to_be_visible()

    with step("log in: the card is decrypted again"):
        login(page, live_idp, email, PASSWORD_1)
        expect_ivanova(page)

    with step("change the password"):
        page.get_by_role("link", name="Безопасность").click()
        page.get_by_label("Текущий пароль").fill("не тот пароль 123")
        page.locator("#chg-password").fill(PASSWORD_2)
        page.locator("#chg-confirm").fill(PASSWORD_2)
        page.get_by_role("button", name="Сменить пароль").click()
        expect(page.locator("#chg-current-error")).to_have_text("Текущий пароль введён неверно.")
        page.get_by_label("Текущий пароль").fill(PASSWORD_1)
        page.locator("#chg-password").fill(PASSWORD_2)
        page.locator("#chg-confirm").fill(PASSWORD_2)
        page.get_by_role("button", name="Сменить пароль").click()
        expect(page.get_by_text("Пароль изменён. Остальные сеансы завершены.")).to_be_visible()
        page.get_by_role("link", name="Карта", exact=True).click()
        expect_ivanova(page)  # the card key was re-wrapped, not lost
        logout(page)

    with step("the old password no longer works; the new one does"):
        login(page, live_idp, email, PASSWORD_1)
        expect(page.get_by_role("alert")).to_contain_text("Неверный адрес почты или пароль")
        login(page, live_idp, email, PASSWORD_2)
        expect_ivanova(page)
        logout(page)

    with step("forgot password: recover with the recovery key"):
        page.get_by_role("link", name="Забыли пароль?").click()
        expect(page.get_by_role("heading", name="Восстановление доступа")).to_be_visible()
        page.get_by_label("Электронная почта").fill(email)
        page.get_by_role("button", name="Получить код").click()
        expect(page.get_by_role("heading", name="Код, ключ восстановления и новый пароль")
               ).to_be_focused()
        page.get_by_label("Код из письма").fill(live_idp.code_for(email))
        page.get_by_label("Ключ восстановления").fill(recovery_key.lower().replace("-", " "))
        page.locator("#rec-password").fill(PASSWORD_3)
        page.locator("#rec-confirm").fill(PASSWORD_3)
        guide_shot(page, "recovery")
        page.get_by_role("button", name="Восстановить доступ").click()
        expect(page.get_by_text("Доступ восстановлен")).to_be_visible()
        # The key is spent: the Security page says so and offers a new one.
        expect(page.locator("#recovery")).to_contain_text("больше не действует")
        page.get_by_role("navigation").get_by_role("link", name="Карта").click()
        expect_ivanova(page)
        logout(page)

    with step("log in with the password set by recovery"):
        login(page, live_idp, email, PASSWORD_3)
        expect_ivanova(page)

    assert not [e for e in page.csp_errors if "Content Security Policy" in e], page.csp_errors  # type: ignore[attr-defined]

    with step("nothing the member typed or the browser made reached the server's storage"):
        assert_no_leaks(live_idp, server_logs, [
            PASSWORD_1, PASSWORD_2, PASSWORD_3, recovery_key, recovery_key.replace("-", ""),
            *IVANOVA.values()])


def test_expired_access_token_is_refreshed_once(page: Page, live_idp: LiveIdp,
                                                 step: Steps) -> None:
    """A 401 invalid_token makes the app rotate the pair once and retry; when the refresh is
    refused too, the session is dropped and the member is sent to the login page."""
    open_app(page, live_idp, "register")
    register(page, live_idp, random_email("refresh"), PASSWORD_1)
    expired = {"error": "invalid_token", "message": "The access token is not valid."}

    with step("one 401, one refresh, the call is retried"):
        answered: list[str] = []

        def first_call_expired(route: Route) -> None:
            if answered:
                route.continue_()
            else:
                answered.append(route.request.url)
                route.fulfill(status=401, json=expired)

        page.route("**/auth/sessions", first_call_expired)
        with page.expect_response("**/auth/refresh-token") as refreshed:
            page.get_by_role("navigation").get_by_role("link", name="Безопасность").click()
        assert refreshed.value.status == 200
        expect(page.locator(".sessions .session")).to_have_count(1)
        expect(page.locator("#sessions .alert-error")).to_be_hidden()
        assert len(answered) == 1
        page.unroute("**/auth/sessions")
        page.get_by_role("navigation").get_by_role("link", name="Карта").click()

    with step("a refused refresh ends the session"):
        page.route("**/auth/sessions", lambda route: route.fulfill(status=401, json=expired))
        refused = {"error": "invalid_token", "message": "The refresh token is not valid."}
        page.route("**/auth/refresh-token", lambda route: route.fulfill(status=401, json=refused))
        page.get_by_role("navigation").get_by_role("link", name="Безопасность").click()
        expect(page.get_by_role("heading", name="Вход")).to_be_visible()
        expect(page.get_by_text("Сеанс завершён. Войдите снова.")).to_be_visible()
        assert probe(page)["loggedIn"] is False
