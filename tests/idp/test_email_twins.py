"""Unicode twins of one email are one account (PROTOCOL v1.1 email_norm): a second registration
of a twin is a registration of an existing address; a homograph mixing scripts is refused; an
account from before the rule signs in with the salt its keys were derived with (kdfEmail), and
a password change makes it canonical. The migration that moved the stored addresses is tested
on a database of its own."""

from __future__ import annotations

import importlib.util
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, select, text

from common.db import db
from common.settings import Settings
from idp.models import Member
from tests.conftest import DATABASE_URL, REPO
from tests.idp.conftest import (
    insert_v1_0_member,
    last_code,
    login,
    mails_to,
    new_hash_key,
    v1_0_hash_key,
)

WARNING = "Попытка регистрации в card.coop с вашим адресом"


def start(client, email):
    return client.post("/auth/initiate-registration",
                       json={"email": email, "privacy_accepted": True})


def register_as(app, client, typed: str, canonical: str) -> str:
    """Register typing `typed`; the code arrives at the canonical address. The hashKey."""
    hash_key = new_hash_key()
    uuid_ = start(client, typed).json["uuid"]
    code = last_code(app, canonical)
    assert client.post("/auth/verify-email",
                       json={"email": typed, "code": code, "uuid": uuid_}).status_code == 200
    done = client.post("/auth/complete-registration",
                       json={"email": typed, "hashKey": hash_key, "uuid": uuid_})
    assert done.status_code == 201, done.json
    return hash_key


def members(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Member.email)))


def tag() -> str:
    return secrets.token_hex(3)


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


TWINS = {
    "NFD and NFC": lambda t: ("cafe\u0301-" + t + "@example.com", "café-" + t + "@example.com"),
    "fullwidth": lambda t: (fullwidth("User-" + t) + "@" + fullwidth("EXAMPLE") + ".com",
                            "user-" + t + "@example.com"),
    "punycode domain": lambda t: ("ivan-" + t + "@xn--80a1acny.xn--p1ai",
                                  "ivan-" + t + "@почта.рф"),
    "capital Cyrillic domain": lambda t: ("ivan-" + t + "@ПОЧТА.РФ", "ivan-" + t + "@почта.рф"),
}


@pytest.mark.parametrize("kind", list(TWINS))
def test_a_twin_registers_no_second_account(app, client, kind):
    twin, canonical = TWINS[kind](tag())
    hash_key = register_as(app, client, canonical, canonical)
    again = start(client, twin)
    assert again.status_code == 200 and set(again.json) == {"uuid", "serverSalt", "kdf"}
    assert mails_to(app, canonical)[-1].subject == WARNING  # the owner is told, as for any copy
    code_sent = client.post("/auth/verify-email", json={"email": twin, "code": "000000",
                                                        "uuid": again.json["uuid"]})
    assert code_sent.status_code == 400
    assert members(app) == [canonical]
    assert login(client, twin, hash_key).status_code == 200  # the twin is the same account


@pytest.mark.parametrize("kind", list(TWINS))
def test_a_twin_typed_first_is_stored_canonical(app, client, kind):
    twin, canonical = TWINS[kind](tag())
    register_as(app, client, twin, canonical)
    assert members(app) == [canonical]
    assert start(client, canonical).status_code == 200
    assert mails_to(app, canonical)[-1].subject == WARNING


@pytest.mark.parametrize("email", [
    "iv\u0430n@example.com",  # a Cyrillic а among Latin letters
    "\u043aate@example.com",  # a Cyrillic к
    "a\u03bbpha@example.com",  # a Greek λ
    "ivan@exa_mple.com",
    "ivan@example.com.",
    "ivan@xn--a.com",
])
def test_what_the_rule_refuses_is_invalid_email_everywhere(app, client, email):
    for path, body in (("/auth/initiate-registration", {"privacy_accepted": True}),
                       ("/auth/initiate-login", {}),
                       ("/auth/recovery/initiate", {})):
        refused = client.post(path, json={"email": email} | body)
        assert refused.status_code == 400, path
        assert refused.json["error"] == "invalid_email"
    assert members(app) == []


def test_initiate_login_names_the_salt_of_each_kind_of_address(app, client):
    t = tag()
    legacy, canonical = "cafe\u0301-" + t + "@example.com", "café-" + t + "@example.com"
    insert_v1_0_member(app, canonical, legacy, "a password")
    for typed in (legacy, canonical, canonical.upper()):
        assert client.post("/auth/initiate-login",
                           json={"email": typed}).json["kdfEmail"] == legacy
    unknown = "nobody-" + t + "@ПОЧТА.РФ"
    assert client.post("/auth/initiate-login",
                       json={"email": unknown}).json["kdfEmail"] == "nobody-" + t + "@почта.рф"


