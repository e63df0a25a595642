"""Browser tests: the member app in real Chromium against a live idp.

The idp runs in a background thread (werkzeug's threaded server) built by the ``make_app``
fixture of ``tests/conftest.py``, so it shares the test database and is emptied afterwards. The
KDF uses the PROTOCOL floor (100 000 rounds) to keep the browser quick; codes are read from the
development mailbox after the outbox worker delivered them, as a member would read their inbox.

Chromium is Debian's (``/usr/bin/chromium``); ``playwright install`` cannot download browsers
here. A failing test leaves a full-page screenshot in ``tests/e2e/artifacts/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Locator, Page, Playwright, expect, sync_playwright

from tests.idp.conftest import run_worker
from tests.idp.network import CHAIN_ID, Mono
from tests.leaks import LogRecorder, database_dump, find_leaks, recording_logs
from tests.live import free_port, serving

expect.set_options(timeout=15_000)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
GUIDE_IMG = HERE.parents[1] / "docs" / "guide" / "img"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # CI sets CARDCOOP_REQUIRE_E2E: there a missing browser must fail the run, not skip it.
    if not os.environ.get("CARDCOOP_REQUIRE_E2E") and \
            not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium)")
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(skip)


@dataclass
class LiveIdp:
    app: Flask
    url: str

    def code_for(self, email: str, *, after: int = 0) -> str:
        """The newest 6-digit code mailed to ``email`` (with id > ``after``), read from
        ``/dev/mailbox.json`` once the outbox worker has delivered it."""
        run_worker(self.app)
        query = urllib.parse.urlencode({"to": email.strip().lower()})
        with urllib.request.urlopen(f"{self.url}/dev/mailbox.json?{query}", timeout=10) as resp:  # noqa: S310 (our server)
            messages = json.load(resp)["messages"]
        for message in messages:  # newest first
            match = re.search(r"\b(\d{6})\b", message["subject"])
            if match and message["id"] > after:
                return match.group(1)
        raise AssertionError(f"no code mailed to {email}")

    def last_mail_id(self, email: str) -> int:
        run_worker(self.app)
        query = urllib.parse.urlencode({"to": email.strip().lower()})
        with urllib.request.urlopen(f"{self.url}/dev/mailbox.json?{query}", timeout=10) as resp:  # noqa: S310
            messages = json.load(resp)["messages"]
        return max((m["id"] for m in messages), default=0)


@pytest.fixture
def live_idp(make_app: Callable[..., Flask]) -> Iterator[LiveIdp]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = make_app(kdf_iterations=100_000, idp_url=url)
    app.config["TESTING"] = False  # behave like a served app (errors as JSON, not raised)
    with serving(app, port):
        yield LiveIdp(app, url)


@pytest.fixture
def network_idp(make_app: Callable[..., Flask]) -> Iterator[tuple[LiveIdp, Mono]]:
    """A live idp configured for the ВОСХОД network (issue #11), and the network's keys."""
    net = Mono()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = make_app(kdf_iterations=100_000, idp_url=url, network_chain_id=CHAIN_ID,
                   network_trust_anchor=net.ano["public"])
    app.config["TESTING"] = False
    with serving(app, port):
        yield LiveIdp(app, url), net


@pytest.fixture
def server_logs() -> Iterator[LogRecorder]:
    """Every log line the live server writes during the test."""
    with recording_logs() as recorder:
        yield recorder


def assert_no_leaks(live: LiveIdp, logs: LogRecorder, secrets: list[str]) -> None:
    """The zero-knowledge claim, checked where it matters: a full database dump and every
    log line hold none of the secrets the person typed or the browser made."""
    assert find_leaks(database_dump(live.app), secrets) == [], "secret in the database"
    assert find_leaks(logs.text, secrets) == [], "secret in a log line"
    assert logs.lines, "the log recorder saw nothing: the check would prove nothing"


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    page = context.new_page()
    # Generous waits: key derivation runs 100 000 PBKDF2 rounds on a 2-core CI machine that
    # may be busy with other work; a wait ends as soon as its condition holds.
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.csp_errors = errors  # type: ignore[attr-defined]
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception as exc:  # the page may be gone; the test failure says enough
            print(f"no failure screenshot: {exc}")
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def guide_shot(page: Page, name: str, *, only: Locator | None = None) -> None:
    """A screenshot for the member's guide: the full page, or only one element of it. Written
    to docs/guide/img/ by `make guide-screenshots` (CARDCOOP_GUIDE_SHOTS=1); otherwise to the
    ignored artifacts folder, so that a test run leaves the tracked files alone."""
    folder = GUIDE_IMG if os.environ.get("CARDCOOP_GUIDE_SHOTS") else ARTIFACTS / "guide"
    folder.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.activeElement?.blur?.()")  # no stray focus ring in the guide
    if only is not None:
        only.screenshot(path=str(folder / f"{name}.png"))
    else:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


class Steps:
    """Named steps of a browser test: a failing step leaves a full-page screenshot named after
    the test and the step in tests/e2e/artifacts/."""

    def __init__(self, page: Page, test_name: str) -> None:
        self.page = page
        self.test_name = re.sub(r"[^\w.-]+", "_", test_name)
        self.current = ""

    def __call__(self, name: str) -> Steps:
        self.current = name
        return self

    def __enter__(self) -> Steps:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        if exc_type is None:
            return
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^\w.-]+", "_", self.current)
        try:
            self.page.screenshot(path=str(ARTIFACTS / f"{self.test_name}--{slug}.png"),
                                 full_page=True)
        except Exception as shot_error:  # the page may be gone; the failure itself matters
            print(f"no failure screenshot: {shot_error}")


