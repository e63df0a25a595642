"""Disclosures between the network's cooperatives (issue #11): a requester asks for a holder's
profile from a source that attested them; the holder allows or refuses in card.coop; the
requester gets ``disclosure.granted`` with a grant that MONO's own check accepts (jose-free
crypto.verify with the JWKS, as disclosure/grant.ts does), or ``disclosure.denied`` /
``disclosure.expired``; the source reports delivery."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from common.db import db, utcnow
from idp.network import disclosures
from idp.network.models import Disclosure
from tests.idp.conftest import mails_to
from tests.idp.mono import mono
from tests.idp.network import COOP, OUTSIDER, Mono, admitted, post
from tests.idp.oauth_flow import card_holder
from tests.idp.test_network_webhooks import Cooperative, deliver

REQUESTER = OUTSIDER  # rodnik asks zelenyisad (the source) for the holder's profile


class Scene:
    def __init__(self, app: Flask, api: FlaskClient, net: Mono, server: HTTPServer) -> None:
        self.app, self.api, self.net = app, api, net
        self.hooks = Cooperative(server)
        for coopname in (COOP, REQUESTER):
            admitted(api, net, coopname)
            done = post(api, "/v1/coops/connect",
                        net.connect_document(coopname, webhooks=self.hooks.url))
            assert done.status_code == 200, done.json
        self.member = app.test_client()
        self.holder = card_holder(app, self.member)
        self.card_id = self.member.get("/card", headers=self.holder.bearer).json["card_id"]
        attested = post(api, "/v1/attestations", net.document(
            "membership", COOP, card_id=self.card_id, member_since="2025-03-01",
            identity={"kind": "individual", "public": {}, "digests": {}}))
        assert attested.status_code == 201, attested.json

    def ask(self, requester: str = REQUESTER, source: str = COOP) -> Any:
        return post(self.api, "/v1/disclosures", self.net.document(
            "disclosure_request", requester, card_id=self.card_id, from_coopname=source))

    def pending(self) -> list[dict[str, Any]]:
        answer = self.member.get("/card/disclosures", headers=self.holder.bearer)
        assert answer.status_code == 200, answer.json
        found: list[dict[str, Any]] = answer.json["disclosures"]
        return found

    def answer(self, disclosure_id: str, verdict: str) -> Any:
        return self.member.post(f"/card/disclosures/{disclosure_id}/{verdict}",
                                headers=self.holder.bearer)

    def events(self) -> list[dict[str, Any]]:
        while deliver(self.app).sent:
            pass
        return [body for body, _ in self.hooks.received]


def scene(network_app: Flask, api: FlaskClient, net: Mono, httpserver: HTTPServer) -> Scene:
    return Scene(network_app, api, net, httpserver)


def test_allowed_disclosure_sends_a_grant_mono_accepts(
        network_app: Flask, api: FlaskClient, net: Mono, httpserver: HTTPServer) -> None:
    s = scene(network_app, api, net, httpserver)
    asked = s.ask()
    assert asked.status_code == 201, asked.json
    disclosure_id = asked.json["id"]
    mail = mails_to(network_app, s.holder.member.email)[-1]
    assert "ПК Зелёный сад" in mail.body and "просит" in mail.body
    [waiting] = s.pending()
    assert (waiting["id"], waiting["requester"], waiting["source"]) == (
        disclosure_id, REQUESTER, COOP)
    again = s.ask()
    assert (again.status_code, again.json["error"]) == (409, "disclosure_pending")

    allowed = s.answer(disclosure_id, "allow")
    assert allowed.status_code == 200 and allowed.json["status"] == "granted"
    assert s.pending() == []
    assert s.answer(disclosure_id, "deny").status_code == 404  # answered once

    [granted] = [e for e in s.events() if e["event"] == "disclosure.granted"]
    assert granted["disclosure_id"] == disclosure_id and granted["from_coopname"] == COOP
    assert granted["from_disclosure_url"].endswith("/v1/extensions/cardcoop/disclosures")
    jwks = api.get("/v1/disclosures/jwks").json
    checked = mono({"op": "verify_grant", "grant": granted["grant"], "jwks": jwks})[0]
    assert "error" not in checked, checked
    claims = checked["claims"]
    assert claims["iss"] == "card.coop" and claims["sub"] == s.card_id
    assert claims["aud"] == REQUESTER and claims["from"] == COOP
    assert claims["jti"] == disclosure_id and 0 < claims["exp"] - claims["iat"] <= 600
    tampered = granted["grant"].split(".")
    tampered[2] = ("B" if tampered[2][0] == "A" else "A") + tampered[2][1:]
    assert "error" in mono({"op": "verify_grant", "grant": ".".join(tampered), "jwks": jwks})[0]

    # The source hands the profile over (directly to the requester) and says so.
    wrong = post(api, "/v1/disclosures/delivered",
                 net.document("disclosure_delivered", REQUESTER, grant_jti=disclosure_id))
    assert (wrong.status_code, wrong.json["error"]) == (404, "unknown_grant")
    done = post(api, "/v1/disclosures/delivered",
                net.document("disclosure_delivered", COOP, grant_jti=disclosure_id))
    assert done.status_code == 200 and done.json["status"] == "delivered"
    with network_app.app_context():
        assert db.session.get(Disclosure, disclosure_id).delivered_at is not None  # type: ignore[union-attr]


def test_a_refused_disclosure_tells_the_requester(
        network_app: Flask, api: FlaskClient, net: Mono, httpserver: HTTPServer) -> None:
    s = scene(network_app, api, net, httpserver)
    disclosure_id = s.ask().json["id"]
    assert s.answer(disclosure_id, "deny").json["status"] == "denied"
    denied = [e for e in s.events() if e["event"] == "disclosure.denied"]
    assert [e["disclosure_id"] for e in denied] == [disclosure_id]
    assert "grant" not in denied[0]


def test_an_unanswered_disclosure_expires_and_the_requester_is_told(
        network_app: Flask, api: FlaskClient, net: Mono, httpserver: HTTPServer) -> None:
    s = scene(network_app, api, net, httpserver)
    disclosure_id = s.ask().json["id"]
    with network_app.app_context():
        assert disclosures.expire_due(utcnow() + timedelta(minutes=9)) == 0
        assert disclosures.expire_due(utcnow() + timedelta(minutes=11)) == 1
        assert disclosures.expire_due(utcnow() + timedelta(minutes=12)) == 0
        assert db.session.scalar(select(Disclosure.status)) == "expired"
    assert s.answer(disclosure_id, "allow").status_code == 404
    assert [e["disclosure_id"] for e in s.events() if e["event"] == "disclosure.expired"] == [
        disclosure_id]
    assert s.ask().status_code == 201  # a new request may follow


def test_only_the_holder_answers_and_only_attested_sources_are_asked(
        network_app: Flask, api: FlaskClient, net: Mono, httpserver: HTTPServer) -> None:
    s = scene(network_app, api, net, httpserver)
    disclosure_id = s.ask().json["id"]
    other = card_holder(network_app, network_app.test_client())
    stranger = network_app.test_client().post(f"/card/disclosures/{disclosure_id}/allow",
                                              headers=other.bearer)
    assert stranger.status_code == 404
    assert network_app.test_client().post(
        f"/card/disclosures/{disclosure_id}/allow").status_code == 401
    # The requester asked a cooperative that never attested the card (itself, another).
    assert s.ask(requester=COOP, source=REQUESTER).json["error"] == "unknown_source"
    assert s.ask(requester=REQUESTER, source=REQUESTER).status_code == 400
    with network_app.app_context():
        assert db.session.scalar(select(Disclosure.status).where(
            Disclosure.id == disclosure_id)) == "pending"
    assert json.dumps(s.pending())  # still waiting for the holder
