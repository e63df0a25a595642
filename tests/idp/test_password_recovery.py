"""Password change and the recovery key (issue #3), with real protocol-v1 keys from the SDK."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cardcoop import crypto
from common.db import db
from idp.models import Member
from tests.conftest import random_email
from tests.idp.conftest import forget_session_cookie, last_code, login, mails_to

SCHEMA = "card.coop/schema/v1"
PERSON = {"person_type": "individual", "first_name": "Анна", "last_name": "Смирнова",
          "middle_name": "", "birthdate": "1985-07-15", "phone": "+79161234567",
          "email": "anna@example.com", "full_address": "Казань, ул. Баумана, 5"}
KDF = crypto.KdfParams(iterations=100_000)


class Person:
    """A member who knows a password and does the protocol-v1 client work."""

    def keys(self, password):
        return crypto.derive_keys(password, self.email, self.salt, KDF)

    @property
    def bearer(self):
        return {"Authorization": f"Bearer {self.tokens['accessToken']}"}

    def login(self, password):
        return login(self.client, self.email, self.keys(password).hash_key_b64u)

    def read_card(self, tokens, password):
        card = self.client.get("/card", headers={
            "Authorization": f"Bearer {tokens['accessToken']}"}).json
        card_key = crypto.unwrap_card_key(self.keys(password).enc_key, card["wrapped_card_key"])
        return crypto.decrypt_personal_data(card_key, card["encrypted_personal_data"], SCHEMA)


@pytest.fixture
def person(app, client):
    """Registered with a real password-derived hashKey and a card under its enc_key."""
    p = Person()
    p.app, p.client, p.email, p.password = app, client, random_email(), "старый пароль 1"
    started = client.post("/auth/initiate-registration",
                          json={"email": p.email, "privacy_accepted": True}).json
    p.salt = started["serverSalt"]
    client.post("/auth/verify-email", json={"email": p.email, "code": last_code(app, p.email),
                                            "uuid": started["uuid"]})
    p.tokens = client.post("/auth/complete-registration", json={
        "email": p.email, "hashKey": p.keys(p.password).hash_key_b64u,
        "uuid": started["uuid"]}).json
    forget_session_cookie(client)  # an API client: its logins below open sessions of their own
    p.card_key = crypto.generate_card_key()
    body = {"wrapped_card_key": crypto.wrap_card_key(p.keys(p.password).enc_key, p.card_key),
            "encrypted_personal_data": crypto.encrypt_personal_data(p.card_key, PERSON, SCHEMA),
            "meta": {"version": 1, "schema": SCHEMA}}
    assert client.post("/card/issue", json=body, headers=p.bearer).status_code == 201
    return p


def change(person, new_password, **extra):
    old, new = person.keys(person.password), person.keys(new_password)
    body = {"hashKey": old.hash_key_b64u, "newHashKey": new.hash_key_b64u,
            "wrapped_card_key": crypto.wrap_card_key(new.enc_key, person.card_key)} | extra
    return person.client.post("/auth/change-password", json=body, headers=person.bearer)


def test_change_password_keeps_the_card_and_closes_other_sessions(app, client, person):
    other = person.login(person.password).json
    r = change(person, "новый пароль 2")
    assert r.status_code == 200 and r.json == {"changed": True}
    assert client.get("/auth/sessions", headers={
        "Authorization": f"Bearer {other['accessToken']}"}).status_code == 401
    assert client.get("/auth/sessions", headers=person.bearer).status_code == 200
    assert person.login(person.password).status_code == 401
    fresh = person.login("новый пароль 2")
    assert fresh.status_code == 200
    assert person.read_card(fresh.json, "новый пароль 2") == PERSON
    assert mails_to(app, person.email)[-1].subject == "Пароль card.coop изменён"


def test_change_password_needs_the_current_password(app, client, person):
    wrong = person.keys("не тот пароль")
    new = person.keys("новый пароль 2")
    r = client.post("/auth/change-password", headers=person.bearer, json={
        "hashKey": wrong.hash_key_b64u, "newHashKey": new.hash_key_b64u,
        "wrapped_card_key": crypto.wrap_card_key(new.enc_key, person.card_key)})
    assert r.status_code == 403 and r.json["error"] == "wrong_password"
    assert person.login(person.password).status_code == 200


def test_change_password_requires_the_rewrapped_card_key(app, client, person):
    r = change(person, "новый пароль 2", wrapped_card_key=None)
    assert r.status_code == 400 and r.json["error"] == "wrapped_card_key_required"
    bad = change(person, "новый пароль 2",
                 wrapped_card_key=crypto.encrypt_personal_data(person.card_key, {}, SCHEMA))
    assert bad.status_code == 400 and bad.json["error"] == "invalid_envelope"
    assert person.login(person.password).status_code == 200  # nothing half-written


def test_change_password_can_raise_the_kdf(app, client, person):
    r = change(person, "новый пароль 2", kdf={"type": "pbkdf2-sha256", "iterations": 100_000})
    assert r.status_code == 200
    low = change(person, "x", kdf={"type": "pbkdf2-sha256", "iterations": 1000})
    assert low.status_code == 400


def setup_recovery(person):
    recovery_key = crypto.generate_recovery_key()
    body = {"hashKey": person.keys(person.password).hash_key_b64u,
            "recovery_auth": crypto.b64u_encode(crypto.recovery_auth_key(recovery_key)),
            "recovery_wrapped_card_key": crypto.recovery_wrap_card_key(recovery_key,
                                                                       person.card_key)}
    r = person.client.post("/auth/recovery", json=body, headers=person.bearer)
    assert r.status_code == 200 and r.json["enabled"] is True
    return recovery_key


def recovery_code(app, email):
    mail = [m for m in mails_to(app, email) if "восстановления" in m.subject][-1]
    return re.search(r"\b(\d{6})\b", mail.subject).group(1)


def test_forgotten_password_is_reset_with_the_recovery_key(app, client, person):
    assert client.get("/auth/recovery", headers=person.bearer).json["enabled"] is False
    recovery_key = setup_recovery(person)
    assert client.get("/auth/recovery", headers=person.bearer).json["enabled"] is True
    old_session = person.tokens

    uuid = client.post("/auth/recovery/initiate", json={"email": person.email}).json["uuid"]
    unlocked = client.post("/auth/recovery/verify", json={
        "email": person.email, "uuid": uuid, "code": recovery_code(app, person.email),
        "recovery_auth": crypto.b64u_encode(crypto.recovery_auth_key(
            crypto.format_recovery_key(recovery_key)))})
    assert unlocked.status_code == 200, unlocked.json
    assert unlocked.json["serverSalt"] == person.salt
    card_key = crypto.recovery_unwrap_card_key(recovery_key,
                                               unlocked.json["recovery_wrapped_card_key"])
    assert card_key == person.card_key
    new = person.keys("совсем новый пароль")
    done = client.post("/auth/recovery/complete", json={
        "email": person.email, "uuid": uuid, "newHashKey": new.hash_key_b64u,
        "wrapped_card_key": crypto.wrap_card_key(new.enc_key, card_key)})
    assert done.status_code == 200
    assert person.read_card(done.json, "совсем новый пароль") == PERSON
    assert client.get("/auth/sessions", headers={
        "Authorization": f"Bearer {old_session['accessToken']}"}).status_code == 401
    assert person.login(person.password).status_code == 401
    replay = client.post("/auth/recovery/complete", json={
        "email": person.email, "uuid": uuid, "newHashKey": new.hash_key_b64u,
        "wrapped_card_key": crypto.wrap_card_key(new.enc_key, card_key)})
    assert replay.status_code == 409


def test_wrong_recovery_key_or_code_is_refused_and_counted(app, client, person):
    setup_recovery(person)
    uuid = client.post("/auth/recovery/initiate", json={"email": person.email}).json["uuid"]
    code = recovery_code(app, person.email)
    stranger_key = crypto.b64u_encode(crypto.recovery_auth_key(crypto.generate_recovery_key()))
    for _ in range(5):
        r = client.post("/auth/recovery/verify", json={
            "email": person.email, "uuid": uuid, "code": code, "recovery_auth": stranger_key})
        assert r.status_code == 400 and r.json["error"] == "invalid_recovery"
    r = client.post("/auth/recovery/verify", json={
        "email": person.email, "uuid": uuid, "code": code, "recovery_auth": stranger_key})
    assert r.status_code == 410 and r.json["error"] == "too_many_attempts"
    early = client.post("/auth/recovery/complete", json={
        "email": person.email, "uuid": uuid, "newHashKey": "A" * 43,
        "wrapped_card_key": crypto.wrap_card_key(crypto.generate_card_key(), person.card_key)})
    assert early.status_code == 400 and early.json["error"] == "recovery_not_verified"


def test_unknown_email_gets_the_same_answer_and_no_mail(app, client):
    email = random_email("ghost")
    r = client.post("/auth/recovery/initiate", json={"email": email})
    assert r.status_code == 200 and set(r.json) == {"uuid"}
    assert mails_to(app, email) == []
    verify = client.post("/auth/recovery/verify", json={
        "email": email, "uuid": r.json["uuid"], "code": "123456", "recovery_auth": "A" * 43})
    assert verify.status_code == 400 and verify.json["error"] == "invalid_recovery"


def test_recovery_setup_needs_password_and_card(app, client, member):
    key = crypto.generate_recovery_key()
    body = {"hashKey": member.hash_key,
            "recovery_auth": crypto.b64u_encode(crypto.recovery_auth_key(key)),
            "recovery_wrapped_card_key": crypto.recovery_wrap_card_key(
                key, crypto.generate_card_key())}
    no_card = client.post("/auth/recovery", json=body, headers=member.bearer)
    assert no_card.status_code == 409 and no_card.json["error"] == "card_not_found"
    wrong = client.post("/auth/recovery", json=body | {"hashKey": "A" * 43},
                        headers=member.bearer)
    assert wrong.status_code == 403
    with app.app_context():
        stored = db.session.scalar(select(Member).where(Member.email == member.email))
        assert stored.recovery_verifier is None
