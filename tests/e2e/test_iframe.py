"""The iframe method, compact (issue #9), in Chromium: framed, the consent page shows no idp menu,
fits a 390 px phone and tells widget.js its height, so the frame grows with its content and
never scrolls inside; a frame idp refuses (unregistered origin) calls the cooperative's onError;
"not a member yet" reaches the cooperative as such, apart from a refusal."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask, request
from playwright.sync_api import Browser, BrowserContext, Frame, Page, expect

from cardcoop.coop import new_pkce
from idp.oauth import clients
from tests.e2e.conftest import LiveIdp
from tests.e2e.test_accessibility import axe_violations, describe
from tests.e2e.test_sharing import (  # noqa: F401 (the demo cooperative's fixture)
    SHARE,
    CoopSite,
    coop_site,
    log_in,
    member_with_card,
)
from tests.live import free_port, serving

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
# CARDCOOP_SHOTS=/tmp/shots: also save screenshots of the framed screens (for a person to look at).
SHOTS = os.environ.get("CARDCOOP_SHOTS")


def shot(page: Page, name: str) -> None:
    if SHOTS:
        # A viewport as tall as the page: a full-page shot leaves a cross-site frame unpainted
        # below the first screen.
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        size = page.viewport_size
        assert size is not None
        page.set_viewport_size({"width": size["width"],
                                "height": page.evaluate("document.documentElement.scrollHeight")})
        page.wait_for_timeout(300)
        page.screenshot(path=f"{SHOTS}/{name}.png")
        page.set_viewport_size(size)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    # bypass_csp: axe-core arrives as an inline script (the frame's own CSP forbids those).
    context: BrowserContext = browser.new_context(viewport=PHONE, locale="ru-RU",
                                                  device_scale_factor=1, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def idp_frame(page: Page, live: LiveIdp) -> Frame:
    page.locator("iframe.cardcoop-frame").wait_for()
    for _ in range(100):
        found = [f for f in page.frames if f.url.startswith(live.url)]
        if found:
            return found[0]
        page.wait_for_timeout(100)
    raise AssertionError("no idp frame")


def frame_box_height(page: Page) -> float:
    box = page.locator("iframe.cardcoop-frame").bounding_box()
    assert box is not None
    return float(box["height"])


def assert_fits(page: Page, frame: Frame) -> None:
    """The iframe is as tall as the framed document, which neither scrolls nor overflows."""
    def measure() -> dict[str, int]:
        return dict(frame.evaluate("""() => {
            const e = document.documentElement;
            return {content: Math.ceil(e.getBoundingClientRect().height), scrollH: e.scrollHeight,
                    clientH: e.clientHeight, scrollW: e.scrollWidth, clientW: e.clientWidth};
        }"""))

    def fits(m: dict[str, int]) -> bool:
        return abs(frame_box_height(page) - m["content"]) <= 1 and m["scrollH"] <= m["clientH"]

    # The content may still be rendering, the resize message is asynchronous, and the frame
    # (another site: another process) takes its new size a moment later.
    metrics = measure()
    for _ in range(50):
        if fits(metrics):
            break
        page.wait_for_timeout(100)
        metrics = measure()
    assert abs(frame_box_height(page) - metrics["content"]) <= 1, (frame_box_height(page), metrics)
    assert metrics["scrollH"] <= metrics["clientH"], metrics  # no inner vertical scroll
    assert metrics["scrollW"] <= metrics["clientW"], metrics  # fits the width


def assert_accessible(frame: Frame) -> None:
    violations = axe_violations(frame)  # type: ignore[arg-type]  (a Frame has the same API)
    assert violations == [], describe(violations)


def test_framed_consent_on_a_phone_has_no_menu_and_grows_without_inner_scroll(
        phone: Page, live_idp: LiveIdp, coop_site: CoopSite) -> None:  # noqa: F811
    page = phone
    email, _ = member_with_card(live_idp, join="voskhod")
    page.goto(f"{coop_site.url}/iframe?scope={SHARE.replace(' ', '+')}")
    frame = idp_frame(page, live_idp)
    frame.get_by_label("Электронная почта").wait_for()
    assert frame.evaluate("document.documentElement.dataset.framed") == "true"
    assert_fits(page, frame)
    login_height = frame_box_height(page)
    shot(page, "framed-login-390-ru")
    log_in(frame, email)
    expect(frame.locator(".consent-coop")).to_have_text("ПК ВОСХОД")
    expect(frame.locator('input[name="share-field"]').first).to_be_visible()
    # No idp menu: neither the header, the navigation, who is logged in nor log out.
    for selector in ("header.top", "nav.app-nav", ".who", "#logout"):
        assert not frame.locator(selector).is_visible(), selector
    # The consent with the card's values is taller than the login form, and the frame followed
    # it past widget.js's initial 640 px.
    assert_fits(page, frame)
    assert frame_box_height(page) > max(login_height, 640)
    # The cooperative's page itself scrolls; the frame never does.
    assert page.evaluate("document.documentElement.scrollHeight") > PHONE["height"]
    assert_accessible(frame)
    shot(page, "framed-consent-390-ru")
    # A change of content (the language) is followed too.
    frame.locator(".lang-btn[lang=en]").click()
    expect(frame.locator("#consent-share")).to_have_text(re.compile("Share"))
    assert_fits(page, frame)
    shot(page, "framed-consent-390-en")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert_fits(page, frame)
    shot(page, "framed-consent-1280-en")
    frame.locator(".lang-btn[lang=ru]").click()
    assert_fits(page, frame)
    shot(page, "framed-consent-1280-ru")


@dataclass
class SmallCoop:
    registered: str
    unregistered: str


@pytest.fixture
def small_coop(live_idp: LiveIdp) -> Iterator[SmallCoop]:
    """A cooperative's bare page with widget.js, served on two origins of which only the first
    is registered for the client: what onError receives is written into the page."""
    good, bad = free_port(), free_port()
    registered = f"http://localhost:{good}"
    with live_idp.app.app_context():
        clients.create("voskhod", [f"{registered}/callback"], [registered])
    site = Flask("small_coop")

    @site.get("/")
    def embed() -> str:
        _, challenge = new_pkce()
        state = request.args.get("state", "st-1")
        return f"""<!doctype html><meta charset="utf-8"><title>coop</title>
