"""Database round trips per request on the hot endpoints (issue #10).

Each statement, BEGIN, COMMIT and ROLLBACK is a round trip to PostgreSQL, and on two cores the
waits on them were half of a request's time. These budgets are what the hot paths were built to
(one statement per read, one atomic statement per refresh); a change that adds a query to them
fails here. PostgreSQL only: SQLite takes its write lock with a BEGIN of its own (common/db.py),
and its figures mean nothing for production.

``pytest -s tests/idp/test_round_trips.py`` prints the statements of each request.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Integer, bindparam, event, select

from common.db import HotStatement, autocommit_connection, db, utcnow
from idp.auth.sessions import token_hash
from idp.oauth import bearer
from tests.idp.conftest import login, register
from tests.idp.oauth_flow import (
    auth_request,
    card_holder,
    exchange,
    make_client,
    pkce,
    ticket_for,
)
from tests.idp.statements import driver_statements, prepared_statements


@contextmanager
def round_trips(app: Flask) -> Iterator[list[str]]:
    """Everything sent to the database while the block runs, one entry per round trip."""
    sent: list[str] = []

    def statement(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        sent.append(" ".join(text.split())[:160])

    def marker(name: str) -> Callable[..., None]:
        def mark(conn: Any, *_args: Any) -> None:
            # On an autocommit connection the driver sends no BEGIN, and no COMMIT or
            # ROLLBACK while no transaction is open (psycopg checks the server's status).
            if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                sent.append(name)
        return mark

    with app.app_context():
        engine = db.engine
    hooks = [("before_cursor_execute", statement), ("begin", marker("BEGIN")),
             ("commit", marker("COMMIT")), ("rollback", marker("ROLLBACK"))]
    for name, hook in hooks:
        event.listen(engine, name, hook)
    try:
        with driver_statements(lambda sql, _params: statement(None, None, sql)):
            yield sent
    finally:
        for name, hook in hooks:
            event.remove(engine, name, hook)


@pytest.fixture
def pg_app(app: Flask) -> Flask:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("round trips are budgeted on PostgreSQL, as in production")
    return app


def measured(app: Flask, request: Callable[[], Any], *, warm: int = 1) -> list[str]:
    """The round trips of ``request`` once warm (the signing keys are cached, the first-use
    queries done), printed for the reader of ``-s``."""
    for _ in range(warm):
        request()
    with round_trips(app) as sent:
        request()
    print(f"\n{len(sent)} round trips:\n  " + "\n  ".join(sent))
    return sent


def test_a_cooperative_read_is_one_statement(pg_app: Flask, client: FlaskClient) -> None:
    coop = make_client(pg_app)
    holder = card_holder(pg_app, client, coop.client_id)
    verifier, challenge = pkce()
    params = auth_request(coop.client_id, challenge=challenge)
    ticket = ticket_for(pg_app, client, holder, params)
    token = exchange(client, coop, ticket, verifier).json["access_token"]
    username = holder.accounts[coop.client_id].username
    bearer = {"Authorization": f"Bearer {token}"}

    def userinfo() -> None:
        assert client.get("/oauth/userinfo", headers=bearer).status_code == 200

    def fetch() -> None:
        answer = client.get(f"/access/get-encrypted-data/{username}/{coop.client_id}",
                            headers=bearer)
        assert answer.status_code == 200, answer.json

    assert len(measured(pg_app, userinfo)) == 1
    assert len(measured(pg_app, fetch)) == 1


def test_a_refresh_is_one_atomic_statement(pg_app: Flask, client: FlaskClient) -> None:
    member = register(pg_app, client)
    tokens = [login(client, member.email, member.hash_key).json["refreshToken"]]

    def rotate() -> None:
        answer = client.post("/auth/refresh-token", json={"refreshToken": tokens[-1]})
        assert answer.status_code == 200, answer.json
        tokens.append(answer.json["refreshToken"])

    assert len(measured(pg_app, rotate)) == 1


def test_a_sign_in_is_seven_statements_and_no_transaction(pg_app: Flask,
                                                          client: FlaskClient) -> None:
    """initiate-login: the attempt stored, the salts read. complete-login: the attempt spent,
    the try counted, the verifier read, each committing on its own, so no transaction is open
    across the Argon2id check; the device looked up; then one statement clears the failures,
    records the sign-in and opens the session with its refresh token (idp/auth/opening.py).
    Before issue #10's work a sign-in was 8 + 12 round trips, the member's row read inside a
    transaction held across the Argon2id check."""
    member = register(pg_app, client)
    agent = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"}
    assert login(client, member.email, member.hash_key, **agent).status_code == 200

    with round_trips(pg_app) as started:
        answer = client.post("/auth/initiate-login", json={"email": member.email})
    assert answer.status_code == 200
    with round_trips(pg_app) as completed:
        done = client.post("/auth/complete-login", headers=agent, json={
            "email": member.email, "hashKey": member.hash_key, "uuid": answer.json["uuid"]})
    assert done.status_code == 200, done.json
    print(f"\n{len(started)} + {len(completed)} round trips:\n  "
          + "\n  ".join([*started, "--", *completed]))
    assert len(started) == 2 and len(completed) == 5
    assert "BEGIN" not in started + completed


def test_a_ticket_exchange_is_three_statements(pg_app: Flask, client: FlaskClient) -> None:
    coop = make_client(pg_app)
    holder = card_holder(pg_app, client, coop.client_id)

    def one_exchange() -> None:
        verifier, challenge = pkce()
        ticket = ticket_for(pg_app, client, holder, auth_request(coop.client_id,
                                                                 challenge=challenge))
        with round_trips(pg_app) as sent:
            answer = exchange(client, coop, ticket, verifier)
        assert answer.status_code == 200, answer.json
        exchanges.append(sent)

    exchanges: list[list[str]] = []
    one_exchange()
    one_exchange()
    print(f"\n{len(exchanges[-1])} round trips:\n  " + "\n  ".join(exchanges[-1]))
    # The client, the ticket spent and read in one UPDATE ... RETURNING, the token stored.
    assert len(exchanges[-1]) == 3



@pytest.mark.parametrize(("path", "budget"), [
    ("/card", 2),  # the session, the card with its accounts: no BEGIN, no ROLLBACK
    ("/card/accounts", 3),
    ("/auth/sessions", 2),
    ("/access/list", 3),  # the session, the member, the grants
])
def test_a_members_read_runs_outside_a_transaction(pg_app: Flask, client: FlaskClient,
                                                   path: str, budget: int) -> None:
    coop = make_client(pg_app)
    holder = card_holder(pg_app, client, coop.client_id)

    def read() -> None:
        assert client.get(path, headers=holder.bearer).status_code == 200

    sent = measured(pg_app, read)
    assert "BEGIN" not in sent and len(sent) == budget


def test_a_connection_pinged_after_a_rest_still_serves_autocommit(
        pg_app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ping after a rest opened a transaction on the raw connection; the autocommit switch
    that follows then failed with a 500 (found by make bench after an idle gap)."""
    from common import db as common_db

    coop = make_client(pg_app)
    holder = card_holder(pg_app, client, coop.client_id)
    verifier, challenge = pkce()
    ticket = ticket_for(pg_app, client, holder, auth_request(coop.client_id,
                                                             challenge=challenge))
    token = exchange(client, coop, ticket, verifier).json["access_token"]
    monkeypatch.setattr(common_db, "PING_AFTER_IDLE_SECONDS", 0.0)
    for _ in range(3):
        answer = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.json


