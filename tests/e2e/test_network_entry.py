"""A card opened from a cooperative, in Chromium (issue #11): the member follows their
cooperative's «Выпустить карту» link to {idp}/enter/{coopname}, signs in at its CoopID (a stub
that is already signed in), then at card.coop; the card is linked and the cooperative hears
``link.created``."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_httpserver import HTTPServer

from tests.e2e.conftest import LiveIdp
from tests.e2e.test_sharing import log_in, member_with_card
from tests.idp.network import COOP, Mono, admitted, post
from tests.idp.test_network_entry import CoopId
from tests.idp.test_network_webhooks import Cooperative, deliver

pytestmark = pytest.mark.e2e


def test_a_card_opened_from_the_cooperative_is_linked(
        page: Page, network_idp: tuple[LiveIdp, Mono], httpserver: HTTPServer) -> None:
    live, net = network_idp
    api = live.app.test_client()
    coopid = CoopId(httpserver, "coopid-secret")
    hooks = Cooperative(httpserver)
    admitted(api, net)
    assert post(api, "/v1/coops/connect", net.connect_document(
        webhooks=hooks.url, oidc_issuer=coopid.issuer,
        oidc_client_secret=coopid.client_secret)).status_code == 200
    email, _ = member_with_card(live)

    page.goto(f"{live.url}/enter/{COOP}")
    page.get_by_role("heading", name="Вход").wait_for()
    assert "/enter/" not in page.url  # the one-time token left the address bar
    log_in(page, email)
    expect(page.get_by_text("Карта связана с кооперативом «ПК Зелёный сад».")).to_be_visible()
    while deliver(live.app).sent:
        pass
    [event] = [b for b, _ in hooks.received if b["event"] == "link.created"]
    assert event["external_subject"] == coopid.subject and event["coopname"] == COOP
