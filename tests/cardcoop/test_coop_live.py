"""The SDK's cooperative side against a real idp over HTTP: exchange the ticket, verify the ID
token, fetch and decrypt the share, revoke; and RP-initiated logout with the ID token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import pytest
from flask import Flask

from cardcoop.coop import CoopClient, new_pkce
from cardcoop.errors import BadRequest, Unauthorized
from idp.services import services
from tests.idp.oauth_flow import (
    COOP,
    REDIRECT,
    CardHolder,
    Coop,
    auth_request,
    card_holder,
    make_client,
    ticket_for,
)
from tests.live import free_port, serving


@dataclass
class Setting:
    app: Flask
    url: str
    coop: Coop
    holder: CardHolder


@pytest.fixture
def live(make_app: Callable[..., Flask]) -> Iterator[Setting]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = make_app(idp_url=url)  # the issuer is the URL the cooperative talks to
    client = app.test_client()
    coop = make_client(app, post_logout=["https://coop.example/"])
    holder = card_holder(app, client, COOP)
    with serving(app, port):
        yield Setting(app, url, coop, holder)


def test_sdk_exchanges_fetches_decrypts_and_revokes(live: Setting) -> None:
    verifier, challenge = new_pkce()
    ticket = ticket_for(live.app, live.app.test_client(), live.holder,
                        auth_request(challenge=challenge, nonce="n-0S6_WzA2Mj"))
    with live.app.app_context():
        private_key = services().registry.private_key(COOP)
    with CoopClient(live.url, COOP, live.coop.secret) as sdk:
        tokens = sdk.exchange_ticket(ticket, verifier, REDIRECT)
        assert tokens.coopname == COOP
        assert tokens.username == live.holder.accounts[COOP].username
        assert tokens.id_token is not None
        claims = sdk.verify_id_token(tokens.id_token, nonce="n-0S6_WzA2Mj")
        assert claims["aud"] == COOP and claims["iss"] == live.url
        shared = sdk.get_encrypted_data(tokens)
        plain = sdk.decrypt(shared, private_key)
        assert plain.data == {"last_name": "Иванов"}
        with pytest.raises(BadRequest):  # the ticket is spent
            sdk.exchange_ticket(ticket, verifier, REDIRECT)
        with pytest.raises(Unauthorized):  # ... and its replay revoked the token
            sdk.get_encrypted_data(tokens)


def test_sdk_revocation_stops_the_token(live: Setting) -> None:
    verifier, challenge = new_pkce()
    ticket = ticket_for(live.app, live.app.test_client(), live.holder,
                        auth_request(challenge=challenge))
    with CoopClient(live.url, COOP, live.coop.secret) as sdk:
        tokens = sdk.exchange_ticket(ticket, verifier, REDIRECT)
        sdk.get_encrypted_data(tokens)
        sdk.revoke(tokens.access_token)
        with pytest.raises(Unauthorized):
            sdk.get_encrypted_data(tokens)


def test_rp_initiated_logout_closes_the_consenting_session(live: Setting) -> None:
    verifier, challenge = new_pkce()
    client = live.app.test_client()
    ticket = ticket_for(live.app, client, live.holder,
                        auth_request(challenge=challenge, scope="openid email"))
    with CoopClient(live.url, COOP, live.coop.secret) as sdk:
        id_token = sdk.exchange_ticket(ticket, verifier, REDIRECT).id_token
    assert id_token
    assert client.get("/card", headers=live.holder.bearer).status_code == 200
    # A foreign post-logout URI is never followed, and ends nothing without a valid hint.
    query = {"id_token_hint": id_token, "post_logout_redirect_uri": "https://evil.example/",
             "state": "s1"}
    r = httpx.get(f"{live.url}/oauth/logout?{urlencode(query)}")
    assert r.status_code == 200 and "evil" not in r.headers.get("Location", "")
    assert client.get("/card", headers=live.holder.bearer).status_code == 401  # hint was valid
    query["post_logout_redirect_uri"] = "https://coop.example/"
    r = httpx.get(f"{live.url}/oauth/logout?{urlencode(query)}")
    assert r.status_code == 302 and r.headers["Location"] == "https://coop.example/?state=s1"
    forged = id_token[:-4] + ("AAAA" if not id_token.endswith("AAAA") else "BBBB")
    r = httpx.get(f"{live.url}/oauth/logout?{urlencode({'id_token_hint': forged})}")
    assert r.status_code == 400


def test_a_members_own_access_token_is_no_logout_hint(live: Setting) -> None:
    member_token = live.holder.bearer["Authorization"].split()[1]
    r = httpx.get(f"{live.url}/oauth/logout?{urlencode({'id_token_hint': member_token})}")
    assert r.status_code in {200, 400}
    client = live.app.test_client()
    assert client.get("/card", headers=live.holder.bearer).status_code == 200
