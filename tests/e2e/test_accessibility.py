"""Accessibility (issue #9): axe-core, run in real Chromium, reports no WCAG 2.1 A/AA violation on
any idp page, at a desktop (1280×900) and a phone (390×844) size.

Every page a member can reach is visited as a member reaches it: login, the three registration
steps, the card before it is issued, the card form, the card, its edit form, the cooperative
accounts, the access grants (none, then one), security, the consent screen of a cooperative's
request (redirect method, with the demo cooperative), the forgotten-password steps, the OAuth
error page and the logged-out page, in Russian and (for the pages a server renders) English.
``/docs`` is left out: it is the third-party Swagger UI, not a page of ours.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.conftest import random_email
from tests.e2e.conftest import ARTIFACTS, LiveIdp, Steps, fill_fields, open_app
from tests.e2e.test_sharing import JOIN, CoopSite, coop_site  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "widget" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SIZES: dict[str, ViewportSize] = {"desktop": {"width": 1280, "height": 900},
                                  "phone": {"width": 390, "height": 844}}
PASSWORD = "доступно каждому пайщику 2026"
CARD = {
    "/last_name": "Кузнецова",
    "/first_name": "Анна",
    "/birthdate": "1990-02-03",
    "/email": "anna@example.ru",
    "/phone": "+7 916 555-44-33",
    "/full_address": "119002, г. Москва, ул. Арбат, д. 1",
    "/passport/series": "4510",
    "/passport/number": "123456",
    "/passport/issued_by": "ОВД «Арбат» г. Москвы",
    "/passport/issued_at": "2010-03-04",
    "/passport/code": "770-001",
}


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of the page as it is now (WCAG 2.1 A and AA rules)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags},"
                           " resultTypes: ['violations']})", TAGS)
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps([{"rule": v["id"], "impact": v["impact"], "help": v["help"],
                        "nodes": [{"target": n["target"], "summary": n["failureSummary"]}
                                  for n in v["nodes"][:5]]} for v in violations],
                      ensure_ascii=False, indent=1)


def log_in_again(page: Page, email: str) -> None:
    """The login or the locked screen, whichever the app shows: the email when asked, then the
    password."""
    email_box = page.get_by_label("Электронная почта")
    if email_box.count() and email_box.is_editable() and not email_box.input_value():
        email_box.fill(email)
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.locator("#app button[type=submit]").first.click()
    page.wait_for_function("!document.querySelector('#app form input[type=password]')")


class Audit:
    """Runs axe on each visited page and collects the failures, so that one run lists every
    page's problems instead of stopping at the first."""

    def __init__(self, page: Page, size: str) -> None:
        self.page = page
        self.size = size
        self.visited: list[str] = []
        self.failures: dict[str, str] = {}

    def check(self, name: str) -> None:
        self.page.wait_for_load_state("load")
        # Let the view settle (focus moves, asynchronous panels such as the sessions list).
        self.page.wait_for_function("!document.querySelector('#app[aria-busy=\"true\"]')")
        self.page.wait_for_timeout(150)
        self.visited.append(name)
        found = axe_violations(self.page)
        if found:
            self.failures[name] = describe(found)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(ARTIFACTS / f"axe-{self.size}-{name}.png"),
                                 full_page=True)

    def verdict(self) -> None:
        print(f"axe ({self.size}): {len(self.visited)} pages: {', '.join(self.visited)}")
        assert self.visited, "no page was checked"
        assert not self.failures, "\n".join(f"--- {name} ({self.size}):\n{text}"
                                            for name, text in self.failures.items())