<div id="box"></div><p id="result"></p>
<script src="{live_idp.url}/widget.js"></script>
<script>
  CardCoop.open({{clientId: 'voskhod', scope: 'openid share', state: '{state}',
    codeChallenge: '{challenge}', container: '#box',
    onTicket: function (t) {{ document.body.dataset.ticket = t.ticket; }},
    onError: function (e) {{ document.body.dataset.error = e.error;
      document.body.dataset.errorState = e.state; }}}});
</script>"""

    with serving(site, good), serving(site, bad):
        yield SmallCoop(registered, f"http://localhost:{bad}")


def test_a_refused_frame_calls_on_error_not_a_blank_box(page: Page, live_idp: LiveIdp,
                                                        small_coop: SmallCoop) -> None:
    page.goto(f"{small_coop.unregistered}/?state=st-refused")
    expect(page.locator("body")).to_have_attribute("data-error", "frame_refused", timeout=10_000)
    assert page.evaluate("document.body.dataset.errorState") == "st-refused"
    # The same page on the registered origin opens the consent page: no error, and the frame
    # took the height the page reported.
    page.goto(f"{small_coop.registered}/?state=st-ok")
    frame = idp_frame(page, live_idp)
    frame.get_by_label("Электронная почта").wait_for()
    page.wait_for_timeout(2500)  # past widget.js's grace period
    assert page.evaluate("document.body.dataset.error") is None
    assert_fits(page, frame)


def test_a_bare_frame_of_idp_outside_widget_js_posts_nothing_anywhere(
        page: Page, live_idp: LiveIdp, small_coop: SmallCoop) -> None:
    """Opened at the top level (not framed) the iframe-mode page is not marked framed and
    posts no message (there is no parent to post to)."""
    _, challenge = new_pkce()
    page.goto(f"{live_idp.url}/oauth/authorize?response_type=code&client_id=voskhod"
              f"&scope=openid&state=s&code_challenge={challenge}&code_challenge_method=S256"
              f"&origin={small_coop.registered}")
    page.get_by_label("Электронная почта").wait_for()
    assert page.evaluate("document.documentElement.dataset.framed") is None
    expect(page.locator("#app-bar")).to_be_visible()


def test_not_a_member_goes_back_as_such_in_the_frame(
        phone: Page, live_idp: LiveIdp, coop_site: CoopSite) -> None:  # noqa: F811
    page = phone
    email, _ = member_with_card(live_idp)  # a card, but no account in the cooperative
    page.goto(f"{coop_site.url}/iframe?scope={SHARE.replace(' ', '+')}")
    frame = idp_frame(page, live_idp)
    log_in(frame, email)
    back = frame.locator("#consent-not-member-back")
    expect(back).to_have_text("Вернуться в кооператив")
    expect(frame.locator(".consent-not-member")).to_be_visible()
    assert_fits(page, frame)
    assert_accessible(frame)
    shot(page, "framed-not-member-390-ru")
    back.click()
    # The cooperative heard "not a member yet" (not "refused") and offers joining.
    expect(page.locator("#error-code")).to_have_text("not_a_member")
    expect(page.locator("#join-link")).to_be_visible()
    assert page.url.startswith(coop_site.url)


def test_not_a_member_and_a_refusal_by_redirect(page: Page, live_idp: LiveIdp,
                                                coop_site: CoopSite) -> None:  # noqa: F811
    email, _ = member_with_card(live_idp)
    page.goto(f"{coop_site.url}/start?method=redirect&scope={SHARE.replace(' ', '+')}")
    log_in(page, email)
    page.locator(".lang-btn[lang=en]").click()
    expect(page.locator("#consent-not-member-back")).to_have_text("Back to the cooperative")
    shot(page, "not-member-1280-en")
    page.locator("#consent-not-member-back").click()
    expect(page.locator("#error-code")).to_have_text("not_a_member")
    assert "cardcoop_reason=not_a_member" in page.url
