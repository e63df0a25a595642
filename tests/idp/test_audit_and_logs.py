"""The audit log records every account event; no log line carries a secret (issue #2)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from common.db import db
from idp.audit import AppendOnlyViolation
from idp.models import AuditEvent
from tests.idp.conftest import last_code, login, new_hash_key, register


def events(app) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        db.session.expunge_all()
        return rows


def test_every_account_event_is_recorded_with_actor_ip_and_time(make_app):
    app = make_app(lockout_threshold=2)
    client = app.test_client()
    member = register(app, client)
    assert login(client, member.email, new_hash_key()).status_code == 401
    ok = login(client, member.email, member.hash_key).json
    refreshed = client.post("/auth/refresh-token", json={"refreshToken": ok["refreshToken"]}).json
    client.post("/auth/refresh-token", json={"refreshToken": ok["refreshToken"]})  # reuse
    third = login(client, member.email, member.hash_key).json
    sessions = client.get("/auth/sessions",
                          headers={"Authorization": f"Bearer {third['accessToken']}"}).json
    other = next(s["id"] for s in sessions["sessions"] if not s["current"])
    client.delete(f"/auth/sessions/{other}",
                  headers={"Authorization": f"Bearer {third['accessToken']}"})
    client.post("/auth/logout", headers={"Authorization": f"Bearer {third['accessToken']}"},
                json={"refreshToken": third["refreshToken"]})
    for _ in range(2):
        login(client, member.email, new_hash_key())
    assert refreshed

    recorded = events(app)
    names = [e.event for e in recorded]
    for expected in ("registration_started", "email_verified", "registered", "login_failed",
                     "login_ok", "refresh_reuse", "session_revoked", "logout", "lockout"):
        assert expected in names, expected
    assert all(e.ip == "127.0.0.1" and e.at is not None and e.actor for e in recorded)


def test_audit_events_cannot_be_changed_or_deleted(app, member):
    with app.app_context():
        event = db.session.scalar(select(AuditEvent))
        event.event = "rewritten"
        with pytest.raises(AppendOnlyViolation):
            db.session.flush()
        db.session.rollback()
        event = db.session.scalar(select(AuditEvent))
        db.session.delete(event)
        with pytest.raises(AppendOnlyViolation):
            db.session.flush()
        db.session.rollback()


def test_no_secret_reaches_a_log_line(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    hash_key = new_hash_key()
    member = register(app, client, hash_key=hash_key)
    code_mail_text = last_code(app, member.email)
    ok = login(client, member.email, hash_key).json
    client.post("/auth/refresh-token", json={"refreshToken": ok["refreshToken"]})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert text  # the request log did run
    for secret in (hash_key, code_mail_text, ok["accessToken"], ok["refreshToken"],
                   member.tokens["refreshToken"]):
        assert secret not in text


def test_the_request_id_the_front_sends_is_kept_and_a_bad_one_replaced(client) -> None:
    """Behind nginx the front names every request (deploy/nginx.conf.template); the app logs
    and answers that id, and makes its own only when the header is missing or not sane."""
    kept = client.get("/health", headers={"X-Request-ID": "0123456789abcdef0123456789abcdef"})
    assert kept.headers["X-Request-ID"] == "0123456789abcdef0123456789abcdef"
    forged = client.get("/health", headers={"X-Request-ID": "x\tINFO forged"})
    assert forged.headers["X-Request-ID"] != "x\tINFO forged"
    assert len(forged.headers["X-Request-ID"]) == 32