@pytest.fixture(params=list(SIZES))
def sized_page(request: pytest.FixtureRequest, browser: Browser) -> Any:
    size = request.param
    # bypass_csp: the page forbids inline scripts, and axe arrives as one.
    context = browser.new_context(viewport=SIZES[size], locale="ru-RU", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield size, page
    context.close()


def test_axe_finds_nothing_on_any_idp_page(sized_page: tuple[str, Page], live_idp: LiveIdp,
                                           coop_site: CoopSite,  # noqa: F811
                                           request: pytest.FixtureRequest) -> None:
    size, page = sized_page
    step = Steps(page, request.node.name)
    audit = Audit(page, size)
    email = random_email("a11y")

    with step("the axe script is there and finds a planted violation (the check can fail)"):
        assert AXE.exists(), f"{AXE} is missing: cd widget && npm ci"
        open_app(page, live_idp, "login")
        page.evaluate("document.body.append(Object.assign(document.createElement('img'),"
                      " {src: 'data:,', id: 'planted'}))")
        assert any(v["id"] == "image-alt" for v in axe_violations(page))
        page.evaluate("document.getElementById('planted').remove()")

    with step("login, forgot password, registration"):
        audit.check("login")
        page.get_by_role("link", name="Забыли пароль?").click()
        page.get_by_role("heading", name="Восстановление доступа").wait_for()
        audit.check("forgot-1")
        page.get_by_label("Электронная почта").fill(random_email("a11y-forgot"))
        page.get_by_role("button", name="Получить код").click()
        page.get_by_label("Ключ восстановления").wait_for()
        audit.check("forgot-2")
        page.get_by_role("link", name=re.compile("Войти")).click()
        page.get_by_role("heading", name="Вход").wait_for()
        page.get_by_role("link", name=re.compile("Зарегистрироваться")).click()
        page.get_by_role("heading", name="Регистрация").wait_for()
        audit.check("register-1")
        page.get_by_role("checkbox").check()
        page.get_by_label("Электронная почта").fill(email)
        page.get_by_role("button", name="Получить код").click()
        page.get_by_role("heading", name="Код из письма").wait_for()
        audit.check("register-2")
        page.get_by_label("Код из письма").fill(live_idp.code_for(email))
        page.get_by_role("button", name="Подтвердить").click()
        page.get_by_role("heading", name="Пароль", exact=True).wait_for()
        page.get_by_label("Новый пароль").fill(PASSWORD)
        page.get_by_label("Пароль ещё раз").fill(PASSWORD)
        audit.check("register-3")
        page.get_by_role("button", name="Создать аккаунт").click()
        page.get_by_role("heading", name="Выпуск карты").wait_for()

    with step("the card: none yet, the form (with its error summary), the card, the edit form"):
        audit.check("card-new")
        page.get_by_role("button", name="Зашифровать и выпустить карту").click()
        expect(page.locator(".error-summary")).to_be_visible()
        audit.check("card-new-errors")
        page.goto(f"{live_idp.url}/#/card")
        page.get_by_role("heading", name="Моя карта").wait_for()
        audit.check("card-none")
        page.get_by_role("link", name="Выпустить карту").click()
        page.get_by_text("Физическое лицо", exact=True).click()
        fill_fields(page, CARD)
        page.get_by_role("button", name="Зашифровать и выпустить карту").click()
        expect(page.locator(".member-card")).to_be_visible()
        audit.check("card")
        page.reload()  # signed in but locked (or logged out): the screen that asks for the password
        page.locator("#app h1").wait_for()
        audit.check("after-reload")
        if page.locator("#app input[type=password]").count():
            log_in_again(page, email)
        page.goto(f"{live_idp.url}/#/card")
        expect(page.locator(".member-card")).to_be_visible()
        page.locator("#card-edit").click()
        page.get_by_role("heading", name="Изменение данных карты").wait_for()
        audit.check("card-edit")

    with step("accounts, access (none), security"):
        page.goto(f"{live_idp.url}/#/accounts")
        page.get_by_role("heading", name="Аккаунты в кооперативах").wait_for()
        audit.check("accounts")
        page.goto(f"{live_idp.url}/#/access")
        page.get_by_role("heading", name="Доступы кооперативов").wait_for()
        audit.check("access-none")
        page.goto(f"{live_idp.url}/#/security")
        page.get_by_role("heading", name="Безопасность", exact=True).wait_for()
        audit.check("security")

    with step("a cooperative's request: the consent screen (redirect method), then the grant"):
        page.goto(f"{coop_site.url}/start?method=redirect&scope={JOIN.replace(' ', '+')}"
                  "&fields=last_name+first_name")
        expect(page.locator("#consent-form, .view .alert")).not_to_have_count(0)
        if page.locator("#consent-form").count() == 0:  # a login (or an unlock) was asked
            audit.check("login-with-request")
            log_in_again(page, email)
        expect(page.locator("#consent-form")).to_be_visible()
        audit.check("consent")
        page.locator("#consent-share").click()
        expect(page).to_have_url(re.compile(re.escape(coop_site.url)))
        page.goto(f"{live_idp.url}/#/access")
        page.locator("#app h1").wait_for()
        if page.locator("#app form").count():  # a reload asks for the password (again)
            log_in_again(page, email)
            page.goto(f"{live_idp.url}/#/access")
        expect(page.locator(".grant")).to_have_count(1)
        audit.check("access")
        page.goto(f"{live_idp.url}/#/accounts")
        expect(page.locator(".account")).to_have_count(1)
        audit.check("accounts-one")

    with step("English: the card"):
        page.goto(f"{live_idp.url}/#/card")
        page.locator("#app h1").wait_for()
        page.locator(".lang-btn[lang=en]").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        audit.check("card-en")

    with step("pages the server renders: the OAuth error page and the logged-out page"):
        for lang in ("ru", "en"):
            page.goto(f"{live_idp.url}/oauth/authorize?client_id=nobody&response_type=code"
                      f"&ui_locales={lang}")
            page.locator("#oauth-error").wait_for()
            audit.check(f"oauth-error-{lang}")
            page.goto(f"{live_idp.url}/oauth/logout?client_id=voskhod&ui_locales={lang}")
            page.locator("h1").wait_for()
            question = page.locator('form[action="/oauth/logout"] button[type=submit]')
            if question.count():  # signed in, no ID token: the member is asked first
                audit.check(f"logout-question-{lang}")
                question.click()
                page.wait_for_load_state("load")
            page.locator("h1").wait_for()
            audit.check(f"logged-out-{lang}")

    audit.verdict()

