"""The SDK's card operations (cardcoop.card and the card endpoints of cardcoop.client) against a
real idp over HTTP: issue, read, update, accounts, password change, recovery, and the migration
of a card stored in the legacy format. The server must only ever see ciphertext."""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from cardcoop import (
    Account,
    BadRequest,
    Card,
    CardInvalid,
    CardMeta,
    CardSession,
    Conflict,
    Forbidden,
    IdpClient,
    InvalidCredentials,
    NotFound,
    RecoveryStatus,
    RecoveryUnlocked,
    Session,
    StoredAccount,
    StoredCard,
    Unauthorized,
    UnsafeKdf,
    recover,
)
from cardcoop.crypto import (
    InvalidKey,
    K1PrivateKey,
    K1PublicKey,
    KdfParams,
    b64u_encode,
    decrypt_personal_data,
    encrypt_personal_data,
    generate_card_key,
    parse_recovery_key,
    recovery_auth_key,
    recovery_unwrap_card_key,
    unwrap_card_key,
    wrap_card_key,
)
from cardcoop.migrations import CURRENT_VERSION, CardMigrationError
from cardcoop.schema import SCHEMA_ID
from common.db import db
from idp.card.models import Card as CardRow
from tests.cardcoop.conftest import PASSWORD, LiveIdp, database_values, occurs
from tests.conftest import REPO, random_email

NEW_PASSWORD = "another long passphrase, 2026"
FIXTURES: dict[str, Any] = json.loads(
    (REPO / "widget" / "test" / "fixtures" / "cards.json").read_text(encoding="utf-8"))


def valid(name: str) -> dict[str, Any]:
    return copy.deepcopy(next(c["data"] for c in FIXTURES["valid"] if c["name"] == name))


INDIVIDUAL = "individual with passport"
ENTREPRENEUR = "entrepreneur (valid 12-digit INN and OGRNIP)"
V0_CONVERTIBLE = [c for c in FIXTURES["v0"] if not c["problems"]]
V0_NEEDS_CORRECTION = [c for c in FIXTURES["v0"] if c["problems"]]
assert V0_CONVERTIBLE and V0_NEEDS_CORRECTION


# -- the card session over the live idp of conftest.py -----------------------------------------


@pytest.fixture
def card(registered: Session) -> CardSession:
    return CardSession(registered)


def store_at_version(app: Flask, card_id: str, version: int) -> None:
    """Set a stored card's meta.version directly (the API only accepts writes of version 1)."""
    with app.app_context():
        db.session.execute(update(CardRow).where(CardRow.id == uuid.UUID(card_id))
                           .values(meta={"version": version, "schema": SCHEMA_ID}))
        db.session.commit()


def issue_v0(sdk: IdpClient, session: Session, legacy: dict[str, Any]) -> tuple[str, bytes]:
    """A card whose ciphertext holds a legacy (v0) plaintext, as a pre-release client wrote it:
    encrypted with the card key and issued through the raw API, then marked version 0."""
    card_key = generate_card_key()
    card_id = sdk.issue_card(session.access_token,
                             encrypt_personal_data(card_key, legacy, SCHEMA_ID),
                             wrap_card_key(session.enc_key, card_key),
                             {"version": 1, "schema": SCHEMA_ID})
    return card_id, card_key


# -- issue, read, update ------------------------------------------------------------------------


def test_issue_then_read_returns_the_same_data(idp: LiveIdp, sdk: IdpClient,
                                               registered: Session, card: CardSession) -> None:
    data = valid(INDIVIDUAL)
    card_id = card.issue_card(data)
    assert str(uuid.UUID(card_id)) == card_id
    assert card.revision == 1

    read = card.read_card()
    assert isinstance(read, Card)
    assert read.card_id == card_id and read.data == data
    assert (read.version, read.revision, read.accounts) == (CURRENT_VERSION, 1, [])
    assert read.problems == [] and read.migrated_from is None

    # Another session of the same member (a fresh login, a fresh object) reads the same card.
    again = CardSession(sdk.login(registered.email, PASSWORD)).read_card()
    assert again.data == data and again.card_id == card_id

    # What went over the wire: ciphertext, the current meta, and no personal value.
    [issued] = idp.sent("/card/issue", "POST")
    assert set(issued) == {"encrypted_personal_data", "wrapped_card_key", "meta"}
    assert issued["meta"] == {"version": CURRENT_VERSION, "schema": SCHEMA_ID}
    for value in ("Петров", "Иван", "123456", "4510", "ivan.petrov@example.ru"):
        assert value not in json.dumps(issued, ensure_ascii=False)

    stored = sdk.get_card(registered.access_token)
    assert isinstance(stored, StoredCard)
    assert stored.card_id == card_id and stored.revision == 1 and stored.accounts == []
    assert stored.meta == CardMeta(version=CURRENT_VERSION, schema=SCHEMA_ID)
    card_key = unwrap_card_key(registered.enc_key, stored.wrapped_card_key)
    assert decrypt_personal_data(card_key, stored.encrypted_personal_data, SCHEMA_ID) == data


