"""Issue #11's proof in one run: a client that plays MONO's cardcoop extension from its published
behaviour (keys, signatures, JCS and JWS made by @wharfkit/antelope, canonicalize and jose in
tests/mono_peer), against a live idp, with the member in Chromium:

announce → connect (twice: same client, fresh secret) → card issued from the cooperative
(/enter, its CoopID) → ``link.created``, its signature checked with the published key →
attestation (twice: one record) → ``memberships`` in an ID token got MONO's way → revoke →
``revoked`` → a disclosure request → the holder allows in Chromium → ``disclosure.granted``
whose grant passes MONO's check against the JWKS → delivered → the account deleted in Chromium →
``card.deleted``."""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from playwright.sync_api import Page, expect
from pytest_httpserver import HTTPServer

from cardcoop import IdpClient
from cardcoop.protocol.encoding import b64u_decode
from idp.oauth import clients
from tests.e2e.conftest import LiveIdp
from tests.e2e.test_sharing import PASSWORD, log_in, member_with_card
from tests.idp.mono import mono
from tests.idp.network import COOP, OPERATOR, OUTSIDER, Mono, admitted
from tests.idp.oauth_flow import pkce
from tests.idp.test_network_entry import CoopId
from tests.idp.test_network_webhooks import Cooperative, deliver

pytestmark = pytest.mark.e2e

SCOPE = "openid profile email cardcoop:card cardcoop:memberships"  # MONO's entry.service.ts


def send(live: LiveIdp, path: str, envelope: dict[str, Any]) -> requests.Response:
    """As MONO's deliverDocument: a JSON POST, no other header, no authentication."""
    return requests.post(live.url + path, data=json.dumps(envelope), timeout=15,
                         headers={"content-type": "application/json"})


def events(live: LiveIdp, hooks: Cooperative, name: str) -> list[tuple[dict[str, Any], str]]:
    while deliver(live.app).sent:
        pass
    return [(body, sig) for body, sig in hooks.received if body["event"] == name]