def test_a_hot_read_gives_what_sqlalchemy_gives(app: Flask, client: FlaskClient) -> None:
    """HotStatement skips SQLAlchemy's result machinery on PostgreSQL: the row must come out with
    the values and types the columns' SQLAlchemy types give (UUID, aware UTC datetime, parsed
    JSON); on SQLite it is SQLAlchemy's path itself."""
    coop = make_client(app)
    holder = card_holder(app, client, coop.client_id)
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(coop.client_id, challenge=challenge))
    token = exchange(client, coop, ticket, verifier).json["access_token"]
    params = {"token_hash": token_hash(token), "now": utcnow()}
    with app.app_context():
        hot = bearer._LIVE_TOKEN.first(params)
        with autocommit_connection() as connection:
            statement = bearer._LIVE_TOKEN.statement_for(connection.dialect.name)
            expected = dict(connection.execute(statement, params).mappings().one())
        assert bearer._LIVE_TOKEN.first(params | {"token_hash": "0" * 64}) is None
    assert hot == expected
    assert {k: type(v) for k, v in hot.items()} == {k: type(v) for k, v in expected.items()}
    assert isinstance(hot["grant_found"], uuid.UUID)
    assert hot["grant_updated_at"].utcoffset() == timedelta(0)
    assert hot["grant_shared_fields"] == ["last_name"]
    assert hot["claims"] == expected["claims"] and isinstance(hot["claims"], dict)