def test_update_card(idp: LiveIdp, card: CardSession) -> None:
    data = valid(INDIVIDUAL)
    card.issue_card(data)
    changed = {**data, "phone": "+7 (495) 765-43-21"}
    del changed["passport"]
    assert card.update_card(changed) == 2
    assert card.revision == 2

    read = card.read_card()
    assert read.data == changed and read.revision == 2
    [put] = idp.sent("/card", "PUT")
    assert put["revision"] == 1 and put["meta"] == {"version": 1, "schema": SCHEMA_ID}
    assert "765-43-21" not in json.dumps(put)


def test_update_needs_a_known_revision(sdk: IdpClient, registered: Session,
                                       card: CardSession) -> None:
    card.issue_card(valid(INDIVIDUAL))
    fresh = CardSession(sdk.login(registered.email, PASSWORD))
    with pytest.raises(RuntimeError, match="read the card first"):
        fresh.update_card(valid(INDIVIDUAL))
    fresh.add_account("voskhod")  # fetches the card key, but reads no data: still no revision
    assert fresh.revision is None
    with pytest.raises(RuntimeError, match="read the card first"):
        fresh.update_card(valid(INDIVIDUAL))
    # An explicit revision is enough (the card key is fetched and unwrapped on the way).
    assert fresh.update_card(valid(INDIVIDUAL), revision=1) == 2


def test_a_stale_revision_is_a_conflict(sdk: IdpClient, registered: Session,
                                        card: CardSession) -> None:
    data = valid(INDIVIDUAL)
    card.issue_card(data)
    other = CardSession(sdk.login(registered.email, PASSWORD))
    assert other.read_card().revision == 1
    assert card.read_card().revision == 1

    mine = {**data, "full_address": "101000, г. Москва, ул. Мясницкая, д. 1"}
    theirs = {**data, "full_address": "190000, г. Санкт-Петербург, Невский пр., д. 1"}
    assert other.update_card(theirs) == 2
    with pytest.raises(Conflict) as caught:
        card.update_card(mine)
    assert caught.value.status == 409 and caught.value.error == "stale_revision"

    # Nothing was overwritten; after reading again, the change goes through.
    reread = card.read_card()
    assert reread.data == theirs and reread.revision == 2
    assert card.update_card(mine) == 3
    assert other.read_card().data == mine


def test_invalid_data_is_refused_before_any_request(idp: LiveIdp, card: CardSession) -> None:
    wrong_inn = copy.deepcopy(next(c for c in FIXTURES["invalid"]
                                   if c["name"] == "entrepreneur INN: wrong check digit"))
    before = len(idp.log)
    with pytest.raises(CardInvalid) as caught:
        card.issue_card(wrong_inn["data"])
    assert [p.path for p in caught.value.problems] == ["/details/inn"]
    assert caught.value.problems[0].message_en == wrong_inn["message_en"]
    assert "/details/inn: INN: wrong check digit" in str(caught.value)
    assert wrong_inn["data"]["details"]["inn"] not in str(caught.value)
    assert isinstance(caught.value, ValueError)

    with pytest.raises(CardInvalid):
        card.issue_card({"person_type": "individual"})
    assert len(idp.log) == before  # no request at all

    card.issue_card(valid(INDIVIDUAL))
    before = len(idp.log)
    broken = {**valid(INDIVIDUAL), "birthdate": "05.03.1990"}
    with pytest.raises(CardInvalid) as caught:
        card.update_card(broken)
    assert [p.path for p in caught.value.problems] == ["/birthdate"]
    assert len(idp.log) == before


