"""The holder answers a network cooperative's request for their profile in Chromium (issue
#11): the request waits at the top of «Доступы», «Разрешить» sends the requester its grant."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from common.db import db
from idp.card.models import Card
from idp.models import Member
from tests.e2e.conftest import LiveIdp, guide_shot
from tests.e2e.test_sharing import PASSWORD, log_in, member_with_card
from tests.idp.network import COOP, OUTSIDER, Mono, admitted, post
from tests.idp.test_network_webhooks import Cooperative, deliver

pytestmark = pytest.mark.e2e


def test_the_holder_allows_a_disclosure_in_the_browser(
        page: Page, network_idp: tuple[LiveIdp, Mono], httpserver: HTTPServer) -> None:
    live, net = network_idp
    api = live.app.test_client()
    hooks = Cooperative(httpserver)
    for coopname in (COOP, OUTSIDER):
        admitted(api, net, coopname)
        assert post(api, "/v1/coops/connect",
                    net.connect_document(coopname, webhooks=hooks.url)).status_code == 200
    email, _ = member_with_card(live)
    with live.app.app_context():
        card_id = str(db.session.scalar(select(Card.id).join(Member, Member.id == Card.member_id)
                                        .where(Member.email == email)))
    assert post(api, "/v1/attestations", net.document(
        "membership", COOP, card_id=card_id, member_since="2025-03-01",
        identity={"kind": "individual", "public": {}, "digests": {}})).status_code == 201
    asked = post(api, "/v1/disclosures", net.document(
        "disclosure_request", OUTSIDER, card_id=card_id, from_coopname=COOP))
    assert asked.status_code == 201

    page.goto(f"{live.url}/#/login")
    log_in(page, email)
    page.get_by_role("heading", name="Моя карта").wait_for()
    page.get_by_role("link", name="Доступы").click()
    request = page.locator(f'li.disclosure[data-disclosure="{asked.json["id"]}"]')
    expect(request).to_contain_text(
        "«ПК Родник» просит «ПК Зелёный сад» передать ему ваш профиль пайщика.")
    expect(page.get_by_role("heading", name="Запросы вашего профиля")).to_be_visible()
    guide_shot(page, "disclosure-request")
    request.get_by_role("button", name="Разрешить").click()
    expect(page.get_by_text("«ПК Зелёный сад» передаст ваш профиль кооперативу «ПК Родник».")
           ).to_be_visible()
    expect(page.locator("li.disclosure")).to_have_count(0)
    while deliver(live.app).sent:
        pass
    granted = [body for body, _ in hooks.received if body["event"] == "disclosure.granted"]
    assert [g["disclosure_id"] for g in granted] == [asked.json["id"]]
    assert PASSWORD not in page.content()