def test_a_hot_insert_must_name_the_columns_sqlalchemy_would_default(pg_app: Flask) -> None:
    """Past SQLAlchemy no Python-side default runs: an INSERT leaving one out is refused before
    anything is sent, instead of storing a NULL id or timestamp."""
    from sqlalchemy import bindparam, insert

    from idp.models import LoginAttempt

    partial = HotStatement(insert(LoginAttempt).values(email=bindparam("e"),
                                                       expires_at=bindparam("x")))
    with pg_app.app_context(), pytest.raises(ValueError, match=r"created_at.*id"):
        partial.run({"e": "someone@example.org", "x": utcnow()})


@pytest.mark.parametrize("arguments", [{}, {"statement": select(1), "upsert": lambda i: i}])
def test_a_hot_statement_is_built_from_exactly_one_of_its_forms(arguments: dict[str, Any]
                                                                 ) -> None:
    with pytest.raises(TypeError, match="one of the two"):
        HotStatement(**arguments)


def test_one_request_checks_out_one_autocommit_connection(app: Flask) -> None:
    """The hot statements of a request share a connection, returned when the request ends."""
    with app.test_request_context():
        with autocommit_connection() as first:
            pass
        with autocommit_connection() as second:
            pass
        assert first is second and not first.closed
    assert first.closed
    with app.app_context(), autocommit_connection() as third:  # a new context: its own
        assert third is not first


_QUOTIENT = HotStatement(select((bindparam("n", type_=Integer) / bindparam("d", type_=Integer))
                                .label("q")))


def test_a_connection_keeps_one_cursor_for_its_hot_statements(pg_app: Flask) -> None:
    """HotStatement runs on one psycopg cursor per pooled connection instead of a new one per
    statement (issue #10). The cursor outlives a refused statement, and a connection the pool
    replaced gets a cursor of its own."""
    cursors: list[psycopg.Cursor[Any]] = []

    def watched(cursor: Any, _sql: str, _params: Any) -> None:
        cursors.append(cursor)

    with pg_app.app_context():
        with prepared_statements(watched):
            assert _QUOTIENT.first({"n": 6, "d": 3}) == {"q": 2}
            with pytest.raises(psycopg.errors.DivisionByZero):
                _QUOTIENT.first({"n": 1, "d": 0})
            assert _QUOTIENT.first({"n": 9, "d": 3}) == {"q": 3}
        assert len(cursors) == 3 and cursors[0] is cursors[1] is cursors[2]
        with autocommit_connection() as connection:
            replaced = connection.connection.driver_connection
            connection.invalidate()  # as after a dropped connection: the pool opens a new one
    with pg_app.app_context():
        with prepared_statements(watched):
            assert _QUOTIENT.first({"n": 8, "d": 2}) == {"q": 4}
        with autocommit_connection() as connection:
            assert connection.connection.driver_connection is not replaced
    assert cursors[-1] is not cursors[0] and cursors[-1].connection is not replaced
