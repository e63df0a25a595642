"""The three kinds of credentials of the API reference, obtained over HTTP from a live idp the way
their owners get them: a member registers (the code read from the development mailbox), issues a
card and adds an account in the cooperative; the cooperative (an OAuth client registered beside
the server) gets a ticket by the member's consent and exchanges it for its access token.

Only ``requests`` and the SDK's protocol module are used, so the same steps work against any
build of idp that serves these endpoints (the "before" measurement of issue #8 ran them against
an older tree)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from cardcoop import crypto

COOP = "voskhod"  # a cooperative of the sandbox registry (open membership)
# Registered for the client, never requested: the fuzzer does not follow redirects.
REDIRECT = "https://coop.example/callback"
SCHEMA = "card.coop/schema/v1"
PERSONAL = {"person_type": "individual", "last_name": "Иванов", "first_name": "Иван",
            "email": "ivan@example.com"}
TIMEOUT = 30


@dataclass(frozen=True)
class Credentials:
    member_token: str  # security scheme "bearer"
    client_id: str  # "clientAuth" (HTTP Basic)
    client_secret: str
    coop_token: str  # "coopToken"
    username: str  # the member's account in the cooperative (a valid path value)
    email: str

    def as_env(self) -> dict[str, str]:
        """For the schemathesis configuration, which reads them from ``${FUZZ_*}``."""
        return {"FUZZ_MEMBER_TOKEN": self.member_token, "FUZZ_CLIENT_ID": self.client_id,
                "FUZZ_CLIENT_SECRET": self.client_secret, "FUZZ_COOP_TOKEN": self.coop_token}


class Api:
    """JSON calls to one idp, each checked for the status it must answer."""

    def __init__(self, base_url: str) -> None:
        assert base_url.startswith("http://127.0.0.1:"), base_url  # loopback only
        self.base_url = base_url
        self.http = requests.Session()

    def call(self, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        response = self.http.request(method, self.base_url + path, timeout=TIMEOUT,
                                     allow_redirects=False, **kwargs)
        assert response.status_code == expect, (method, path, response.status_code,
                                                response.text[:500])
        return response.json() if response.content else None


def obtain(base_url: str, deliver_mail: Callable[[], None],
           register_client: Callable[[str, str], tuple[str, str]]) -> Credentials:
    """``deliver_mail()`` runs the outbox worker once; ``register_client(coopname,
    redirect_uri)`` registers an OAuth client and returns (client_id, client_secret)."""
    api = Api(base_url)
    email = f"fuzz-{secrets.token_hex(6)}@example.com"
    member_token = _register(api, email, deliver_mail)
    bearer = {"Authorization": f"Bearer {member_token}"}
    card_key = crypto.generate_card_key()
    api.call("POST", "/card/issue", 201, headers=bearer, json={
        "wrapped_card_key": crypto.wrap_card_key(crypto.generate_card_key(), card_key),
        "encrypted_personal_data": crypto.encrypt_personal_data(card_key, PERSONAL, SCHEMA),
        "meta": {"version": 1, "schema": SCHEMA}})
    account = crypto.new_coop_account(COOP)
    api.call("POST", "/card/add-account", 201, headers=bearer, json={
        "coopname": COOP, "username": account.username, "public_key": account.public_key,
        "encrypted_account": crypto.encrypt_account(card_key, account)})

    client_id, client_secret = register_client(COOP, REDIRECT)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
              "scope": "openid email share", "state": secrets.token_urlsafe(8),
              "code_challenge": challenge.rstrip(b"=").decode(),
              "code_challenge_method": "S256"}
    prepared = api.call("POST", "/access/prepare-share-data", 200, headers=bearer,
                        json={"coopname": COOP, **params})
    shared = {"last_name": PERSONAL["last_name"]}
    plaintext = json.dumps({"v": 1, "coopname": COOP, "username": account.username,
                            "public_key": account.public_key, "schema": SCHEMA, "data": shared,
                            "issued_at": "2026-11-27T00:00:00Z"}).encode()
    ticket = api.call("POST", "/access/share-data", 200, headers=bearer, json={
        "coopname": COOP, **params, "username": account.username,
        "public_key": account.public_key,
        "encrypted_data": crypto.encrypt_share(prepared["encryption_jwk"], plaintext),
        "shared_fields": sorted(shared)})["ticket"]
    token = api.call("POST", "/access/exchange-ticket", 200, json={
        "ticket": ticket, "code_verifier": verifier, "redirect_uri": REDIRECT,
        "client_id": client_id, "client_secret": client_secret})
    return Credentials(member_token, client_id, client_secret, token["access_token"],
                       account.username, email)


def _register(api: Api, email: str, deliver_mail: Callable[[], None]) -> str:
    started = api.call("POST", "/auth/initiate-registration", 200,
                       json={"email": email, "privacy_accepted": True})
    code = _mailed_code(api, email, deliver_mail)
    api.call("POST", "/auth/verify-email", 200,
             json={"email": email, "code": code, "uuid": started["uuid"]})
    hash_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    done = api.call("POST", "/auth/complete-registration", 201,
                    json={"email": email, "hashKey": hash_key, "uuid": started["uuid"]})
    return str(done["accessToken"])


def _mailed_code(api: Api, email: str, deliver_mail: Callable[[], None]) -> str:
    for _ in range(20):  # the worker may need a moment to see the outbox row
        deliver_mail()
        mails = api.call("GET", "/dev/mailbox.json", 200, params={"to": email})["messages"]
        for mail in mails:
            if found := re.search(r"\b(\d{6})\b", mail["subject"]):
                return found.group(1)
        time.sleep(0.5)
    raise AssertionError(f"no code mailed to {email}")
