"""Fixtures that walk the real HTTP flows: the code is read from the development mailbox after
the outbox worker delivered it, as a member would read it from their inbox."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from common.db import db, utcnow
from common.outbox import deliver_due
from idp import privacy
from idp.models import DevMail, Outbox
from idp.models import Member as MemberRow
from idp.notifications import build_notifiers
from idp.services import services
from tests.conftest import random_email
from tests.idp.network import CHAIN_ID, Mono


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


def forget_session_cookie(client: FlaskClient) -> None:
    """Behave like an API client, which keeps no cookies: tests that register several members
    on one test client would otherwise be one browser, where each login ends the last one's
    session (issue #9). The browser behaviour is tested with ``browser=True``."""
    for name in ("cardcoop_session", "__Host-cardcoop_session"):
        client.delete_cookie(name)


def register(app: Flask, client: FlaskClient, email: str | None = None,
             hash_key: str | None = None, *, browser: bool = False) -> Member:
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
    if not browser:
        forget_session_cookie(client)
    return Member(email, hash_key, done.json)


def login(client: FlaskClient, email: str, hash_key: str, *, browser: bool = False,
          **headers: str) -> Any:
    started = client.post("/auth/initiate-login", json={"email": email}, headers=headers)
    assert started.status_code == 200, started.json
    done = client.post("/auth/complete-login", headers=headers,
                       json={"email": email, "hashKey": hash_key, "uuid": started.json["uuid"]})
    if not browser:
        forget_session_cookie(client)
    return done


@pytest.fixture
def member(app: Flask, client: FlaskClient) -> Member:
    return register(app, client)


def v1_0_hash_key(password: str, stored_email: str, server_salt: str, iterations: int) -> str:
    """hashKey as a v1.0 client derived it (PROTOCOL §2): the PBKDF2 salt is the address as
    v1.0 stored it (`strip().lower()`, whatever its Unicode form)."""
    salt = base64.urlsafe_b64decode(server_salt + "=" * (-len(server_salt) % 4))
    master = hashlib.pbkdf2_hmac("sha256", unicodedata.normalize("NFKC", password).encode(),
                                 stored_email.encode(), iterations, dklen=32)
    hash_key = hashlib.pbkdf2_hmac("sha256", master, salt, 1000, dklen=32)
    return base64.urlsafe_b64encode(hash_key).rstrip(b"=").decode()


def insert_v1_0_member(app: Flask, email: str, kdf_email: str | None, password: str) -> str:
    """A member as migration 0006 leaves one registered under the v1.0 email rule: `email`
    canonical, `kdf_email` the stored form its keys were derived with (None: the same). The row
    is written directly, as no v1.1 endpoint can make it. Returns the member's serverSalt."""
    server_salt = base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()
    with app.app_context():
        ctx = services()
        hash_key = v1_0_hash_key(password, kdf_email or email, server_salt,
                                 ctx.settings.kdf_iterations)
        db.session.add(MemberRow(
            email=email, kdf_email=kdf_email, server_salt=server_salt,
            kdf_iterations=ctx.settings.kdf_iterations,
            verifier=ctx.verifier.make(base64.urlsafe_b64decode(hash_key + "=")),
            privacy_version=privacy.VERSION, privacy_accepted_at=utcnow()))
        db.session.commit()
    return server_salt


# --- the ВОСХОД network (issue #11) ------------------------------------------------------------

@pytest.fixture(scope="module")
def net() -> Mono:
    """The network's keys and endorsements, made once per module (node runs take a while)."""
    return Mono()


@pytest.fixture
def network_app(make_app: Callable[..., Flask], net: Mono) -> Flask:
    return make_app(network_chain_id=CHAIN_ID, network_trust_anchor=net.ano["public"])


@pytest.fixture
def api(network_app: Flask) -> FlaskClient:
    """The network's cooperatives calling idp."""
    return network_app.test_client()