@pytest.fixture
def step(page: Page, request: pytest.FixtureRequest) -> Steps:
    return Steps(page, request.node.name)


# --- helpers that drive the app like a member ----------------------------------------------

# Records every text the busy line shows, so a test can tell that "Вычисляем ключ…" appeared
# even though 100 000 PBKDF2 rounds finish quickly.
RECORD_BUSY = """
window.addEventListener('DOMContentLoaded', () => {
  window.__busy = [];
  new MutationObserver(() => {
    for (const line of document.querySelectorAll('.busy:not([hidden])')) {
      const text = line.querySelector('.busy-text')?.textContent;
      const form = line.closest('form');
      const seen = {
        text,
        ariaBusy: form?.getAttribute('aria-busy'),
        submitDisabled: form?.querySelector('button[type=submit]')?.disabled ?? null,
      };
      if (text && window.__busy.at(-1)?.text !== text) window.__busy.push(seen);
    }
  }).observe(document.body,
             {subtree: true, childList: true, characterData: true, attributes: true});
});
"""


def open_app(page: Page, live: LiveIdp, route: str = "login") -> None:
    page.add_init_script(RECORD_BUSY)
    page.goto(f"{live.url}/#/{route}")
    page.locator("h1").first.wait_for()


def busy_states(page: Page) -> list[dict[str, Any]]:
    """Every busy state the page went through: its text, the form's aria-busy, and whether the
    form's submit button was disabled at the time."""
    return list(page.evaluate("window.__busy || []"))


def heading(page: Page) -> str:
    return page.locator("#app h1").first.inner_text()


def register(page: Page, live: LiveIdp, email: str, password: str) -> None:
    """Registration in three steps, ending on the card form."""
    page.goto(f"{live.url}/#/register")
    page.get_by_role("checkbox").check()
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_role("button", name="Получить код").click()
    page.get_by_role("heading", name="Код из письма").wait_for()
    page.get_by_label("Код из письма").fill(live.code_for(email))
    page.get_by_role("button", name="Подтвердить").click()
    page.get_by_role("heading", name="Пароль", exact=True).wait_for()
    page.get_by_label("Новый пароль").fill(password)
    page.get_by_label("Пароль ещё раз").fill(password)
    page.get_by_role("button", name="Создать аккаунт").click()
    page.get_by_role("heading", name="Выпуск карты").wait_for()


def login(page: Page, live: LiveIdp, email: str, password: str) -> None:
    if "#/login" not in page.url:
        page.goto(f"{live.url}/#/login")
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Пароль", exact=True).fill(password)
    page.get_by_role("button", name="Войти").click()


def logout(page: Page) -> None:
    page.locator("#logout").click()
    page.get_by_role("heading", name="Вход").wait_for()


def probe(page: Page) -> dict[str, Any]:
    """What the app's in-memory session holds, through the data-test probe of state.js (which
    reports extractability and exportKey's verdict, never key bytes)."""
    page.evaluate("""() => {
        document.documentElement.setAttribute('data-test', '');
        document.documentElement.removeAttribute('data-test-result');
        document.dispatchEvent(new Event('cardcoop:test-probe'));
    }""")
    page.wait_for_function("document.documentElement.hasAttribute('data-test-result')")
    result: dict[str, Any] = json.loads(
        page.evaluate("document.documentElement.getAttribute('data-test-result')"))
    return result


def fill_fields(page: Page, values: dict[str, str]) -> None:
    """Fill the card form by JSON Pointer ("/details/inn" -> #card-details-inn)."""
    for pointer, value in values.items():
        field = page.locator("#card" + pointer.replace("/", "-"))
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
