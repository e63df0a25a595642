"""Deleting the account, exporting it, re-authentication and the recovery-key notices (issue #9):
through the real HTTP API, the emails read from the development mailbox."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cardcoop import crypto
from common.db import db, utcnow
from idp import audit
from idp.card.models import Card, CoopAccount
from idp.models import (
    AuditEvent,
    AuthSession,
    CredentialFailures,
    LoginAttempt,
    Member,
    Outbox,
    RefreshToken,
    Registration,
)
from idp.oauth.models import AuthorizationCode, Grant, OAuthToken
from tests.idp import test_password_recovery as recovery_tests
from tests.idp.conftest import login, mails_to, new_hash_key, register
from tests.idp.oauth_flow import (
    COOP,
    CardHolder,
    Coop,
    auth_request,
    card_holder,
    exchange,
    make_client,
    pkce,
    receive_backchannel_logouts,
    ticket_for,
)
from tests.idp.test_password_recovery import recovery_code, setup_recovery
from tests.live import production_server

THRESHOLD = 10  # the lockout's default
person = recovery_tests.person  # a member with a real password-derived key and a card


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def coop_token(app: Flask, client: FlaskClient, coop: Coop, holder: CardHolder) -> str:
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(challenge=challenge,
                                                          scope="openid email share"))
    tokens = exchange(client, coop, ticket, verifier)
    assert tokens.status_code == 200, tokens.json
    return str(tokens.json["access_token"])


def member_rows(app: Flask, member_id: Any, email: str) -> dict[str, int]:
    """How many rows of each kind still name the member."""
    count = func.count()
    with app.app_context():
        q = db.session.scalar
        rows = {
            "member": q(select(count).select_from(Member).where(Member.id == member_id)),
            "card": q(select(count).select_from(Card).where(Card.member_id == member_id)),
            "accounts": q(select(count).select_from(CoopAccount)),
            "grants": q(select(count).select_from(Grant).where(Grant.member_id == member_id)),
            "tickets": q(select(count).select_from(AuthorizationCode)
                         .where(AuthorizationCode.member_id == member_id)),
            "coop_tokens": q(select(count).select_from(OAuthToken)
                             .where(OAuthToken.member_id == member_id)),
            "sessions": q(select(count).select_from(AuthSession)
                          .where(AuthSession.member_id == member_id)),
            "refresh_tokens": q(select(count).select_from(RefreshToken)),
            "logins": q(select(count).select_from(LoginAttempt).where(LoginAttempt.email == email)),
            "registrations": q(select(count).select_from(Registration)
                               .where(Registration.email == email)),
            "lockout": q(select(count).select_from(CredentialFailures)
                         .where(CredentialFailures.email == email)),
        }
        return {k: int(v or 0) for k, v in rows.items()}


def member_id_of(client: FlaskClient, headers: dict[str, str]) -> str:
    r = client.get("/auth/account", headers=headers)
    assert r.status_code == 200, r.json
    return str(r.json["sub"])


def test_deletion_removes_everything_and_the_cooperative_loses_access(app, client):
    coop = make_client(app)
    holder = card_holder(app, client, COOP)
    token = coop_token(app, client, coop, holder)
    username = holder.accounts[COOP].username
    assert client.get(f"/access/get-encrypted-data/{username}/{COOP}",
                      headers=bearer(token)).status_code == 200
    assert client.get("/oauth/userinfo", headers=bearer(token)).status_code == 200
    email = holder.member.email
    sub = member_id_of(client, holder.bearer)
    member_id = uuid.UUID(sub)
    before = member_rows(app, member_id, email)
    assert before["card"] == 1 and before["grants"] == 1 and before["coop_tokens"] == 1

    r = client.post("/auth/delete-account", headers=holder.bearer,
                    json={"hashKey": holder.member.hash_key})
    assert r.status_code == 200 and r.json == {"deleted": True}

    after = member_rows(app, member_id, email)
    assert after == dict.fromkeys(after, 0), after
    # The cooperative's token answers 401 at once, everywhere; introspection says inactive.
    data = client.get(f"/access/get-encrypted-data/{username}/{COOP}", headers=bearer(token))
    assert data.status_code == 401, data.json
    assert client.get("/oauth/userinfo", headers=bearer(token)).status_code == 401
    seen = client.post("/oauth/introspect", headers=coop.basic, data={"token": token})
    assert seen.json == {"active": False}
    # The member's own tokens are dead too.
    assert client.get("/auth/account", headers=holder.bearer).status_code == 401
    refreshed = client.post("/auth/refresh-token",
                            json={"refreshToken": holder.member.tokens["refreshToken"]})
    assert refreshed.status_code == 401
    # The email arrived, in the member's language, without ids or developer words.
    mail = mails_to(app, email)[-1]
    assert mail.subject == "Учётная запись card.coop удалена"
    assert "удалена" in mail.body and sub not in mail.body and COOP not in mail.body
    with app.app_context():
        # The outbox row names the address only (no member row to point at any more).
        row = db.session.scalars(select(Outbox).where(Outbox.kind == "account_deleted")).one()
        assert row.to_email == email and row.status == "sent"


def test_deletion_sends_back_channel_logout_for_the_sessions_it_ends(app, client, httpserver):
    from joserfc import jwt
    from joserfc.jwk import KeySet

    from idp.oauth import backchannel

    coop = make_client(app)
    received = receive_backchannel_logouts(app, coop, httpserver)
    holder = card_holder(app, client, COOP)
    coop_token(app, client, coop, holder)
    sid = next(s["id"] for s in client.get("/auth/sessions", headers=holder.bearer)
               .json["sessions"] if s["current"])
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").json)
    r = client.post("/auth/delete-account", headers=holder.bearer,
                    json={"hashKey": holder.member.hash_key})
    assert r.status_code == 200
    backchannel.drain()
    assert len(received) == 1
    claims = jwt.decode(received[0], keys).claims
    assert claims["aud"] == coop.client_id and claims["sid"] == sid


def test_a_wrong_password_sends_no_back_channel_logout_and_keeps_everything(app, client):
    from idp.oauth import backchannel

    coop = make_client(app)
    holder = card_holder(app, client, COOP)
    token = coop_token(app, client, coop, holder)
    r = client.post("/auth/delete-account", headers=holder.bearer,
                    json={"hashKey": new_hash_key()})
    assert r.status_code == 403
    with app.app_context():
        assert backchannel.PENDING not in db.session.info
    username = holder.accounts[COOP].username
    assert client.get(f"/access/get-encrypted-data/{username}/{COOP}",
                      headers=bearer(token)).status_code == 200


def test_audit_keeps_only_the_documented_pseudonymous_record(app, client):
    coop = make_client(app)
    holder = card_holder(app, client, COOP)
    coop_token(app, client, coop, holder)
    email = holder.member.email
    member_id = uuid.UUID(member_id_of(client, holder.bearer))
    # A failed password check and a login: rows with IP and user agent to be erased.
    assert client.post("/auth/reauth", headers=holder.bearer,
                       json={"hashKey": new_hash_key()}).status_code == 403
    assert login(client, email, holder.member.hash_key).status_code == 200
    with app.app_context():
        card_id = str(db.session.scalar(select(Card.id).where(Card.member_id == member_id)))
    r = client.post("/auth/delete-account", headers=holder.bearer,
                    json={"hashKey": holder.member.hash_key})
    assert r.status_code == 200
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(
            (AuditEvent.member_id == member_id) | (AuditEvent.actor == email))
            .order_by(AuditEvent.id)).all()
        events = [e.event for e in rows]
        assert events == ["registered", "access_granted", "account_deleted"], events
        for row in rows:
            assert row.ip == "" and row.actor == audit.DELETED_ACTOR
            assert set(row.details) <= audit.RETAINED_DETAILS
            assert email not in json.dumps(row.details)
        assert rows[1].details["coopname"] == COOP
        assert rows[2].details == {"sub": card_id, "coopnames": [COOP]}
        # After the stated period the rest goes too.
        assert audit.purge_retained(utcnow() + audit.RETENTION + timedelta(days=1)) == 3
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.member_id == member_id)) == 0


def test_deletion_clears_the_browser_session_cookie(app, client):
    member = register(app, client, browser=True)
    assert client.post("/auth/session").status_code == 200  # this browser is signed in
    r = client.post("/auth/delete-account", headers=member.bearer,
                    json={"hashKey": member.hash_key})
    assert r.status_code == 200
    assert "cardcoop_session=;" in r.headers.get("Set-Cookie", "")
    assert client.post("/auth/session").status_code == 401


def test_the_same_email_registers_again_after_deletion(app, client):
    first = register(app, client)
    old_sub = member_id_of(client, first.bearer)
    assert client.post("/auth/delete-account", headers=first.bearer,
                       json={"hashKey": first.hash_key}).status_code == 200
    again = register(app, client, email=first.email)  # the full flow, with the emailed code
    assert member_id_of(client, again.bearer) != old_sub
    assert login(client, first.email, again.hash_key).status_code == 200
    assert login(client, first.email, first.hash_key).status_code == 401


def test_wrong_password_is_403_and_counts_toward_the_lockout(app, client, member):
    wrong = {"hashKey": new_hash_key()}
    for _ in range(THRESHOLD):
        r = client.post("/auth/delete-account", headers=member.bearer, json=wrong)
        assert r.status_code == 403 and r.json["error"] == "wrong_password"
    locked = client.post("/auth/delete-account", headers=member.bearer,
                         json={"hashKey": member.hash_key})
    assert locked.status_code == 429 and locked.json["error"] == "account_locked"
    assert client.get("/auth/account", headers=member.bearer).status_code == 200  # still there
    assert any("заблокирован" in m.subject.lower() or "блок" in m.subject.lower()
               for m in mails_to(app, member.email))


@pytest.mark.parametrize("body", [
    {}, {"hashKey": None}, {"hashKey": 12345}, {"hashKey": ["a" * 43]}, {"hashKey": "a" * 42},
    {"hashKey": "a" * 44}, {"hashKey": "!" * 43}, {"hashKey": "a" * 43, "extra": True},
    {"hash_key": "a" * 43}, [], "hashKey",
])
@pytest.mark.parametrize("path", ["/auth/delete-account", "/auth/reauth"])
def test_bad_bodies_are_400(client, member, body, path):
    r = client.post(path, headers=member.bearer, json=body)
    assert r.status_code == 400, (body, r.json)
    assert client.get("/auth/account", headers=member.bearer).status_code == 200


@pytest.mark.parametrize("path", ["/auth/delete-account", "/auth/reauth"])
def test_oversized_body_is_413(client, member, path):
    r = client.post(path, headers=member.bearer,
                    data=json.dumps({"hashKey": "a" * 43, "x": "y" * 2_000_000}),
                    content_type="application/json")
    assert r.status_code == 413


@pytest.mark.parametrize("path", ["/auth/delete-account", "/auth/reauth", "/auth/export"])
def test_no_or_bad_token_is_401(client, member, path):
    send: Callable[..., Any] = client.get if path == "/auth/export" else client.post
    kwargs = {} if path == "/auth/export" else {"json": {"hashKey": member.hash_key}}
    assert send(path, **kwargs).status_code == 401
    assert send(path, headers=bearer("not.a.token"), **kwargs).status_code == 401
    # A token whose session was logged out.
    other = login(client, member.email, member.hash_key).json
    assert client.post("/auth/logout", headers=bearer(other["accessToken"]),
                       json={"refreshToken": other["refreshToken"]}).status_code in (200, 204)
    assert send(path, headers=bearer(other["accessToken"]), **kwargs).status_code == 401


def test_another_members_token_deletes_that_member_only(app, client):
    alice, bob = register(app, client), register(app, client)
    # Bob's token with Alice's password: refused, both accounts stay.
    r = client.post("/auth/delete-account", headers=bob.bearer, json={"hashKey": alice.hash_key})
    assert r.status_code == 403
    assert client.get("/auth/account", headers=alice.bearer).status_code == 200
    assert client.get("/auth/account", headers=bob.bearer).status_code == 200


def test_a_replayed_deletion_is_401(app, client, member):
    body = {"hashKey": member.hash_key}
    assert client.post("/auth/delete-account", headers=member.bearer, json=body).status_code == 200
    again = client.post("/auth/delete-account", headers=member.bearer, json=body)
    assert again.status_code == 401 and again.json["error"] == "invalid_token"


def test_reauth_answers_204_for_the_right_password(client, member):
    r = client.post("/auth/reauth", headers=member.bearer, json={"hashKey": member.hash_key})
    assert r.status_code == 204 and r.data == b""
    wrong = client.post("/auth/reauth", headers=member.bearer, json={"hashKey": new_hash_key()})
    assert wrong.status_code == 403 and wrong.json["error"] == "wrong_password"


def test_reauth_counts_toward_the_lockout(client, member):
    for _ in range(THRESHOLD):
        assert client.post("/auth/reauth", headers=member.bearer,
                           json={"hashKey": new_hash_key()}).status_code == 403
    r = client.post("/auth/reauth", headers=member.bearer, json={"hashKey": member.hash_key})
    assert r.status_code == 429 and r.json["error"] == "account_locked"


# -- export -----------------------------------------------------------------------------------

def test_export_holds_everything_stored_and_nothing_of_anyone_else(app, client):
    coop = make_client(app)
    holder = card_holder(app, client, COOP)
    coop_token(app, client, coop, holder)
    other = card_holder(app, client, COOP)  # another member, also with a grant
    coop_token(app, client, coop, other)
    r = client.get("/auth/export", headers=holder.bearer)
    assert r.status_code == 200, r.json
    doc = r.json
    assert doc["format"] == "card.coop/export/v1"
    account = doc["account"]
    assert account["email"] == holder.member.email
    assert account["kdf"]["iterations"] == 100_000 and account["kdf"]["type"] == "pbkdf2-sha256"
    assert account["recovery"] == {"enabled": False, "created_at": None}
    assert [s["current"] for s in doc["sessions"]].count(True) == 1
    (grant,) = doc["grants"]
    assert grant["cooperative"] == COOP and "share" in grant["scope"]
    assert grant["shared_fields"] == ["last_name"] and grant["encrypted_data"]
    assert grant["username"] == holder.accounts[COOP].username
    assert len(doc["cooperative_tokens"]) == 1
    events = [e["event"] for e in doc["audit_events"]]
    assert events[0] == "registered" and "access_granted" in events
    kinds = [n["kind"] for n in doc["notifications"]]
    assert kinds[0] == "registration_code" and "access_granted" in kinds
    assert all(set(n) == {"kind", "channel", "created_at", "status", "sent_at"}
               for n in doc["notifications"])
    card = doc["card"]
    assert card["revision"] == 1 and card["encrypted_personal_data"].count(".") == 4
    (acc,) = card["accounts"]
    assert acc["username"] == holder.accounts[COOP].username
    assert acc["encrypted_account"].count(".") == 4
    # The stored ciphertext opens with the member's card key: it is the card, as stored.
    assert crypto.decrypt_personal_data(holder.card_key, card["encrypted_personal_data"],
                                        card["meta"]["schema"])["last_name"] == "Иванов"
    # Nothing of the other member: neither their address, nor their accounts, nor secrets.
    text = r.get_data(as_text=True)
    assert other.member.email not in text
    assert other.accounts[COOP].username not in text
    assert other.accounts[COOP].public_key not in text
    for secret in (holder.member.hash_key, holder.member.tokens["refreshToken"],
                   holder.member.tokens["accessToken"]):
        assert secret not in text
    assert "verifier" not in text and "$argon2" not in text and "token_hash" not in text
    assert r.headers["Cache-Control"].startswith("no-store") or "no-store" in \
        r.headers.get("Cache-Control", "")


def test_export_without_a_card(client, member):
    doc = client.get("/auth/export", headers=member.bearer).json
    assert doc["card"] is None and doc["grants"] == [] and doc["account"]["email"] == member.email


# -- recovery key notices and spending ---------------------------------------------------------

def recover(app: Flask, client: FlaskClient, who: Any, recovery_key: bytes,
            new_password: str) -> Any:
    uuid = client.post("/auth/recovery/initiate", json={"email": who.email}).json["uuid"]
    unlocked = client.post("/auth/recovery/verify", json={
        "email": who.email, "uuid": uuid, "code": recovery_code(app, who.email),
        "recovery_auth": crypto.b64u_encode(crypto.recovery_auth_key(recovery_key))})
    if unlocked.status_code != 200:
        return unlocked
    card_key = crypto.recovery_unwrap_card_key(recovery_key,
                                               unlocked.json["recovery_wrapped_card_key"])
    new = who.keys(new_password)
    return client.post("/auth/recovery/complete", json={
        "email": who.email, "uuid": uuid, "newHashKey": new.hash_key_b64u,
        "wrapped_card_key": crypto.wrap_card_key(new.enc_key, card_key)})


def test_recovery_key_notices_and_the_key_is_spent_after_use(app, client, person):
    first = setup_recovery(person)
    created = mails_to(app, person.email)[-1]
    assert created.subject == "Новый ключ восстановления card.coop"
    assert "Прежний ключ" in created.body
    setup_recovery(person)  # replaced: told again
    assert [m.subject for m in mails_to(app, person.email)].count(
        "Новый ключ восстановления card.coop") == 2
    # The replaced key no longer opens anything.
    assert recover(app, client, person, first, "x пароль 1").status_code == 400
    key = setup_recovery(person)
    done = recover(app, client, person, key, "совсем новый пароль")
    assert done.status_code == 200, done.json
    subjects = [m.subject for m in mails_to(app, person.email)]
    assert "Ключ восстановления card.coop использован" in subjects
    used = [m for m in mails_to(app, person.email)
            if m.subject == "Ключ восстановления card.coop использован"][-1]
    assert "больше не действует" in used.body and "Безопасность" in used.body
    # Spent: the same key cannot be used again, and the page is told to ask for a new one.
    status = client.get("/auth/recovery", headers=bearer(done.json["accessToken"])).json
    assert status["enabled"] is False and status["used_at"] is not None
    again = recover(app, client, person, key, "третий пароль")
    assert again.status_code == 400 and again.json["error"] == "invalid_recovery"
    with app.app_context():
        row = db.session.scalars(select(Member).where(Member.email == person.email)).one()
        assert row.recovery_verifier is None and row.recovery_wrapped_card_key is None
    # A new key clears the reminder.
    person.tokens, person.password = done.json, "совсем новый пароль"
    setup_recovery(person)
    status = client.get("/auth/recovery", headers=person.bearer).json
    assert status["enabled"] is True and status["used_at"] is None


# -- parallel deletions against a multi-worker server -----------------------------------------

@pytest.fixture
def live(make_app: Callable[..., Flask], base_settings: dict[str, Any], tmp_path: Path):
    settings = {"ratelimit_enabled": False, "dev_mailbox": True, "code_resend_interval": 0}
    app = make_app(**settings)
    with production_server(base_settings | settings, tmp_path, workers=2) as server:
        yield app, server


def test_a_burst_of_deletions_deletes_once_and_answers_clean_4xx(live):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    app, server = live
    member = register(app, app.test_client())
    n = 8
    barrier = threading.Barrier(n)

    def one(_: int) -> requests.Response:
        with requests.Session() as s:
            barrier.wait(timeout=30)
            return s.post(server.url + "/auth/delete-account", headers=member.bearer,
                          json={"hashKey": member.hash_key}, timeout=60)

    with ThreadPoolExecutor(max_workers=n) as pool:
        responses = list(pool.map(one, range(n)))
    counts = Counter((r.status_code, r.json().get("error", "")) for r in responses)
    assert counts[(200, "")] == 1, counts
    assert set(counts) <= {(200, ""), (401, "invalid_token")}, counts
    assert "unhandled" not in server.log(), server.log()[-3000:]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Outbox)
                                 .where(Outbox.kind == "account_deleted",
                                        Outbox.to_email == member.email)) == 1
        assert db.session.scalar(select(func.count()).select_from(Member)
                                 .where(Member.email == member.email)) == 0


def test_audit_purge_command_keeps_what_is_within_retention(app, client):
    make_client(app)
    holder = card_holder(app, client, COOP)
    assert client.post("/auth/delete-account", headers=holder.bearer,
                       json={"hashKey": holder.member.hash_key}).status_code == 200
    result = app.test_cli_runner().invoke(args=["audit", "purge"])
    assert result.exit_code == 0 and "erased 0 audit event(s)" in result.output, result.output
    with app.app_context():
        kept = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.event == "account_deleted"))
    assert kept == 1
