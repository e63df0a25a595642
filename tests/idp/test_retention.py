"""The purge of what has ended (idp/retention.py, issue #10): sessions, tickets, cooperatives'
tokens and attempts go a week after their end; nothing alive, and nothing kept for good, goes.

The rows are made by the real flows (sign-ins, a share and its exchange, a registration left
half-way); only their times are moved into the past, as a week cannot pass in a test."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, literal_column, select, update

from common.db import db, utcnow
from common.outbox import PENDING, SENT
from common.retention import PurgeFailed, Rule, purge
from idp import retention
from idp.auth.sessions import token_hash
from idp.models import (
    AuthSession,
    LoginAttempt,
    Member,
    Outbox,
    RecoveryAttempt,
    RefreshToken,
    Registration,
)
from idp.oauth.models import AuthorizationCode, OAuthToken
from idp.retention import KEEP_ENDED, RULES, purge_expired
from tests.conftest import DATABASE_URL, random_email
from tests.idp.conftest import login
from tests.idp.oauth_flow import auth_request, card_holder, exchange, make_client, pkce, ticket_for
from tests.retention_plans import scanned_whole

LONG_AGO = KEEP_ENDED + timedelta(days=1)
RECENTLY = KEEP_ENDED - timedelta(days=1)


def session_of(app: Flask, tokens: dict[str, Any]) -> uuid.UUID:
    with app.app_context():
        return db.session.scalar(select(RefreshToken.session_id).where(
            RefreshToken.token_hash == token_hash(tokens["refreshToken"])))


def backdate(app: Flask, model: Any, which: Any, **ages: timedelta) -> None:
    """Move the times of the rows ``which`` selects into the past."""
    now = utcnow()
    with app.app_context():
        db.session.execute(update(model).where(which)
                           .values({name: now - age for name, age in ages.items()}))
        db.session.commit()


def count(app: Flask, model: Any, *conditions: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model).where(*conditions)))


def refreshed(client: FlaskClient, tokens: dict[str, Any]) -> Any:
    return client.post("/auth/refresh-token", json={"refreshToken": tokens["refreshToken"]})


def test_what_ended_a_week_ago_goes_and_nothing_alive(app: Flask, client: FlaskClient) -> None:
    coop = make_client(app)
    holder = card_holder(app, client, coop.client_id)
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(coop.client_id, challenge=challenge))
    token = exchange(client, coop, ticket, verifier).json["access_token"]
    email, hash_key = holder.member.email, holder.member.hash_key
    live = holder.member.tokens
    logged_out, past_its_end, just_ended = (login(client, email, hash_key).json
                                            for _ in range(3))
    for tokens in (logged_out, just_ended):
        bearer = {"Authorization": f"Bearer {tokens['accessToken']}"}
        assert client.post("/auth/logout", headers=bearer,
                           json={"refreshToken": tokens["refreshToken"]}).status_code == 204
    live_id, gone_ids = session_of(app, live), [session_of(app, logged_out),
                                                session_of(app, past_its_end)]
    backdate(app, AuthSession, AuthSession.id == gone_ids[0], revoked_at=LONG_AGO)
    backdate(app, AuthSession, AuthSession.id == gone_ids[1], expires_at=LONG_AGO)
    backdate(app, AuthSession, AuthSession.id == session_of(app, just_ended), revoked_at=RECENTLY)
    # The cooperative's token ran out long ago; its ticket did too, but its session lives on,
    # and its end must still find the cooperative to tell (back-channel logout).
    backdate(app, OAuthToken, OAuthToken.token_hash == token_hash(token), expires_at=LONG_AGO)
    backdate(app, AuthorizationCode, AuthorizationCode.code_hash == token_hash(ticket),
             expires_at=LONG_AGO)
    backdate(app, LoginAttempt, LoginAttempt.email == email, expires_at=LONG_AGO)
    unfinished = random_email()
    assert client.post("/auth/initiate-registration",
                       json={"email": unfinished, "privacy_accepted": True}).status_code == 200
    backdate(app, Registration, Registration.email.in_([unfinished, email]), created_at=LONG_AGO)
    with app.app_context():
        db.session.add_all([RecoveryAttempt(email=email, expires_at=utcnow() - LONG_AGO),
                            RecoveryAttempt(email=email, expires_at=utcnow() - RECENTLY)])
        db.session.commit()
    # The emails sent so far (the sign-up's code) were due long ago; those still to send must
    # stay, however old.
    sent, rows = count(app, Outbox, Outbox.status == SENT), count(app, Outbox) + 1
    assert sent >= 1
    with app.app_context():
        db.session.add(Outbox(channel="email", kind="test", to_email=email, subscriber_id=email,
                              status=PENDING))
        db.session.commit()
    backdate(app, Outbox, Outbox.to_email == email, next_attempt_at=LONG_AGO)

    with app.app_context():
        purged = purge_expired(utcnow(), batch=2)  # several batches for the login attempts

    assert purged == {"idp_login_attempts": 3, "idp_recovery_attempts": 1,
                      "idp_registrations": 1, "idp_oauth_tokens": 1, "idp_sessions": 2,
                      "idp_refresh_tokens": 2, "idp_oauth_codes": 0, "idp_outbox": sent}
    assert count(app, AuthSession, AuthSession.id.in_(gone_ids)) == 0
    assert count(app, RefreshToken, RefreshToken.session_id.in_(gone_ids)) == 0
    assert count(app, OAuthToken) == 0 and count(app, AuthorizationCode) == 1
    assert count(app, Registration, Registration.email == email) == 1  # the finished one stays
    assert count(app, RecoveryAttempt) == 1 and count(app, Member) == 1
    assert count(app, Outbox) == rows - sent and count(app, Outbox, Outbox.status == SENT) == 0
    assert count(app, AuthSession) == 2  # the live one and the one that ended a day ago
    # The live session works as before, and a second purge finds nothing more.
    assert refreshed(client, live).status_code == 200
    with app.app_context():
        assert not any(purge_expired(utcnow()).values())

    # Once the member's session has ended a week ago, its ticket goes with it.
    backdate(app, AuthSession, AuthSession.id == live_id, revoked_at=LONG_AGO)
    with app.app_context():
        purged = purge_expired(utcnow())
    assert purged["idp_sessions"] == 1 and purged["idp_oauth_codes"] == 1
    assert count(app, AuthorizationCode) == 0


def test_the_worker_and_the_command_purge(app: Flask, client: FlaskClient) -> None:
    email = random_email()
    for _ in range(2):
        assert client.post("/auth/initiate-login", json={"email": email}).status_code == 200
    backdate(app, LoginAttempt, LoginAttempt.email == email, expires_at=LONG_AGO)
    assert app.test_cli_runner().invoke(args=["worker", "--once"]).exit_code == 0
    assert count(app, LoginAttempt, LoginAttempt.email == email) == 0

    assert client.post("/auth/initiate-login", json={"email": email}).status_code == 200
    backdate(app, LoginAttempt, LoginAttempt.email == email, expires_at=LONG_AGO)
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0 and "idp_login_attempts: 1" in result.stdout
    assert count(app, LoginAttempt, LoginAttempt.email == email) == 0


def test_a_table_the_database_refuses_does_not_stop_the_others(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule that fails (here: a column that does not exist, a real error of the database)
    is rolled back and named; the rules after it still run. The command then fails with the
    table's name; the worker logs it and goes on delivering."""
    broken = Rule(RecoveryAttempt, lambda cutoff: literal_column("no_such_column") < cutoff)
    monkeypatch.setattr(retention, "RULES", (broken, retention.RULES[0]))
    email = random_email()
    for run in (["purge"], ["worker", "--once"]):
        assert client.post("/auth/initiate-login", json={"email": email}).status_code == 200
        backdate(app, LoginAttempt, LoginAttempt.email == email, expires_at=LONG_AGO)
        result = app.test_cli_runner().invoke(args=run)
        assert count(app, LoginAttempt, LoginAttempt.email == email) == 0
        if run == ["purge"]:
            assert result.exit_code == 1
            assert "could not purge idp_recovery_attempts" in result.output
        else:
            # stdout only: the log lines go to stderr, and so does the failed table's warning.
            assert result.exit_code == 0 and result.stdout.startswith("sent "), result.output
    with app.app_context(), pytest.raises(PurgeFailed) as failed:
        purge(db.session, retention.RULES, utcnow() - KEEP_ENDED)
    assert failed.value.tables == ["idp_recovery_attempts"]


@pytest.mark.skipif(not DATABASE_URL.startswith("postgresql"),
                    reason="query plans are PostgreSQL's (CI sets CARDCOOP_DATABASE_URL)")
def test_every_purge_finds_its_rows_by_an_index(app: Flask) -> None:
    with app.app_context():
        assert scanned_whole(RULES, utcnow() - KEEP_ENDED) == {}