def test_raw_card_endpoints(idp: LiveIdp, sdk: IdpClient, registered: Session) -> None:
    token = registered.access_token
    schema = sdk.card_schema()
    assert schema["$id"] == SCHEMA_ID and "oneOf" in schema
    assert sdk.accounts(token) == []
    with pytest.raises(NotFound) as missing:
        sdk.get_card(token)
    assert missing.value.error == "card_not_found"
    with pytest.raises(NotFound):
        CardSession(registered).read_card()

    card_id, card_key = issue_v0(sdk, registered, valid(INDIVIDUAL))
    with pytest.raises(Conflict) as again:
        sdk.issue_card(token, encrypt_personal_data(card_key, valid(INDIVIDUAL), SCHEMA_ID),
                       wrap_card_key(registered.enc_key, card_key),
                       CardMeta(version=1, schema=SCHEMA_ID))
    assert again.value.error == "card_exists"
    assert sdk.put_card(token, encrypt_personal_data(card_key, valid(INDIVIDUAL), SCHEMA_ID),
                        CardMeta(1, SCHEMA_ID), 1) == 2
    with pytest.raises(Conflict):
        sdk.put_card(token, encrypt_personal_data(card_key, valid(INDIVIDUAL), SCHEMA_ID),
                     CardMeta(1, SCHEMA_ID), 1)
    assert sdk.get_card(token).card_id == card_id


# -- cooperative accounts -----------------------------------------------------------------------


def test_add_account(idp: LiveIdp, sdk: IdpClient, registered: Session,
                     card: CardSession) -> None:
    card.issue_card(valid(INDIVIDUAL))
    account = card.add_account("voskhod")
    assert isinstance(account, Account)
    assert account.coopname == "voskhod"
    assert re.fullmatch(r"[a-z]{12}", account.username)
    public = K1PublicKey.from_string(account.public_key)
    assert account.public_key.startswith("PUB_K1_")
    assert K1PrivateKey.from_string(account.private_key).public_key == public
    assert account.private_key not in repr(account) and account.public_key in repr(account)

    read = card.read_card()
    assert read.accounts == [account]
    assert read.account("voskhod") == account and read.account("other") is None
    assert read.revision == 1  # accounts do not touch the personal data's revision

    # A fresh session decrypts the same private key.
    other = CardSession(sdk.login(registered.email, PASSWORD)).read_card()
    assert other.accounts[0].private_key == account.private_key

    [stored] = sdk.accounts(registered.access_token)
    assert isinstance(stored, StoredAccount)
    assert (stored.coopname, stored.username, stored.public_key) == (
        "voskhod", account.username, account.public_key)
    [sent] = idp.sent("/card/add-account", "POST")
    assert account.private_key not in json.dumps(sent)

    with pytest.raises(Conflict) as twice:
        card.add_account("voskhod")
    assert twice.value.error == "account_exists"
    assert [a.coopname for a in card.read_card().accounts] == ["voskhod"]
    second = card.add_account("coop.two")
    assert [a.coopname for a in card.read_card().accounts] == ["voskhod", "coop.two"]
    assert second.username != account.username

    before = len(idp.log)
    for bad in ("", "Voskhod", "toolongcoopname", "a b", "coop."):
        with pytest.raises(ValueError, match="coopname"):
            card.add_account(bad)
    assert len(idp.log) == before


def test_add_account_before_the_card(registered: Session) -> None:
    with pytest.raises(NotFound):
        CardSession(registered).add_account("voskhod")


# -- password change ----------------------------------------------------------------------------


def test_change_password_rewraps_the_same_card_key(idp: LiveIdp, sdk: IdpClient,
                                                   registered: Session,
                                                   card: CardSession) -> None:
    data = valid(INDIVIDUAL)
    card.issue_card(data)
    account = card.add_account("voskhod")
    other_device = sdk.login(registered.email, PASSWORD)
    old_enc_key = registered.enc_key
    wrapped_before = sdk.get_card(registered.access_token).wrapped_card_key

    card.change_password(NEW_PASSWORD, PASSWORD)
    assert registered.enc_key != old_enc_key
    # This session goes on with the new enc_key; the other device's session was ended.
    assert card.read_card().data == data
    with pytest.raises(Unauthorized):
        CardSession(other_device).read_card()

    stored = sdk.get_card(registered.access_token)
    assert stored.wrapped_card_key != wrapped_before
    assert unwrap_card_key(registered.enc_key, stored.wrapped_card_key) == card._card_key

    relogged = sdk.login(registered.email, NEW_PASSWORD)
    assert relogged.enc_key == registered.enc_key
    read = CardSession(relogged).read_card()
    assert read.data == data and read.accounts == [account]
    with pytest.raises(InvalidCredentials):
        sdk.login(registered.email, PASSWORD)

    [sent] = idp.sent("/auth/change-password", "POST")
    assert set(sent) == {"hashKey", "newHashKey", "wrapped_card_key"}
    assert NEW_PASSWORD not in json.dumps(sent) and PASSWORD not in json.dumps(sent)


