"""Webhooks to the network's cooperatives (issue #11), received by a real HTTP server standing
in for MONO's /v1/extensions/cardcoop/webhooks, their signatures checked as MONO checks them
(@wharfkit/antelope recovering the signer from canonicalize's JCS of the parsed body)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from common.db import db, utcnow
from common.outbox import DeliveryReport
from idp.cli import worker_command
from idp.network import webhooks
from idp.network.models import WebhookEvent
from idp.services import services
from tests.idp.mono import mono
from tests.idp.network import COOP, Mono, connected, post
from tests.idp.oauth_flow import card_holder

HOOK = "/v1/extensions/cardcoop/webhooks"


class Cooperative:
    """MONO's webhook endpoint: answers ``down`` with 503 until told otherwise."""

    def __init__(self, server: HTTPServer) -> None:
        self.down = False
        self.received: list[tuple[dict[str, Any], str]] = []
        server.expect_request(HOOK, method="POST").respond_with_handler(self.handle)
        self.url = server.url_for(HOOK)

    def handle(self, request: Request) -> Response:
        if self.down:
            return Response("down", status=503)
        self.received.append((json.loads(request.data),
                              request.headers.get("x-cardcoop-signature", "")))
        return Response('{"accepted":true}', status=201, content_type="application/json")


def deliver(app: Flask, *, at: Any = None) -> DeliveryReport:
    with app.app_context():
        return webhooks.deliver_due(db.session, services().network_keys.current()[1],
                                    max_attempts=8, now=at)


def attested_holder(app: Flask, api: FlaskClient, net: Mono) -> Any:
    holder = card_holder(app, app.test_client())
    card_id = app.test_client().get("/card", headers=holder.bearer).json["card_id"]
    made = post(api, "/v1/attestations", net.document(
        "membership", card_id=card_id, member_since="2025-03-01",
        identity={"kind": "individual", "public": {}, "digests": {}}))
    assert made.status_code == 201, made.json
    return holder, card_id


def test_account_deletion_sends_a_signed_card_deleted(
        network_app: Flask, api: FlaskClient, net: Mono, httpserver: HTTPServer) -> None:
    coop = Cooperative(httpserver)
    connected(api, net, webhooks=coop.url)
    holder, card_id = attested_holder(network_app, api, net)
    deleted = network_app.test_client().post("/auth/delete-account", headers=holder.bearer,
                                             json={"hashKey": holder.member.hash_key})
    assert deleted.status_code == 200
    assert network_app.test_cli_runner().invoke(worker_command, ["--once"]).exit_code == 0

    [(body, signature)] = coop.received
    assert body["event"] == "card.deleted" and body["card_id"] == card_id
    assert body["coopname"] == COOP and body["event_id"] and body["occurred_at"].endswith("Z")
    published = api.get("/v1/webhooks/public-key").json["publicKey"]
    assert mono({"op": "recover", "signature": signature, "body": body})[0]["signer"] == \
        published
    tampered = body | {"card_id": "someone-else"}
    assert mono({"op": "recover", "signature": signature, "body": tampered})[0]["signer"] != \
        published
    with network_app.app_context():
        assert db.session.scalar(select(WebhookEvent.status)) == "sent"


def test_a_cooperative_that_is_down_gets_its_events_later_in_order(
        network_app: Flask, api: FlaskClient, net: Mono, httpserver: HTTPServer) -> None:
    coop = Cooperative(httpserver)
    connected(api, net, webhooks=coop.url)
    with network_app.app_context():
        for n in range(3):
            webhooks.queue(db.session, COOP, "card.deleted", {"card_id": f"card-{n}"})
        db.session.commit()
    coop.down = True
    now = utcnow()
    for minute in range(4):  # retries while it is down: the head only, nothing lost
        report = deliver(network_app, at=now + timedelta(minutes=minute * 10))
        assert report.sent == 0 and report.retried == 1
    coop.down = False
    later = now + timedelta(hours=2)
    for step in range(3):
        assert deliver(network_app, at=later + timedelta(seconds=step)).sent == 1
    assert [body["card_id"] for body, _ in coop.received] == ["card-0", "card-1", "card-2"]
    assert deliver(network_app, at=later + timedelta(minutes=1)).sent == 0
    with network_app.app_context():
        rows = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()
        assert [r.status for r in rows] == ["sent"] * 3
        assert rows[0].attempts == 5 and rows[1].attempts == 1


def test_an_event_of_a_rolled_back_change_is_never_sent(
        network_app: Flask, api: FlaskClient, net: Mono, httpserver: HTTPServer) -> None:
    coop = Cooperative(httpserver)
    connected(api, net, webhooks=coop.url)
    with network_app.app_context():
        webhooks.queue(db.session, COOP, "card.deleted", {"card_id": "x"})
        db.session.rollback()
    assert deliver(network_app).sent == 0 and coop.received == []
