"""The portal's purge (portal/retention.py, issue #10): expired sessions and delivered outbox
rows go a day after their end; a live session and a message still to send stay."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from common.db import db, utcnow
from common.outbox import DEAD, PENDING, SENT
from portal.models import Outbox, PortalSession
from portal.retention import KEEP_ENDED, RULES
from portal.session_store import id_hash
from tests.conftest import DATABASE_URL
from tests.retention_plans import scanned_whole

LONG_AGO = KEEP_ENDED + timedelta(hours=1)
RECENTLY = KEEP_ENDED - timedelta(hours=1)


def test_the_purge_deletes_what_ended_and_keeps_what_lives(
        make_portal: Callable[..., Flask]) -> None:
    app = make_portal(idp_url="http://127.0.0.1:9", portal_url="http://127.0.0.1:9")
    now = utcnow()
    sessions = {name: secrets.token_urlsafe(16) for name in ("live", "expired", "just_expired")}
    with app.app_context():
        db.session.add_all([
            PortalSession(id_hash=id_hash(sessions["live"]), expires_at=now + timedelta(hours=1)),
            PortalSession(id_hash=id_hash(sessions["expired"]), expires_at=now - LONG_AGO),
            PortalSession(id_hash=id_hash(sessions["just_expired"]), expires_at=now - RECENTLY)])
        for status, due in ((SENT, LONG_AGO), (DEAD, LONG_AGO), (PENDING, LONG_AGO),
                            (SENT, RECENTLY)):
            db.session.add(Outbox(channel="push", kind=f"test-{status}-{due.days}",
                                  to_email="", subscriber_id="card", status=status,
                                  next_attempt_at=now - due))
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["purge"])

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "portal_sessions: 1, portal_outbox: 2"
    with app.app_context():
        left = set(db.session.scalars(select(PortalSession.id_hash)))
        outbox = {(row.status, row.next_attempt_at < now - KEEP_ENDED)
                  for row in db.session.scalars(select(Outbox))}
    assert left == {id_hash(sessions["live"]), id_hash(sessions["just_expired"])}
    assert outbox == {(PENDING, True), (SENT, False)}  # an undelivered message is never lost


@pytest.mark.skipif(not DATABASE_URL.startswith("postgresql"),
                    reason="query plans are PostgreSQL's (CI sets CARDCOOP_DATABASE_URL)")
def test_every_purge_finds_its_rows_by_an_index(make_portal: Callable[..., Flask]) -> None:
    app = make_portal(idp_url="http://127.0.0.1:9", portal_url="http://127.0.0.1:9")
    with app.app_context():
        assert scanned_whole(RULES, utcnow() - KEEP_ENDED) == {}