def test_change_password_with_a_wrong_current_password(sdk: IdpClient, registered: Session,
                                                       card: CardSession) -> None:
    card.issue_card(valid(INDIVIDUAL))
    enc_key = registered.enc_key
    with pytest.raises(Forbidden) as caught:
        card.change_password(NEW_PASSWORD, "not the password")
    assert caught.value.error == "wrong_password"
    assert registered.enc_key == enc_key  # unchanged
    assert card.read_card().data == valid(INDIVIDUAL)
    assert sdk.login(registered.email, PASSWORD).enc_key == enc_key


def test_change_password_without_a_card_and_with_new_kdf(idp: LiveIdp, sdk: IdpClient,
                                                         registered: Session) -> None:
    card = CardSession(registered)
    card.change_password(NEW_PASSWORD, PASSWORD, kdf=KdfParams(iterations=120_000))
    [sent] = idp.sent("/auth/change-password", "POST")
    assert "wrapped_card_key" not in sent
    assert sent["kdf"] == {"type": "pbkdf2-sha256", "iterations": 120_000}
    assert registered.kdf == KdfParams(iterations=120_000)

    relogged = sdk.login(registered.email, NEW_PASSWORD)
    assert relogged.kdf == KdfParams(iterations=120_000)
    assert relogged.enc_key == registered.enc_key
    # The card issued now is readable after the next login.
    card.issue_card(valid(INDIVIDUAL))
    assert CardSession(relogged).read_card().data == valid(INDIVIDUAL)

    before = len(idp.log)
    with pytest.raises(UnsafeKdf):
        card.change_password(PASSWORD, NEW_PASSWORD, kdf=KdfParams(iterations=10_000_001))
    assert len(idp.log) == before


def test_change_password_needs_the_server_salt(sdk: IdpClient, registered: Session) -> None:
    bare = Session(sdk, registered.email, registered.tokens, registered.enc_key, registered.kdf)
    with pytest.raises(RuntimeError, match="serverSalt"):
        CardSession(bare).change_password(NEW_PASSWORD, PASSWORD)


# -- recovery -----------------------------------------------------------------------------------


def test_setup_recovery_then_recover(idp: LiveIdp, sdk: IdpClient, registered: Session,
                                     card: CardSession) -> None:
    data = valid(INDIVIDUAL)
    card.issue_card(data)
    account = card.add_account("voskhod")
    status = card.recovery_status()
    assert status == RecoveryStatus(enabled=False, created_at=None)

    recovery_key = card.setup_recovery(PASSWORD)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){12}", recovery_key)
    status = card.recovery_status()
    assert status.enabled and status.created_at is not None

    # The member types it back in lower case with spaces: still the same key.
    typed = recovery_key.lower().replace("-", " ")
    session = recover(sdk, registered.email.upper(), typed, NEW_PASSWORD, idp.code_provider)
    assert isinstance(session, Session) and session.email == registered.email
    read = CardSession(session).read_card()
    assert read.data == data and read.accounts == [account]

    # Every other session ended; the new password logs in, the old one does not.
    with pytest.raises(Unauthorized):
        card.read_card()
    assert CardSession(sdk.login(registered.email, NEW_PASSWORD)).read_card().data == data
    with pytest.raises(InvalidCredentials):
        sdk.login(registered.email, PASSWORD)

    # The recovered session can change the password again (it knows salt and KDF).
    CardSession(session).change_password(PASSWORD, NEW_PASSWORD)
    assert CardSession(sdk.login(registered.email, PASSWORD)).read_card().data == data

    # Neither the recovery key nor the new password went over the wire.
    raw_key = parse_recovery_key(recovery_key)
    for exchange in idp.log:
        body = exchange.request.decode("utf-8", "replace")
        assert recovery_key not in body and b64u_encode(raw_key) not in body
        assert NEW_PASSWORD not in body


