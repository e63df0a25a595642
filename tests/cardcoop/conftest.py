"""A real idp over HTTP for the SDK tests, with a client that records what the SDK sent."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import MetaData, inspect, select

from cardcoop import IdpClient, Session
from common.db import db
from tests.conftest import random_email
from tests.idp.conftest import last_code
from tests.live import serving

PASSWORD = "correct ﬁsh Ωmega-horse 42"  # "ﬁ" (U+FB01) exercises NFKC


@dataclass
class Exchange:
    method: str
    url: str
    request: bytes
    headers: dict[str, str]
    status: int = 0
    response: Any = None


@dataclass
class LiveIdp:
    app: Flask
    url: str
    log: list[Exchange] = field(default_factory=list)

    def recording_client(self) -> httpx.Client:
        """An httpx client that keeps every request and answer the SDK exchanged."""

        def on_request(request: httpx.Request) -> None:
            self.log.append(Exchange(request.method, str(request.url), request.read(),
                                     dict(request.headers)))

        def on_response(response: httpx.Response) -> None:
            response.read()
            self.log[-1].status = response.status_code
            self.log[-1].response = response.json() if response.content else None

        # Like the SDK's own client: no cookie jar (idp's session cookie is for browsers).
        return httpx.Client(timeout=10, event_hooks={"request": [on_request],
                                                     "response": [on_response]},
                            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])))

    def sent(self, path: str, method: str | None = None) -> list[dict[str, Any]]:
        return [json.loads(x.request) for x in self.log
                if x.url == self.url + path and method in (None, x.method)]

    def answers(self, path: str) -> list[Any]:
        return [x.response for x in self.log if x.url == self.url + path]

    def code_provider(self, email: str) -> str:
        return last_code(self.app, email)


@pytest.fixture
def idp(make_app: Callable[..., Flask]) -> Iterator[LiveIdp]:
    app = make_app()
    with serving(app) as url:
        yield LiveIdp(app, url)


@pytest.fixture
def sdk(idp: LiveIdp) -> Iterator[IdpClient]:
    http = idp.recording_client()
    with IdpClient(idp.url, http=http) as client:
        yield client
    http.close()


@pytest.fixture
def registered(idp: LiveIdp, sdk: IdpClient) -> Session:
    return sdk.register(random_email(), PASSWORD, idp.code_provider)


def database_values(app: Flask) -> list[object]:
    """Every value of every row of every idp_* table, read through SQLAlchemy (reflected, so
    that a table the models do not know about is searched too)."""
    values: list[object] = []
    with app.app_context():
        names = [n for n in inspect(db.engine).get_table_names() if n.startswith("idp_")]
        meta = MetaData()
        meta.reflect(bind=db.engine, only=names)
        assert {"idp_cards", "idp_coop_accounts", "idp_members", "idp_audit_events"} <= set(names)
        with db.engine.connect() as conn:
            for table in meta.sorted_tables:
                for row in conn.execute(select(table)):
                    values.extend(row)
    return values


def occurs(needle: str | bytes, values: list[object]) -> bool:
    text = needle if isinstance(needle, str) else needle.decode("latin-1")
    raw = needle if isinstance(needle, bytes) else needle.encode()
    for value in values:
        if isinstance(value, bytes | bytearray | memoryview) and raw in bytes(value):
            return True
        if text in str(value):
            return True
    return False
