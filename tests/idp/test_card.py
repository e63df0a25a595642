"""The card API: ciphertext in, ciphertext out; shapes checked; one card, one account per
cooperative, optimistic concurrency (issue #3). Envelopes are made with the SDK (protocol v1)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cardcoop import crypto
from common.db import db
from idp.card.models import Card, CoopAccount
from idp.card.numbers import is_valid_card_number, luhn_check_digit, new_card_number
from tests.idp.conftest import register

SCHEMA = "card.coop/schema/v1"
PERSON = {"person_type": "individual", "first_name": "Иван", "last_name": "Петров",
          "middle_name": "Сергеевич", "birthdate": "1990-02-01", "phone": "+79001234567",
          "email": "ivan@example.com", "full_address": "Москва, ул. Ленина, 1"}


def bearer(member) -> dict[str, str]:
    return member.bearer


def new_card(person=PERSON):
    enc_key, card_key = crypto.generate_card_key(), crypto.generate_card_key()
    return enc_key, card_key, {
        "wrapped_card_key": crypto.wrap_card_key(enc_key, card_key),
        "encrypted_personal_data": crypto.encrypt_personal_data(card_key, person, SCHEMA),
        "meta": {"version": 1, "schema": SCHEMA},
    }


@pytest.fixture
def carded(app, client, member):
    _, card_key, body = new_card()
    issued = client.post("/card/issue", json=body, headers=bearer(member))
    assert issued.status_code == 201, issued.json
    member.card_key = card_key
    member.card_id = issued.json["card_id"]
    return member


def test_schema_is_public_json_schema(client):
    r = client.get("/card/schema")
    assert r.status_code == 200
    assert r.json["$id"] == SCHEMA
    assert r.json["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert len(r.json["oneOf"]) == 3


def test_issue_and_read_back_only_ciphertext(app, client, member):
    enc_key, _, body = new_card()
    issued = client.post("/card/issue", json=body, headers=bearer(member))
    assert issued.status_code == 201
    assert issued.json["status"] == "issued"
    card = client.get("/card", headers=bearer(member)).json
    assert card["card_id"] == issued.json["card_id"]
    assert is_valid_card_number(card["card_number"])
    assert card["revision"] == 1 and card["accounts"] == []
    assert card["meta"] == {"version": 1, "schema": SCHEMA}
    unwrapped = crypto.unwrap_card_key(enc_key, card["wrapped_card_key"])
    assert crypto.decrypt_personal_data(unwrapped, card["encrypted_personal_data"],
                                        SCHEMA) == PERSON
    with app.app_context():
        row = db.session.scalar(select(Card))
        stored = f"{row.encrypted_personal_data}{row.wrapped_card_key}{row.meta}"
    for value in ("Петров", "Иван", "1990-02-01", "+79001234567"):
        assert value not in stored


def test_one_card_per_member(client, carded):
    _, _, body = new_card()
    again = client.post("/card/issue", json=body, headers=bearer(carded))
    assert again.status_code == 409 and again.json["error"] == "card_exists"


def test_card_before_issue_is_404(client, member):
    r = client.get("/card", headers=bearer(member))
    assert r.status_code == 404 and r.json["error"] == "card_not_found"
    assert client.get("/card/accounts", headers=bearer(member)).json == {"accounts": []}


def test_card_endpoints_need_a_token(client):
    for method, path in (("get", "/card"), ("post", "/card/issue"), ("put", "/card"),
                         ("post", "/card/add-account"), ("get", "/card/accounts")):
        r = getattr(client, method)(path, json={})
        assert r.status_code == 401, path


@pytest.mark.parametrize("field, make_bad", [
    ("wrapped_card_key", lambda c: crypto.encrypt_personal_data(c, {"a": 1}, SCHEMA)),
    ("wrapped_card_key", lambda c: crypto.recovery_wrap_card_key(crypto.generate_card_key(), c)),
    ("encrypted_personal_data", lambda c: crypto.wrap_card_key(c, c)),
    ("encrypted_personal_data",
     lambda c: crypto.encrypt_personal_data(c, {"a": 1}, "card.coop/schema/v9")),
    ("encrypted_personal_data", lambda c: "eyJhbGciOiJub25lIn0." + "A" * 80),
    ("encrypted_personal_data", lambda c: "not-a-jwe-" * 10),
])
def test_envelopes_of_the_wrong_shape_are_refused(app, client, member, field, make_bad):
    _, card_key, body = new_card()
    body[field] = make_bad(card_key)
    r = client.post("/card/issue", json=body, headers=bearer(member))
    assert r.status_code == 400
    assert r.json["error"] in {"invalid_envelope", "invalid_request"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Card)) == 0


def test_update_with_optimistic_concurrency(app, client, carded):
    changed = PERSON | {"phone": "+79007654321"}
    body = {"encrypted_personal_data": crypto.encrypt_personal_data(carded.card_key, changed,
                                                                    SCHEMA),
            "meta": {"version": 1, "schema": SCHEMA}, "revision": 1}
    first = client.put("/card", json=body, headers=bearer(carded))
    assert first.status_code == 200 and first.json["revision"] == 2
    stale = client.put("/card", json=body, headers=bearer(carded))
    assert stale.status_code == 409 and stale.json["error"] == "stale_revision"
    card = client.get("/card", headers=bearer(carded)).json
    assert card["revision"] == 2
    assert crypto.decrypt_personal_data(carded.card_key, card["encrypted_personal_data"],
                                        SCHEMA)["phone"] == "+79007654321"


def account_body(card_key, coopname="voskhod", key=None):
    key = key or crypto.K1PrivateKey.generate()
    username = crypto.generate_antelope_username()
    account = crypto.CoopAccount(coopname=coopname, username=username,
                                 private_key=key.to_string(),
                                 public_key=key.public_key.to_string())
    return {"coopname": coopname, "username": username,
            "public_key": key.public_key.to_string(),
            "encrypted_account": crypto.encrypt_account(card_key, account)}


def test_the_card_read_gives_every_account_as_the_accounts_list_does(client, carded):
    """GET /card reads the card and its accounts in one statement past the ORM (issue #10):
    the same accounts, fields and order as GET /card/accounts, which reads them the ORM way."""
    assert client.get("/card", headers=bearer(carded)).json["accounts"] == []
    for coopname in ("voskhod", "zelenyisad"):
        added = client.post("/card/add-account", json=account_body(carded.card_key, coopname),
                            headers=bearer(carded))
        assert added.status_code == 201, added.json
    card = client.get("/card", headers=bearer(carded)).json
    listed = client.get("/card/accounts", headers=bearer(carded)).json["accounts"]
    assert [a["coopname"] for a in card["accounts"]] == ["voskhod", "zelenyisad"]
    assert card["accounts"] == listed
    assert all(a["created_at"].endswith(("Z", "+00:00")) for a in card["accounts"])
    assert card["revision"] == 1 and card["meta"] == {"version": 1, "schema": SCHEMA}


def test_add_and_list_accounts(app, client, carded):
    body = account_body(carded.card_key)
    added = client.post("/card/add-account", json=body, headers=bearer(carded))
    assert added.status_code == 201
    assert added.json["username"] == body["username"]
    listed = client.get("/card/accounts", headers=bearer(carded)).json["accounts"]
    assert [a["coopname"] for a in listed] == ["voskhod"]
    account = crypto.decrypt_account(carded.card_key, listed[0]["encrypted_account"], "voskhod")
    assert account.public_key == body["public_key"]
    assert client.get("/card", headers=bearer(carded)).json["accounts"][0]["username"] == \
        body["username"]
    with app.app_context():
        row = db.session.scalar(select(CoopAccount))
        assert "PVT_K1_" not in row.encrypted_account


def test_legacy_public_key_is_accepted(client, carded):
    key = crypto.K1PrivateKey.generate()
    body = account_body(carded.card_key, key=key)
    body["public_key"] = key.public_key.to_legacy_string()
    assert client.post("/card/add-account", json=body,
                       headers=bearer(carded)).status_code == 201


def test_one_account_per_cooperative(client, carded):
    assert client.post("/card/add-account", json=account_body(carded.card_key),
                       headers=bearer(carded)).status_code == 201
    again = client.post("/card/add-account", json=account_body(carded.card_key),
                        headers=bearer(carded))
    assert again.status_code == 409 and again.json["error"] == "account_exists"
    other = client.post("/card/add-account", json=account_body(carded.card_key, "zelenyisad"),
                        headers=bearer(carded))
    assert other.status_code == 201


@pytest.mark.parametrize("change, error", [
    ({"username": "Not_Valid"}, "invalid_request"),
    ({"username": "abcdefghijklmn"}, "invalid_request"),
    ({"coopname": "UPPER"}, "invalid_request"),
    ({"public_key": "PUB_K1_" + "1" * 50}, "invalid_key"),
    ({"coopname": "othercoop"}, "invalid_envelope"),  # header coop no longer matches
])
def test_bad_accounts_are_refused(app, client, carded, change, error):
    body = account_body(carded.card_key) | change
    r = client.post("/card/add-account", json=body, headers=bearer(carded))
    assert r.status_code == 400 and r.json["error"] == error
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CoopAccount)) == 0


def test_broken_public_key_checksum_is_refused(client, carded):
    body = account_body(carded.card_key)
    last = body["public_key"][-1]
    body["public_key"] = body["public_key"][:-1] + ("2" if last != "2" else "3")
    r = client.post("/card/add-account", json=body, headers=bearer(carded))
    assert r.status_code == 400 and r.json["error"] == "invalid_key"


def test_account_needs_a_card(client, member):
    r = client.post("/card/add-account", json=account_body(crypto.generate_card_key()),
                    headers=bearer(member))
    assert r.status_code == 404


def test_members_see_only_their_own_card(app, client, carded):
    other = register(app, client)
    assert client.get("/card", headers=bearer(other)).status_code == 404
    _, _, body = new_card()
    assert client.post("/card/issue", json=body, headers=bearer(other)).status_code == 201
    mine = client.get("/card", headers=bearer(carded)).json
    theirs = client.get("/card", headers=bearer(other)).json
    assert mine["card_id"] == carded.card_id and theirs["card_id"] != carded.card_id


def test_card_numbers_carry_a_luhn_check_digit():
    assert luhn_check_digit("7992739871") == "3"  # the textbook example
    numbers = {new_card_number() for _ in range(200)}
    assert len(numbers) == 200 and all(is_valid_card_number(n) for n in numbers)
    assert all(n.startswith("2") for n in numbers)
    assert not is_valid_card_number("2000000000000001")
    assert not is_valid_card_number("２０００")
