"""The consent flow as the member's page drives it, for tests: a cooperative client, a member
with a card and an account there, and the authorization request → share → ticket steps."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cardcoop import crypto
from common.db import db
from idp.oauth import clients
from idp.oauth.models import OAuthClient
from idp.services import services
from tests.idp.conftest import Member, register

SCHEMA = "card.coop/schema/v1"
COOP = "voskhod"
REDIRECT = "https://coop.example/callback"
ORIGIN = "https://coop.example"
PERSONAL = {"person_type": "individual", "last_name": "Иванов", "first_name": "Иван",
            "email": "ivan@example.com"}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


@dataclass
class Coop:
    client_id: str
    secret: str

    @property
    def basic(self) -> dict[str, str]:
        raw = f"{self.client_id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def receive_backchannel_logouts(app: Flask, coop: Coop, httpserver: HTTPServer) -> list[str]:
    """Register a local endpoint as ``coop``'s back-channel logout URI; the logout tokens it
    receives are appended to the returned list."""
    with app.app_context():
        db.session.get(OAuthClient, coop.client_id).backchannel_logout_uri = \
            httpserver.url_for("/backchannel")
        db.session.commit()
    received: list[str] = []

    def handler(request: Request) -> Response:
        received.append(request.form["logout_token"])
        return Response(status=200)

    httpserver.expect_request("/backchannel", method="POST").respond_with_handler(handler)
    return received


def make_client(app: Flask, coopname: str = COOP, **kwargs: Any) -> Coop:
    with app.app_context():
        issued = clients.create(coopname, kwargs.get("redirect_uris", [REDIRECT]),
                                kwargs.get("iframe_origins", [ORIGIN]),
                                kwargs.get("encryption_jwk"), kwargs.get("post_logout"),
                                kwargs.get("id_token_alg", "RS256"))
    return Coop(issued.client_id, issued.secret)


@dataclass
class CardHolder:
    member: Member
    card_key: bytes
    accounts: dict[str, Any] = field(default_factory=dict)

    @property
    def bearer(self) -> dict[str, str]:
        return self.member.bearer


def card_holder(app: Flask, client: FlaskClient, *coopnames: str,
                browser: bool = False) -> CardHolder:
    member = register(app, client, browser=browser)
    card_key = crypto.generate_card_key()
    issued = client.post("/card/issue", headers=member.bearer, json={
        "wrapped_card_key": crypto.wrap_card_key(crypto.generate_card_key(), card_key),
        "encrypted_personal_data": crypto.encrypt_personal_data(card_key, PERSONAL, SCHEMA),
        "meta": {"version": 1, "schema": SCHEMA}})
    assert issued.status_code == 201, issued.json
    holder = CardHolder(member, card_key)
    for coopname in coopnames:
        add_account(client, holder, coopname)
    return holder


def add_account(client: FlaskClient, holder: CardHolder, coopname: str) -> Any:
    account = crypto.new_coop_account(coopname)
    added = client.post("/card/add-account", headers=holder.bearer, json={
        "coopname": coopname, "username": account.username, "public_key": account.public_key,
        "encrypted_account": crypto.encrypt_account(holder.card_key, account)})
    assert added.status_code == 201, added.json
    holder.accounts[coopname] = account
    return account


def auth_request(coopname: str = COOP, *, scope: str = "openid share", challenge: str,
                 redirect_uri: str | None = REDIRECT, **extra: str) -> dict[str, str]:
    params = {"response_type": "code", "client_id": coopname, "scope": scope,
              "state": secrets.token_urlsafe(8), "code_challenge": challenge,
              "code_challenge_method": "S256", **extra}
    if redirect_uri is not None:
        params["redirect_uri"] = redirect_uri
    return params


def share_body(app: Flask, holder: CardHolder, params: dict[str, str],
               data: dict[str, Any] | None = None, recipient: Any = None) -> dict[str, Any]:
    """What the page posts to /access/share-data: the share encrypted to the cooperative."""
    coopname = params["client_id"]
    account = holder.accounts[coopname]
    if recipient is None:
        with app.app_context():
            recipient = services().registry.cooperative(coopname).public_key
    shared = data if data is not None else {"last_name": PERSONAL["last_name"]}
    plaintext = json.dumps({"v": 1, "coopname": coopname, "username": account.username,
                            "public_key": account.public_key, "schema": SCHEMA, "data": shared,
                            "issued_at": "2026-11-27T00:00:00Z"}).encode()
    return {"coopname": coopname, **params, "username": account.username,
            "public_key": account.public_key,
            "encrypted_data": crypto.encrypt_share(recipient, plaintext),
            "shared_fields": sorted(shared)}


def ticket_for(app: Flask, client: FlaskClient, holder: CardHolder, params: dict[str, str],
               **kw: Any) -> str:
    body = share_body(app, holder, params, **kw) if "share" in params["scope"] or \
        "account" in params["scope"] else {"coopname": params["client_id"], **params}
    r = client.post("/access/share-data", headers=holder.bearer, json=body)
    assert r.status_code == 200, r.json
    return str(r.json["ticket"])


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def exchange(client: FlaskClient, coop: Coop, ticket: str, verifier: str,
             redirect_uri: str | None = REDIRECT) -> Any:
    body = {"ticket": ticket, "code_verifier": verifier, "client_id": coop.client_id,
            "client_secret": coop.secret}
    if redirect_uri is not None:
        body["redirect_uri"] = redirect_uri
    return client.post("/access/exchange-ticket", json=body)
