"""Fixtures that walk the real HTTP flows: the code is read from the development mailbox after
the outbox worker delivered it, as a member would read it from their inbox."""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from common.db import db
from common.outbox import deliver_due
from idp.models import DevMail, Outbox
from idp.notifications import build_notifiers
from idp.services import services
from tests.conftest import random_email


def new_hash_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def run_worker(app: Flask) -> None:
    with app.app_context():
        deliver_due(db.session, Outbox, build_notifiers(services().settings), max_attempts=3)


def mails_to(app: Flask, email: str) -> list[DevMail]:
    run_worker(app)
    with app.app_context():
        rows = db.session.query(DevMail).filter_by(to_email=email).order_by(DevMail.id).all()
        db.session.expunge_all()
        return rows


def last_code(app: Flask, email: str) -> str:
    codes = [m for m in mails_to(app, email) if re.search(r"\b\d{6}\b", m.subject)]
    assert codes, f"no code mailed to {email}"
    match = re.search(r"\b(\d{6})\b", codes[-1].subject)
    assert match
    return match.group(1)


@dataclass
class Member:
    email: str
    hash_key: str
    tokens: dict[str, Any]

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['accessToken']}"}


def register(app: Flask, client: FlaskClient, email: str | None = None,
             hash_key: str | None = None) -> Member:
    email = email or random_email()
    hash_key = hash_key or new_hash_key()
    started = client.post("/auth/initiate-registration",
                          json={"email": email, "privacy_accepted": True})
    assert started.status_code == 200, started.json
    uuid = started.json["uuid"]
    verified = client.post("/auth/verify-email",
                           json={"email": email, "code": last_code(app, email), "uuid": uuid})
    assert verified.status_code == 200, verified.json
    done = client.post("/auth/complete-registration",
                       json={"email": email, "hashKey": hash_key, "uuid": uuid})
    assert done.status_code == 201, done.json
    return Member(email, hash_key, done.json)


def login(client: FlaskClient, email: str, hash_key: str, **headers: str) -> Any:
    started = client.post("/auth/initiate-login", json={"email": email}, headers=headers)
    assert started.status_code == 200, started.json
    return client.post("/auth/complete-login", headers=headers,
                       json={"email": email, "hashKey": hash_key, "uuid": started.json["uuid"]})


@pytest.fixture
def member(app: Flask, client: FlaskClient) -> Member:
    return register(app, client)