def test_recovery_refusals(idp: LiveIdp, sdk: IdpClient, registered: Session,
                           card: CardSession) -> None:
    with pytest.raises(NotFound):  # the recovery key protects the card key: issue first
        card.setup_recovery(PASSWORD)
    card.issue_card(valid(INDIVIDUAL))
    with pytest.raises(Forbidden):
        card.setup_recovery("not the password")
    recovery_key = card.setup_recovery(PASSWORD)

    before = len(idp.log)
    with pytest.raises(InvalidKey):
        recover(sdk, registered.email, "not-a-recovery-key", NEW_PASSWORD, idp.code_provider)
    assert len(idp.log) == before

    wrong = CardSession(registered).setup_recovery(PASSWORD)  # replaces the first one
    assert wrong != recovery_key
    with pytest.raises(BadRequest) as caught:
        recover(sdk, registered.email, recovery_key, NEW_PASSWORD, idp.code_provider)
    assert caught.value.error == "invalid_recovery"
    assert sdk.login(registered.email, PASSWORD).enc_key == registered.enc_key

    # The raw steps: verify gives the wrapped key, the salt and the KDF parameters.
    attempt = sdk.recovery_initiate(registered.email)
    unlocked = sdk.recovery_verify(registered.email, attempt, idp.code_provider(registered.email),
                                   b64u_encode(recovery_auth_key(wrong)))
    assert isinstance(unlocked, RecoveryUnlocked)
    wrapped, server_salt, kdf = unlocked
    assert server_salt == registered.server_salt and kdf == registered.kdf
    assert recovery_unwrap_card_key(wrong, wrapped) == card._card_key
    assert wrapped not in repr(unlocked)


# -- the legacy format (PROTOCOL.md §4) ----------------------------------------------------------


@pytest.mark.parametrize("fixture", V0_CONVERTIBLE, ids=[c["name"] for c in V0_CONVERTIBLE])
def test_a_v0_card_is_migrated_on_read(idp: LiveIdp, sdk: IdpClient, registered: Session,
                                       fixture: dict[str, Any]) -> None:
    card_id, card_key = issue_v0(sdk, registered, fixture["data"])
    store_at_version(idp.app, card_id, 0)
    assert sdk.get_card(registered.access_token).meta.version == 0

    read = CardSession(registered).read_card()
    assert read.data == fixture["v1"]
    assert (read.version, read.migrated_from, read.revision) == (1, 0, 2)
    assert read.problems == []

    stored = sdk.get_card(registered.access_token)
    assert stored.meta == CardMeta(version=1, schema=SCHEMA_ID) and stored.revision == 2
    assert decrypt_personal_data(card_key, stored.encrypted_personal_data,
                                 SCHEMA_ID) == fixture["v1"]
    [put] = idp.sent("/card", "PUT")
    assert put["meta"] == {"version": 1, "schema": SCHEMA_ID} and put["revision"] == 1

    # The next read has nothing to migrate.
    again = CardSession(registered).read_card()
    assert again.data == fixture["v1"] and again.migrated_from is None and again.revision == 2
    assert len(idp.sent("/card", "PUT")) == 1


@pytest.mark.parametrize("fixture", V0_NEEDS_CORRECTION,
                         ids=[c["name"] for c in V0_NEEDS_CORRECTION])
def test_a_v0_card_that_needs_correction_is_not_written_back(
        idp: LiveIdp, sdk: IdpClient, registered: Session, fixture: dict[str, Any]) -> None:
    card_id, card_key = issue_v0(sdk, registered, fixture["data"])
    store_at_version(idp.app, card_id, 0)
    card = CardSession(registered)

    read = card.read_card()
    assert read.data == fixture["v1"]
    assert [p.path for p in read.problems] == fixture["problems"]
    assert (read.version, read.migrated_from, read.revision) == (0, 0, 1)
    assert idp.sent("/card", "PUT") == []
    assert sdk.get_card(registered.access_token).meta.version == 0

    # The member corrects it: the update stores version 1.
    corrected = {**read.data, "first_name": "Иван", "birthdate": "1990-03-05"}
    del corrected["snils"]
    assert card.update_card(corrected) == 2
    stored = sdk.get_card(registered.access_token)
    assert stored.meta.version == 1
    assert decrypt_personal_data(card_key, stored.encrypted_personal_data, SCHEMA_ID) == corrected