def test_a_v1_0_member_signs_in_and_a_password_change_makes_the_salt_canonical(app, client):
    t = tag()
    legacy, canonical = "cafe\u0301-" + t + "@example.com", "café-" + t + "@example.com"
    server_salt = insert_v1_0_member(app, canonical, legacy, "old password")
    iterations = 100_000
    old = v1_0_hash_key("old password", legacy, server_salt, iterations)
    signed_in = login(client, canonical, old)
    assert signed_in.status_code == 200
    bearer = {"Authorization": f"Bearer {signed_in.json['accessToken']}"}
    account = client.get("/auth/account", headers=bearer).json
    assert account["email"] == canonical and account["kdfEmail"] == legacy

    new = v1_0_hash_key("new password", canonical, server_salt, iterations)
    changed = client.post("/auth/change-password", headers=bearer,
                          json={"hashKey": old, "newHashKey": new})
    assert changed.status_code == 200, changed.json
    with app.app_context():
        assert db.session.scalar(select(Member.kdf_email).where(Member.email == canonical)) \
            is None
    assert client.post("/auth/initiate-login",
                       json={"email": legacy}).json["kdfEmail"] == canonical
    assert login(client, legacy, new).status_code == 200


# -- migration 0006 -------------------------------------------------------------------------------


def load_migration() -> Any:
    path = REPO / "migrations" / "versions" / "0006_email_canonical.py"
    spec = importlib.util.spec_from_file_location("migration_0006", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_carries_the_same_rule_as_the_sdk():
    """Its copy of email_norm must give what cardcoop's gives (it is a copy on purpose)."""
    from cardcoop.crypto import InvalidEmail, normalize_email
    from tests.cardcoop.test_email_parity import _generated
    from tests.cardcoop.test_protocol_vectors import EMAIL_NORM

    migration = load_migration()
    for case in [v["input"] for v in EMAIL_NORM] + _generated(2000, seed=5):
        try:
            expected: str | None = normalize_email(case)
        except InvalidEmail:
            expected = None
        assert migration.email_norm(case) == expected, ascii(case)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path) -> Iterator[str]:
    """A database of its own, migrated by the test itself: SQLite always, PostgreSQL when the
    run has one (CARDCOOP_DATABASE_URL, as in CI)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        return
    if not DATABASE_URL.startswith("postgresql"):
        pytest.skip("no PostgreSQL in this run (CARDCOOP_DATABASE_URL)")
    name = f"cardcoop_m0006_{secrets.token_hex(4)}"
    admin = create_engine(make_url(DATABASE_URL).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_migration_moves_each_member_to_the_canonical_address(base_settings, empty_database,
                                                                   capsys):
    from flask_migrate import downgrade

    from idp import create_app

    url = empty_database
    app = create_app(Settings(**(base_settings | {"database_url": url})))
    directory = str(REPO / "migrations")
    with app.app_context():
        upgrade(directory=directory, revision="0005")
        db.engine.dispose()
    day = timedelta(days=1)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    # (stored by v1.0, created_at, email after, kdf_email after)
    rows = [
        ("ｕｓｅｒ@ｅｘａｍｐｌｅ.com", t0, "user@example.com", "ｕｓｅｒ@ｅｘａｍｐｌｅ.com"),
        ("ivan@xn--80a1acny.xn--p1ai", t0, "ivan@почта.рф", "ivan@xn--80a1acny.xn--p1ai"),
        ("olga@почта.рф", t0, "olga@почта.рф", None),  # canonical already
        ("iv\u0430n@example.com", t0, "iv\u0430n@example.com", None),  # refused by v1.1
        # The canonical form is some member's address already: that member keeps it.
        ("cafe\u0301@example.com", t0, "cafe\u0301@example.com", None),
        ("café@example.com", t0 + day, "café@example.com", None),
        # Two old forms fold into one: the older account gets it, the newer keeps its own.
        ("ａ@example.com", t0 + 2 * day, "a@example.com", "ａ@example.com"),
        ("a@ｅxample.com", t0 + 3 * day, "a@ｅxample.com", None),
    ]
    engine = create_engine(url)
    with engine.begin() as conn:
        for stored, created, _, _ in rows:
            conn.execute(text(
                "INSERT INTO idp_members (id, email, server_salt, kdf_type, kdf_iterations, "
                "verifier, privacy_version, privacy_accepted_at, created_at) VALUES "
                "(:id, :email, 's', 'pbkdf2-sha256', 100000, 'v', '1', :at, :at)"),
                {"id": uuid.uuid4().hex, "email": stored, "at": created})
    with app.app_context():
        upgrade(directory=directory)
        db.engine.dispose()
    printed = capsys.readouterr().out
    assert ("0006 email_norm: 3 member address(es) made canonical (old form kept as kdf_email), "
            "2 left as stored (canonical form already taken), 1 left as stored (refused by the "
            "v1.1 rule)") in printed
    assert not any(stored in printed for stored, *_ in rows)  # counts only, never an address

    with engine.connect() as conn:
        after = {tuple(row) for row in conn.execute(
            text("SELECT email, kdf_email FROM idp_members"))}
    assert after == {(email, kdf_email) for _, _, email, kdf_email in rows}

    with app.app_context():
        downgrade(directory=directory, revision="0005")
        db.engine.dispose()
    with engine.connect() as conn:
        restored = set(conn.scalars(text("SELECT email FROM idp_members")))
    assert restored == {stored for stored, *_ in rows}
    engine.dispose()
