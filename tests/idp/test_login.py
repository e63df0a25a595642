"""Login: salts, decoys, single-use attempts, lockout and new-device notices (issue #2)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from sqlalchemy import select

from common.db import db, utcnow
from idp.auth.login import decoy_salt
from idp.models import AuditEvent, LoginAttempt
from idp.services import services
from tests.conftest import random_email
from tests.idp.conftest import login, mails_to, new_hash_key, register


def test_login_returns_the_members_salt_and_tokens(app, client, member):
    started = client.post("/auth/initiate-login", json={"email": member.email.upper()})
    assert started.status_code == 200
    assert set(started.json) == {"uuid", "serverSalt", "kdf", "kdfEmail"}
    assert started.json["kdfEmail"] == member.email  # canonical, whatever the case typed
    r = client.post("/auth/complete-login", json={
        "email": member.email, "hashKey": member.hash_key, "uuid": started.json["uuid"]})
    assert r.status_code == 200
    assert set(r.json) == {"accessToken", "refreshToken", "expiresIn", "tokenType"}


def test_wrong_password_and_unknown_email_look_the_same(app, client, member):
    wrong = login(client, member.email, new_hash_key())
    unknown = login(client, random_email(), new_hash_key())
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.json["error"] == "invalid_credentials"


def test_unknown_email_gets_a_stable_decoy_salt(app, client):
    email = random_email("nobody")
    first = client.post("/auth/initiate-login", json={"email": email}).json
    second = client.post("/auth/initiate-login", json={"email": email.upper()}).json
    assert first["serverSalt"] == second["serverSalt"] and first["uuid"] != second["uuid"]
    assert first["kdf"] == {"type": "pbkdf2-sha256", "iterations": 100_000}
    assert first["kdfEmail"] == second["kdfEmail"] == email  # like a member's: the canonical form
    other = client.post("/auth/initiate-login", json={"email": random_email()}).json
    assert other["serverSalt"] != first["serverSalt"]
    with app.app_context():
        assert decoy_salt(services(), email) == first["serverSalt"]


def test_login_attempt_is_single_use(app, client, member):
    uuid = client.post("/auth/initiate-login", json={"email": member.email}).json["uuid"]
    body = {"email": member.email, "hashKey": member.hash_key, "uuid": uuid}
    assert client.post("/auth/complete-login", json=body).status_code == 200
    replay = client.post("/auth/complete-login", json=body)
    assert replay.status_code == 400 and replay.json["error"] == "login_attempt_spent"


def test_expired_or_foreign_login_attempt_is_refused(app, client, member):
    uuid = client.post("/auth/initiate-login", json={"email": member.email}).json["uuid"]
    foreign = client.post("/auth/complete-login", json={
        "email": random_email(), "hashKey": member.hash_key, "uuid": uuid})
    assert foreign.status_code == 400 and foreign.json["error"] == "unknown_login_attempt"
    with app.app_context():
        db.session.get(LoginAttempt, UUID(uuid)).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    late = client.post("/auth/complete-login", json={
        "email": member.email, "hashKey": member.hash_key, "uuid": uuid})
    assert late.status_code == 400 and late.json["error"] == "login_attempt_spent"


def test_repeated_failures_lock_the_account_and_tell_the_member(make_app):
    app = make_app(lockout_threshold=3, lockout_duration=600)
    client = app.test_client()
    member = register(app, client)
    for _ in range(3):
        assert login(client, member.email, new_hash_key()).status_code == 401
    locked = login(client, member.email, member.hash_key)  # even the right password
    assert locked.status_code == 429 and locked.json["error"] == "account_locked"
    assert 590 <= int(locked.headers["Retry-After"]) <= 601
    subjects = [m.subject for m in mails_to(app, member.email)]
    assert "Вход в card.coop временно заблокирован" in subjects
    with app.app_context():
        events = [e.event for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert events.count("login_failed") == 3 and "lockout" in events


def test_unknown_emails_lock_the_same_way(make_app):
    app = make_app(lockout_threshold=2)
    client = app.test_client()
    email = random_email("ghost")
    for _ in range(2):
        assert login(client, email, new_hash_key()).status_code == 401
    locked = login(client, email, new_hash_key())
    assert locked.status_code == 429 and locked.json["error"] == "account_locked"
    assert mails_to(app, email) == []


def test_lock_expires(make_app):
    app = make_app(lockout_threshold=1, lockout_duration=1)
    client = app.test_client()
    member = register(app, client)
    assert login(client, member.email, new_hash_key()).status_code == 401
    with app.app_context():
        from idp.models import CredentialFailures
        db.session.get(CredentialFailures, member.email).locked_until = utcnow()
        db.session.commit()
    assert login(client, member.email, member.hash_key).status_code == 200


def test_new_device_is_announced_but_a_known_one_is_not(app, client, member):
    before = len(mails_to(app, member.email))
    assert login(client, member.email, member.hash_key).status_code == 200  # same test UA
    assert len(mails_to(app, member.email)) == before
    phone = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) Mobile"}
    assert login(client, member.email, member.hash_key, **phone).status_code == 200
    mails = mails_to(app, member.email)
    assert mails[-1].subject == "Вход в card.coop с нового устройства"
    assert "Android 14" in mails[-1].body


def test_a_sign_in_from_a_known_device_writes_what_one_from_a_new_device_writes(app, client):
    """A known device's sign-in takes the one-statement path on PostgreSQL, a new device's
    the request's transaction (it also writes the email): both must leave the same rows (the
    session as a browser holds it, its refresh token, the audit event, no failure count)."""
    from idp.auth.sessions import token_hash
    from idp.models import AuthSession, CredentialFailures, Member, RefreshToken

    member = register(app, client)
    agent = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"}
    answers = []
    for _ in range(2):  # each after a wrong password, so that a failure count is there to clear
        assert login(client, member.email, new_hash_key(), **agent).status_code == 401
        answer = login(client, member.email, member.hash_key, browser=True, **agent)
        assert answer.status_code == 200, answer.json
        answers.append((answer.json, client.get_cookie("cardcoop_session")
                        or client.get_cookie("__Host-cardcoop_session")))
    assert len(mails_to(app, member.email)) >= 1
    rows = []
    with app.app_context():
        member_id = db.session.scalar(select(Member.id).where(Member.email == member.email))
        assert db.session.scalar(select(CredentialFailures).where(
            CredentialFailures.email == member.email)) is None
        sessions = db.session.scalars(select(AuthSession).where(
            AuthSession.member_id == member_id).order_by(AuthSession.created_at)).all()
        for session, (tokens, cookie) in zip(sessions[-2:], answers, strict=True):
            refresh = db.session.scalar(select(RefreshToken).where(
                RefreshToken.token_hash == token_hash(tokens["refreshToken"])))
            assert refresh is not None and refresh.session_id == session.id
            assert refresh.rotated_at is None and refresh.client_id is None
            assert timedelta(0) <= refresh.created_at - session.created_at < timedelta(seconds=5)
            assert cookie is not None and session.cookie_hash == token_hash(cookie.value)
            ttl = services().settings.refresh_token_ttl
            assert session.expires_at == session.created_at + timedelta(seconds=ttl)
            assert session.created_at == session.last_used_at == session.auth_time
            rows.append({c: getattr(session, c) for c in ("user_agent", "ip", "revoked_at",
                                                            "revoke_reason", "member_id")})
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.member_id == member_id, AuditEvent.event == "login_ok")
            .order_by(AuditEvent.id)).all()
    assert rows[0] == rows[1] and rows[0]["user_agent"] == agent["User-Agent"]
    assert [(e.actor, e.ip, e.details) for e in events[-2:]] == \
        [(str(member_id), rows[0]["ip"], {"device": "Chrome 131 · Linux"})] * 2
    for tokens, _ in answers:  # both sessions are live: their tokens work
        assert client.get("/auth/sessions", headers={
            "Authorization": f"Bearer {tokens['accessToken']}"}).status_code == 200