def mono_sign_in(live: LiveIdp, rp: dict[str, str], email: str, callback: str) -> dict[str, Any]:
    """entry.service.ts: authorize (the member consents; here through the API of a signed-in
    session, the browser parts are tested beside), then a form POST to the token endpoint with
    client_secret_post; the ID token's payload decoded, iss and aud compared as strings."""
    verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": rp["clientId"], "redirect_uri": callback,
              "scope": SCOPE, "state": secrets.token_urlsafe(24), "code_challenge": challenge,
              "code_challenge_method": "S256"}
    assert requests.get(f"{live.url}/application/o/authorize/?{urlencode(params)}",
                        timeout=15).status_code == 200
    with IdpClient(live.url) as idp:
        session = idp.login(email, PASSWORD)
        shared = requests.post(f"{live.url}/access/share-data", timeout=15, json={
            "coopname": rp["clientId"], **params},
            headers={"Authorization": f"Bearer {session.access_token}"})
    assert shared.status_code == 200, shared.text
    code = parse_qs(urlsplit(shared.json()["redirect_to"]).query)["code"][0]
    tokens = requests.post(f"{live.url}/application/o/token/", timeout=15, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": callback,
        "client_id": rp["clientId"], "client_secret": rp["clientSecret"],
        "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    claims: dict[str, Any] = json.loads(b64u_decode(tokens.json()["id_token"].split(".")[1]))
    assert claims["iss"] == rp["issuer"] and claims["aud"] == rp["clientId"]
    return claims


def test_mono_end_to_end(page: Page, network_idp: tuple[LiveIdp, Mono],
                         httpserver: HTTPServer) -> None:
    live, net = network_idp
    hooks = Cooperative(httpserver)
    coopid = CoopId(httpserver, "coopid-secret-" + secrets.token_hex(4))
    api = live.app.test_client()

    # The operator announces itself first, then the two cooperatives.
    for subject in (OPERATOR, COOP, OUTSIDER):
        admitted(api, net, subject)
    connect = {"webhooks": hooks.url, "oidc_issuer": coopid.issuer,
               "oidc_client_secret": coopid.client_secret}
    first = send(live, "/v1/coops/connect", net.connect_document(**connect))
    again = send(live, "/v1/coops/connect", net.connect_document(**connect))
    assert first.status_code == again.status_code == 200, first.text
    rp, rp_again = first.json()["rpClient"], again.json()["rpClient"]
    assert rp["clientId"] == rp_again["clientId"] == COOP
    assert rp["clientSecret"] != rp_again["clientSecret"]
    with live.app.app_context():
        assert not clients.secret_matches(clients.get(COOP), rp["clientSecret"])
    rp = rp_again
    assert send(live, "/v1/coops/connect", net.connect_document(
        OUTSIDER, webhooks=hooks.url)).status_code == 200
    published = requests.get(f"{live.url}/v1/webhooks/public-key", timeout=15).json()["publicKey"]

    # The member follows the cooperative's «выпустить карту» link.
    email, _ = member_with_card(live)
    page.goto(f"{live.url}/enter/{COOP}")
    page.get_by_role("heading", name="Вход").wait_for()
    log_in(page, email)
    expect(page.get_by_text("Карта связана с кооперативом «ПК Зелёный сад».")).to_be_visible()
    [(link, signature)] = events(live, hooks, "link.created")
    assert mono({"op": "recover", "signature": signature, "body": link})[0]["signer"] == published
    assert link["external_subject"] == coopid.subject
    card_id = link["card_id"]

    # MONO attests the membership (twice: a freshly signed copy), then signs the member in.
    identity = {"kind": "individual", "public": {"last_name": "Смирнова", "first_name": "Ольга"},
                "digests": {"phone": "9" * 64}}
    ids = {send(live, "/v1/attestations", net.document(
        "membership", card_id=card_id, member_since="2025-03-01", identity=identity)
        ).json()["id"] for _ in range(2)}
    assert len(ids) == 1
    attestation_id = ids.pop()
    callback = net.connect_document()["payload"]["entry_callback_url"]
    claims = mono_sign_in(live, rp, email, callback)
    assert claims["sub"] == card_id and claims["card_number"] == link["card_number"]
    assert {"coop": "ПК Зелёный сад", "coopname": COOP, "status": "active",
            "member_since": "2025-03-01"} in claims["memberships"]
    assert send(live, f"/v1/attestations/{attestation_id}/revoke", net.document(
        "revocation", attestation_id=attestation_id)).status_code == 200
    revoked = {m["coopname"]: m["status"] for m in mono_sign_in(
        live, rp, email, callback)["memberships"]}
    assert revoked[COOP] == "revoked"

    # Another cooperative asks for the profile; the holder allows in the browser.
    assert send(live, "/v1/attestations", net.document(
        "membership", card_id=card_id, member_since="2025-03-01",
        identity=identity)).json()["id"] == attestation_id  # attested again
    asked = send(live, "/v1/disclosures", net.document(
        "disclosure_request", OUTSIDER, card_id=card_id, from_coopname=COOP))
    assert asked.status_code == 201, asked.text
    page.get_by_role("link", name="Доступы").click()
    page.locator(f'li.disclosure[data-disclosure="{asked.json()["id"]}"]').get_by_role(
        "button", name="Разрешить").click()
    expect(page.get_by_text("«ПК Зелёный сад» передаст ваш профиль")).to_be_visible()
    [(granted, _)] = events(live, hooks, "disclosure.granted")
    jwks = requests.get(f"{live.url}/v1/disclosures/jwks", timeout=15).json()
    checked = mono({"op": "verify_grant", "grant": granted["grant"], "jwks": jwks})[0]
    assert checked["claims"]["jti"] == asked.json()["id"] == granted["disclosure_id"]
    assert (checked["claims"]["aud"], checked["claims"]["from"]) == (OUTSIDER, COOP)
    assert send(live, "/v1/disclosures/delivered", net.document(
        "disclosure_delivered", COOP, grant_jti=asked.json()["id"])).status_code == 200

    # The member deletes the account in the browser: the cooperatives that knew the card hear.
    page.get_by_role("link", name="Безопасность").click()
    section = page.locator("#delete-account")
    section.get_by_label("Я понимаю").check()
    section.get_by_label("Пароль для подтверждения удаления").fill(PASSWORD)
    section.locator("#del-submit").click()
    page.get_by_role("heading", name="Вход").wait_for()
    deleted = events(live, hooks, "card.deleted")
    assert [(body["card_id"], body["coopname"]) for body, _ in deleted] == [(card_id, COOP)]
    assert mono({"op": "recover", "signature": deleted[0][1], "body": deleted[0][0]}
                )[0]["signer"] == published
