"""Refresh rotation with reuse detection, logout, and the member's sessions (issue #2)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from common.db import db
from idp.models import AuditEvent, RefreshToken
from tests.idp.conftest import login, mails_to, register


def bearer(tokens) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['accessToken']}"}


def refresh(client, token):
    return client.post("/auth/refresh-token", json={"refreshToken": token})


def test_refresh_rotates_the_pair(app, client, member):
    first = refresh(client, member.tokens["refreshToken"])
    assert first.status_code == 200
    assert first.json["refreshToken"] != member.tokens["refreshToken"]
    second = refresh(client, first.json["refreshToken"])
    assert second.status_code == 200
    assert client.get("/auth/sessions", headers=bearer(second.json)).status_code == 200
    with app.app_context():
        hashes = [r.token_hash for r in db.session.scalars(select(RefreshToken))]
    # Stored only as SHA-256 hashes.
    assert all(len(h) == 64 for h in hashes)
    assert member.tokens["refreshToken"] not in hashes


def test_reusing_a_rotated_refresh_token_revokes_the_session(app, client, member):
    rotated = refresh(client, member.tokens["refreshToken"]).json
    reuse = refresh(client, member.tokens["refreshToken"])
    assert reuse.status_code == 401 and reuse.json["error"] == "token_reused"
    # The thief's and the member's tokens of that session are all dead now.
    assert refresh(client, rotated["refreshToken"]).status_code == 401
    assert client.get("/auth/sessions", headers=bearer(rotated)).status_code == 401
    assert mails_to(app, member.email)[-1].subject == \
        "Подозрительная активность в учётной записи card.coop"
    with app.app_context():
        events = [e.event for e in db.session.scalars(select(AuditEvent))]
    assert "refresh_reuse" in events


def test_unknown_refresh_token(client):
    r = refresh(client, "x" * 43)
    assert r.status_code == 401 and r.json["error"] == "invalid_token"


def test_logout_ends_the_session(app, client, member):
    r = client.post("/auth/logout", headers=bearer(member.tokens),
                    json={"refreshToken": member.tokens["refreshToken"]})
    assert r.status_code == 204
    assert client.get("/auth/sessions", headers=bearer(member.tokens)).status_code == 401
    assert refresh(client, member.tokens["refreshToken"]).status_code == 401


def test_logout_with_another_sessions_refresh_token_changes_nothing(app, client, member):
    other = login(client, member.email, member.hash_key).json
    r = client.post("/auth/logout", headers=bearer(member.tokens),
                    json={"refreshToken": other["refreshToken"]})
    assert r.status_code == 401 and r.json["error"] == "invalid_token"
    assert client.get("/auth/sessions", headers=bearer(member.tokens)).status_code == 200
    assert client.get("/auth/sessions", headers=bearer(other)).status_code == 200


def test_sessions_list_and_revoke(app, client, member):
    phone = login(client, member.email, member.hash_key,
                  **{"User-Agent": "Phone/1.0"}).json
    listed = client.get("/auth/sessions", headers=bearer(member.tokens))
    assert listed.status_code == 200
    sessions = listed.json["sessions"]
    assert len(sessions) == 2
    assert {s["user_agent"] for s in sessions} >= {"Phone/1.0"}
    assert [s["current"] for s in sessions].count(True) == 1
    assert all(s["ip"] == "127.0.0.1" and s["created_at"] and s["last_used_at"]
               for s in sessions)
    phone_id = next(s["id"] for s in sessions if s["user_agent"] == "Phone/1.0")

    assert client.delete(f"/auth/sessions/{phone_id}",
                         headers=bearer(member.tokens)).status_code == 204
    assert client.get("/auth/sessions", headers=bearer(phone)).status_code == 401
    assert len(client.get("/auth/sessions", headers=bearer(member.tokens)).json["sessions"]) == 1
    again = client.delete(f"/auth/sessions/{phone_id}", headers=bearer(member.tokens))
    assert again.status_code == 404


def test_someone_elses_session_cannot_be_revoked(app, client, member):
    stranger = register(app, client)
    listed = client.get("/auth/sessions", headers=bearer(stranger.tokens)).json["sessions"]
    r = client.delete(f"/auth/sessions/{listed[0]['id']}", headers=bearer(member.tokens))
    assert r.status_code == 404 and r.json["error"] == "session_not_found"
    assert client.get("/auth/sessions", headers=bearer(stranger.tokens)).status_code == 200
    missing = client.delete(f"/auth/sessions/{uuid.uuid4()}", headers=bearer(member.tokens))
    assert missing.status_code == 404
