"""The portal against a live idp (issue #12): both served on 127.0.0.1 (each its own port, so
each its own origin, as in production), sharing the test database; the portal registered at
idp as its first-party client, as ``make run`` does it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from flask import Flask
from pytest_httpserver import HTTPServer

from cardcoop import CardSession, IdpClient
from common.security import ClientInfo
from idp.auth.cookie import PLAIN_NAME as IDP_COOKIE
from idp.auth.sessions import open_session
from idp.models import Member
from idp.oauth import clients
from idp.services import services as idp_services
from tests.common.voskhod.chainstub import GET_ABI, GET_ACCOUNT, GET_TABLE_ROWS, FakeChain
from tests.common.voskhod.historystub import GET_ACTIONS as HISTORY_ACTIONS
from tests.common.voskhod.historystub import GET_TRANSACTION as HISTORY_TRANSACTION
from tests.common.voskhod.historystub import FakeHistory
from tests.conftest import random_email
from tests.e2e.conftest import LiveIdp
from tests.e2e.conftest import live_idp as live_idp  # the fixture, for the portal's tests
from tests.live import free_port, serving

PASSWORD = "пароль для портала пайщика"
CARD = {"person_type": "individual", "last_name": "Соколова", "first_name": "Анна",
        "birthdate": "1986-05-17", "email": "anna.sokolova@example.ru"}


@dataclass
class LivePortal:
    app: Flask
    url: str
    idp: LiveIdp


@pytest.fixture
def live_portal(live_idp: LiveIdp, make_portal: Callable[..., Flask]) -> Iterator[LivePortal]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with live_idp.app.app_context():
        issued = clients.create_first_party(
            "portal", [f"{url}/auth/callback"], [url], [f"{url}/"],
            f"{url}/auth/backchannel-logout")
    app = make_portal(idp_url=live_idp.url, portal_url=url,
                      portal_client_secret=issued.secret)
    with serving(app, port):
        yield LivePortal(app, url, live_idp)


def member_with_card(live: LiveIdp, card: dict[str, Any] | None = None) -> str:
    email = random_email("portal")
    with IdpClient(live.url) as client:
        CardSession(client.register(email, PASSWORD, live.code_for)).issue_card(card or CARD)
    return email


def signed_in_browser(live: LiveIdp, email: str, *,
                      user_agent: str = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 "
                                        "Safari/537.36") -> httpx.Client:
    """An HTTP client holding an idp browser session (as after a login in the page): the
    session is opened the way the login opens it, and its cookie put in the jar."""
    from sqlalchemy import select

    from common.db import db

    with live.app.app_context():
        member = db.session.scalar(select(Member).where(Member.email == email))
        assert member is not None
        tokens = open_session(idp_services(), member.id, ClientInfo("127.0.0.1", user_agent))
        db.session.commit()
    browser = httpx.Client(follow_redirects=True, timeout=20,
                           headers={"User-Agent": user_agent})
    browser.cookies.set(IDP_COOKIE, tokens.cookie or "", domain="127.0.0.1")
    return browser


@dataclass
class ChainSetup:
    portal: LivePortal
    chain: FakeChain
    history: FakeHistory


@pytest.fixture
def chain(httpserver: HTTPServer) -> FakeChain:
    """The ВОСХОД chain as nodeos answers (tests/common/voskhod/chainstub.py), with two
    cooperatives."""
    fake = FakeChain()
    httpserver.expect_request(GET_TABLE_ROWS, method="POST").respond_with_handler(
        fake.get_table_rows)
    httpserver.expect_request(GET_ACCOUNT, method="POST").respond_with_handler(fake.get_account)
    httpserver.expect_request(GET_ABI, method="POST").respond_with_handler(fake.get_abi)
    fake.add_cooperative("voskhod", "ПК ВОСХОД")
    fake.add_cooperative("zelenyisad", "ПК Зелёный сад")
    return fake


@pytest.fixture
def history(httpserver: HTTPServer) -> FakeHistory:
    """A Hyperion history node of the same chain (tests/common/voskhod/historystub.py)."""
    fake = FakeHistory()
    httpserver.expect_request(HISTORY_ACTIONS, method="GET").respond_with_handler(
        fake.get_actions)
    httpserver.expect_request(HISTORY_TRANSACTION, method="GET").respond_with_handler(
        fake.get_transaction)
    return fake


@pytest.fixture
def chain_portal(make_app: Callable[..., Flask], make_portal: Callable[..., Flask],
                 chain: FakeChain, history: FakeHistory,
                 httpserver: HTTPServer) -> Iterator[ChainSetup]:
    """idp and the portal, both reading the chain stub (no cache: every answer is fresh), the
    portal its history node too."""
    chain_url = httpserver.url_for("/").rstrip("/")
    idp_port, port = free_port(), free_port()
    idp_url, url = f"http://127.0.0.1:{idp_port}", f"http://127.0.0.1:{port}"
    idp_app = make_app(kdf_iterations=100_000, idp_url=idp_url, voskhod_chain_url=chain_url,
                       voskhod_cache_ttl=0)
    idp_app.config["TESTING"] = False
    with idp_app.app_context():
        issued = clients.create_first_party(
            "portal", [f"{url}/auth/callback"], [url], [f"{url}/"],
            f"{url}/auth/backchannel-logout")
    portal_app = make_portal(idp_url=idp_url, portal_url=url, portal_client_secret=issued.secret,
                             voskhod_chain_url=chain_url, voskhod_cache_ttl=0,
                             voskhod_history_url=chain_url)
    with serving(idp_app, idp_port), serving(portal_app, port):
        yield ChainSetup(LivePortal(portal_app, url, LiveIdp(idp_app, idp_url)), chain,
                         history)


def member_with_accounts(live: LiveIdp, *coopnames: str) -> tuple[str, dict[str, str]]:
    """A member with a card and an account in each cooperative: (email, coopname → username)."""
    email = random_email("portal")
    with IdpClient(live.url) as client:
        card = CardSession(client.register(email, PASSWORD, live.code_for))
        card.issue_card(CARD)
        usernames = {coop: card.add_account(coop).username for coop in coopnames}
    return email, usernames