def test_migration_write_back_that_meets_a_concurrent_write(
        idp: LiveIdp, sdk: IdpClient, registered: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    legacy = V0_CONVERTIBLE[0]
    card_id, card_key = issue_v0(sdk, registered, legacy["data"])
    store_at_version(idp.app, card_id, 0)
    theirs = valid(INDIVIDUAL) | {"phone": "+7 (495) 000-00-00"}
    real_put = sdk.put_card
    calls: list[int] = []

    def put_after_someone_else(token: str, blob: str, meta: Any, revision: int) -> int:
        if not calls:  # another device stores its own change first
            real_put(token, encrypt_personal_data(card_key, theirs, SCHEMA_ID),
                     CardMeta(1, SCHEMA_ID), revision)
        calls.append(revision)
        return real_put(token, blob, meta, revision)

    monkeypatch.setattr(sdk, "put_card", put_after_someone_else)
    read = CardSession(registered).read_card()
    # The write-back lost the race and was not retried over the newer card: it read again.
    assert calls == [1]
    assert read.data == theirs and read.version == 1 and read.revision == 2
    assert read.migrated_from is None


def test_a_card_newer_than_the_sdk_is_refused(idp: LiveIdp, sdk: IdpClient,
                                              registered: Session) -> None:
    card_id, _ = issue_v0(sdk, registered, valid(INDIVIDUAL))
    store_at_version(idp.app, card_id, CURRENT_VERSION + 1)
    with pytest.raises(CardMigrationError, match="newer"):
        CardSession(registered).read_card()
    assert idp.sent("/card", "PUT") == []


# -- what the server and the reprs never see -----------------------------------------------------


def test_the_database_holds_no_personal_value(idp: LiveIdp, sdk: IdpClient) -> None:
    person = sdk.register(random_email(), PASSWORD, idp.code_provider)
    person_card = CardSession(person)
    person_card.issue_card(valid(INDIVIDUAL))
    account = person_card.add_account("voskhod")
    recovery_key = person_card.setup_recovery(PASSWORD)
    person_card.update_card(valid(INDIVIDUAL) | {"middle_name": "Олегович"})
    person_card.change_password(NEW_PASSWORD, PASSWORD)

    entrepreneur = sdk.register(random_email(), PASSWORD, idp.code_provider)
    CardSession(entrepreneur).issue_card(valid(ENTREPRENEUR))
    issue_v0(sdk, sdk.register(random_email(), PASSWORD, idp.code_provider),
             V0_CONVERTIBLE[0]["data"])

    values = database_values(idp.app)
    assert occurs(account.public_key, values)  # public on the chain anyway
    individual, inn_holder = valid(INDIVIDUAL), valid(ENTREPRENEUR)
    secrets: list[str | bytes] = [
        individual["last_name"], individual["first_name"], "Олегович",
        individual["passport"]["number"], individual["passport"]["issued_by"],
        individual["email"], individual["full_address"], "Тверская",
        inn_holder["last_name"], inn_holder["details"]["inn"], inn_holder["details"]["ogrn"],
        V0_CONVERTIBLE[0]["data"]["fio"],
        account.private_key, recovery_key, b64u_encode(parse_recovery_key(recovery_key)),
        PASSWORD, NEW_PASSWORD,
    ]
    card_key = person_card._card_key
    assert card_key is not None
    for key in (card_key, person.enc_key, entrepreneur.enc_key):
        secrets += [key, key.hex(), b64u_encode(key)]
    for secret in secrets:
        assert not occurs(secret, values), "a personal value or key is stored in clear"
    # ... nor was any of them sent.
    for exchange in idp.log:
        for secret in secrets:
            if isinstance(secret, str):
                assert secret not in exchange.request.decode("utf-8", "replace")
                assert json.dumps(secret)[1:-1] not in exchange.request.decode()
            else:
                assert secret not in exchange.request


def test_reprs_hide_keys_and_personal_data(sdk: IdpClient, registered: Session,
                                           card: CardSession) -> None:
    data = valid(INDIVIDUAL)
    card.issue_card(data)
    account = card.add_account("voskhod")
    read = card.read_card()
    stored = sdk.get_card(registered.access_token)
    card_key = card._card_key
    assert card_key is not None
    texts = [repr(read), str(read), repr(account), repr(card), repr(stored),
             repr(stored.accounts), repr(registered)]
    for text in texts:
        for secret in (data["last_name"], data["passport"]["number"], account.private_key,
                       stored.encrypted_personal_data, stored.wrapped_card_key,
                       stored.accounts[0].encrypted_account, card_key.hex(), repr(card_key),
                       b64u_encode(card_key), registered.enc_key.hex()):
            assert secret not in text
    assert read.card_id in repr(read) and account.username in repr(account)
    assert "revision=1" in repr(card)


def test_session_remembers_salt_and_kdf(idp: LiveIdp, sdk: IdpClient,
                                        registered: Session) -> None:
    assert registered.server_salt is not None
    assert registered.client is sdk
    session = sdk.login(registered.email, PASSWORD)
    assert session.server_salt == registered.server_salt and session.kdf == registered.kdf
    assert registered.server_salt not in repr(registered)
