"""``POST /notifications`` (issue #12): card.coop's own apps have idp mail a member by card id;
cooperatives and strangers cannot; a retried request sends nothing twice."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from common.db import db
from idp.card.models import Card
from idp.models import Outbox
from idp.oauth import clients
from tests.idp.oauth_flow import COOP, card_holder, make_client
from tests.idp.test_first_party import basic

PARAMS = {"coop": "ПК ВОСХОД", "coopname": "voskhod", "opens": "5 декабря, 09:00 (МСК)",
          "questions": "3", "at": "2026-12-02T10:00:00Z"}


def card_id(app: Flask, holder_email: str) -> str:
    with app.app_context():
        from idp.models import Member

        member = db.session.scalar(select(Member).where(Member.email == holder_email))
        return str(db.session.scalar(select(Card.id).where(Card.member_id == member.id)))


def outbox_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Outbox).where(
            Outbox.kind == "meeting_reminder")) or 0)


def test_an_app_relays_once_per_key_and_nobody_else_may(app: Flask, client: FlaskClient) -> None:
    holder = card_holder(app, client)
    sub = card_id(app, holder.member.email)
    with app.app_context():
        secret = clients.create_first_party("portal", ["http://127.0.0.1:8001/auth/callback"],
                                            [], [], None).secret
    coop = make_client(app, COOP)
    body = {"sub": sub, "kind": "meeting_reminder", "params": PARAMS,
            "idempotency_key": "portal_outbox-1"}
    first = client.post("/notifications", json=body, headers=basic(secret))
    assert first.status_code == 202 and first.json == {"accepted": True, "duplicate": False}
    again = client.post("/notifications", json=body, headers=basic(secret))
    assert again.json["duplicate"] is True
    assert outbox_count(app) == 1  # one message, whatever the channels
    with app.app_context():
        row = db.session.scalars(select(Outbox).where(Outbox.kind == "meeting_reminder")).one()
        assert row.to_email == holder.member.email and row.subscriber_id == sub
    refused = {
        "no credentials": ({}, 401),
        "wrong secret": (basic("wrong"), 401),
        "a cooperative": (basic(coop.secret, COOP), 403),
        "garbage": ({"Authorization": "Basic %%%"}, 401),
    }
    for name, (headers, status) in refused.items():
        answer = client.post("/notifications", json=body | {"idempotency_key": "k-" + "x" * 9},
                             headers=headers)
        assert answer.status_code == status, name
    bad_bodies = [body | {"kind": "registration_code"}, body | {"kind": "nope"},
                  body | {"params": {"coop": "x"}}, body | {"sub": "not-a-uuid"},
                  body | {"params": PARAMS | {"coop": "x" * 300}},
                  body | {"idempotency_key": "bad key!"}, body | {"params": "x"},
                  {k: v for k, v in body.items() if k != "sub"}]
    for bad in bad_bodies:
        answer = client.post("/notifications", json=bad, headers=basic(secret))
        assert answer.status_code == 400, bad
    unknown = client.post("/notifications", headers=basic(secret), json=body | {
        "sub": "00000000-0000-4000-8000-000000000000", "idempotency_key": "portal_outbox-2"})
    assert unknown.status_code == 404
    assert outbox_count(app) == 1
