"""Registration: initiate → code by email → verify → complete (issue #2)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from sqlalchemy import func, select

from common.db import db, utcnow
from idp import privacy
from idp.models import Member, Registration
from tests.conftest import random_email
from tests.idp.conftest import last_code, login, mails_to, new_hash_key, register


def start(client, email, accepted=True):
    return client.post("/auth/initiate-registration",
                       json={"email": email, "privacy_accepted": accepted})


def test_full_registration_stores_only_a_verifier(app, client):
    email, hash_key = random_email(), new_hash_key()
    started = start(client, "  " + email.upper() + " ")
    assert started.status_code == 200
    body = started.json
    assert set(body) == {"uuid", "serverSalt", "kdf"}
    assert body["kdf"] == {"type": "pbkdf2-sha256", "iterations": 100_000}
    assert len(body["serverSalt"]) == 22  # 16 bytes, b64u without padding

    code = last_code(app, email)  # normalized address (PROTOCOL §1)
    verified = client.post("/auth/verify-email",
                           json={"email": email, "code": code, "uuid": body["uuid"]})
    assert verified.status_code == 200 and verified.json == {"verified": True}

    done = client.post("/auth/complete-registration",
                       json={"email": email, "hashKey": hash_key, "uuid": body["uuid"]})
    assert done.status_code == 201
    assert set(done.json) == {"accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert done.json["tokenType"] == "Bearer" and done.json["expiresIn"] <= 900

    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.email == email))
        assert member is not None
        assert member.verifier.startswith("$argon2id$")
        assert "m=19456,t=2,p=1" in member.verifier
        assert hash_key not in member.verifier
        assert member.server_salt == body["serverSalt"]
        assert member.privacy_version == privacy.VERSION
        assert member.privacy_accepted_at is not None


def test_privacy_policy_must_be_accepted(app, client):
    email = random_email()
    refused = start(client, email, accepted=False)
    assert refused.status_code == 400
    assert refused.json["error"] == "privacy_not_accepted"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
    assert mails_to(app, email) == []


def test_registered_email_gets_the_same_answer_and_its_owner_a_warning(app, client, member):
    again = start(client, member.email)
    assert again.status_code == 200
    assert set(again.json) == {"uuid", "serverSalt", "kdf"}
    assert again.json["kdf"]["iterations"] == 100_000
    mails = mails_to(app, member.email)
    assert mails[-1].subject == "Попытка регистрации в card.coop с вашим адресом"
    assert len([m for m in mails if m.subject.startswith("Код подтверждения")]) == 1  # own code
    # No code works for that attempt; it can never complete.
    for code in ("000000", "123456"):
        wrong = client.post("/auth/verify-email",
                            json={"email": member.email, "code": code, "uuid": again.json["uuid"]})
        assert wrong.status_code == 400 and wrong.json["error"] == "invalid_code"
    blocked = client.post("/auth/complete-registration", json={
        "email": member.email, "hashKey": new_hash_key(), "uuid": again.json["uuid"]})
    assert blocked.status_code == 403
    assert login(client, member.email, member.hash_key).status_code == 200


def test_five_wrong_codes_end_the_attempt(app, client):
    email = random_email()
    uuid = start(client, email).json["uuid"]
    code = last_code(app, email)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        r = client.post("/auth/verify-email", json={"email": email, "code": wrong, "uuid": uuid})
        assert r.status_code == 400 and r.json["error"] == "invalid_code"
    r = client.post("/auth/verify-email", json={"email": email, "code": code, "uuid": uuid})
    assert r.status_code == 410 and r.json["error"] == "too_many_attempts"


def test_expired_code_is_refused(app, client):
    email = random_email()
    uuid = start(client, email).json["uuid"]
    code = last_code(app, email)
    with app.app_context():
        reg = db.session.get(Registration, UUID(uuid))
        reg.code_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    r = client.post("/auth/verify-email", json={"email": email, "code": code, "uuid": uuid})
    assert r.status_code == 410 and r.json["error"] == "code_expired"


def test_complete_requires_verification_and_is_single_use(app, client):
    email = random_email()
    uuid = start(client, email).json["uuid"]
    early = client.post("/auth/complete-registration",
                        json={"email": email, "hashKey": new_hash_key(), "uuid": uuid})
    assert early.status_code == 403 and early.json["error"] == "email_not_verified"
    client.post("/auth/verify-email",
                json={"email": email, "code": last_code(app, email), "uuid": uuid})
    first = client.post("/auth/complete-registration",
                        json={"email": email, "hashKey": new_hash_key(), "uuid": uuid})
    assert first.status_code == 201
    replay = client.post("/auth/complete-registration",
                         json={"email": email, "hashKey": new_hash_key(), "uuid": uuid})
    assert replay.status_code == 409 and replay.json["error"] == "already_completed"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Member)) == 1


def test_uuid_of_another_email_is_refused(app, client):
    email, other = random_email(), random_email()
    uuid = start(client, email).json["uuid"]
    code = last_code(app, email)
    r = client.post("/auth/verify-email", json={"email": other, "code": code, "uuid": uuid})
    assert r.status_code == 400 and r.json["error"] == "unknown_registration"


def test_resend_is_throttled_and_replaces_the_code(app, client):
    email = random_email()
    uuid = start(client, email).json["uuid"]
    first_code = last_code(app, email)
    too_soon = client.post("/auth/resend-code", json={"email": email, "uuid": uuid})
    assert too_soon.status_code == 429 and too_soon.json["error"] == "resend_too_soon"
    assert 0 < int(too_soon.headers["Retry-After"]) <= 60
    with app.app_context():
        reg = db.session.get(Registration, UUID(uuid))
        reg.last_sent_at = utcnow() - timedelta(minutes=2)
        db.session.commit()
    again = client.post("/auth/resend-code", json={"email": email, "uuid": uuid})
    assert again.status_code == 200 and again.json == {"sent": True, "retryAfter": 60}
    second_code = last_code(app, email)
    assert len(mails_to(app, email)) == 2
    if second_code != first_code:  # one chance in a million they coincide
        old = client.post("/auth/verify-email",
                          json={"email": email, "code": first_code, "uuid": uuid})
        assert old.status_code == 400
    ok = client.post("/auth/verify-email", json={"email": email, "code": second_code, "uuid": uuid})
    assert ok.status_code == 200


def test_resend_stops_after_the_maximum(make_app):
    app = make_app(code_resend_interval=0, code_max_sends=2)
    client = app.test_client()
    email = random_email()
    uuid = start(client, email).json["uuid"]
    assert client.post("/auth/resend-code", json={"email": email, "uuid": uuid}).status_code == 200
    last = client.post("/auth/resend-code", json={"email": email, "uuid": uuid})
    assert last.status_code == 429 and last.json["error"] == "too_many_sends"


def test_second_registration_of_the_same_email_cannot_take_the_account(app, client):
    email = random_email()
    first = register(app, client, email)
    assert login(client, email, first.hash_key).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Member)) == 1
