"""GET /cooperatives: the member's cooperatives, checked with the ВОСХОД registry (issue #4)."""

from __future__ import annotations

from cardcoop import crypto
from tests.common.voskhod.conftest import fake_chain  # noqa: F401 (the fake chain fixture)
from tests.idp.conftest import register
from tests.live import free_port

SCHEMA = "card.coop/schema/v1"


def with_accounts(client, member, *coopnames):
    """Issue a card and add an account per cooperative; returns {coopname: username}."""
    card_key = crypto.generate_card_key()
    client.post("/card/issue", headers=member.bearer, json={
        "wrapped_card_key": crypto.wrap_card_key(crypto.generate_card_key(), card_key),
        "encrypted_personal_data": crypto.encrypt_personal_data(card_key, {"a": 1}, SCHEMA),
        "meta": {"version": 1, "schema": SCHEMA}})
    usernames = {}
    for coopname in coopnames:
        account = crypto.new_coop_account(coopname)
        added = client.post("/card/add-account", headers=member.bearer, json={
            "coopname": coopname, "username": account.username,
            "public_key": account.public_key,
            "encrypted_account": crypto.encrypt_account(card_key, account)})
        assert added.status_code == 201, added.json
        usernames[coopname] = account.username
    return usernames


def test_sandbox_lists_the_demo_cooperatives_the_member_joined(app, client, member):
    usernames = with_accounts(client, member, "voskhod", "nosuchcoop")
    r = client.get("/cooperatives", headers=member.bearer)
    assert r.status_code == 200
    [coop] = r.json["cooperatives"]  # nosuchcoop is not registered: not listed
    assert coop["coopname"] == "voskhod" and coop["announce"] == "ПК ВОСХОД"
    assert coop["username"] == usernames["voskhod"]
    assert coop["public_key"].startswith("PUB_K1_")


def test_no_card_no_cooperatives(client, member):
    assert client.get("/cooperatives", headers=member.bearer).json == {"cooperatives": []}


def test_needs_a_token(client):
    assert client.get("/cooperatives").status_code == 401


def test_membership_comes_from_the_chain(make_app, httpserver, fake_chain):  # noqa: F811
    chain = fake_chain
    app = make_app(voskhod_chain_url=httpserver.url_for("/").rstrip("/"))
    client = app.test_client()
    member = register(app, client)
    usernames = with_accounts(client, member, "voskhod", "zelenyisad", "narodnyhleb")
    chain.add_cooperative("voskhod", "ПК ВОСХОД")
    chain.add_cooperative("zelenyisad", "ПК Зелёный сад")
    chain.add_cooperative("narodnyhleb", "ПК Народный хлеб")
    chain.add_participant("voskhod", usernames["voskhod"])
    chain.add_participant("zelenyisad", usernames["zelenyisad"], status="blocked")
    # narodnyhleb: no participant row at all
    r = client.get("/cooperatives", headers=member.bearer)
    assert r.status_code == 200
    assert [(c["coopname"], c["announce"]) for c in r.json["cooperatives"]] == [
        ("voskhod", "ПК ВОСХОД")]
    assert r.json["cooperatives"][0]["member_since"].startswith("2024-10-01T12:00:00")


def test_chain_down_is_a_503_for_this_request_only(make_app):
    port = free_port()
    app = make_app(voskhod_chain_url=f"http://127.0.0.1:{port}")
    client = app.test_client()
    member = register(app, client)
    with_accounts(client, member, "voskhod")
    r = client.get("/cooperatives", headers=member.bearer)
    assert r.status_code == 503 and r.json["error"] == "registry_unavailable"
    assert client.get("/card", headers=member.bearer).status_code == 200


def test_the_cooperatives_table_is_a_setting(make_app):
    from pydantic import ValidationError

    from common.settings import Settings
    from idp.services import services

    app = make_app(voskhod_chain_url="http://127.0.0.1:9", voskhod_cooperatives_table="orgs")
    with app.app_context():
        assert services().registry._table == "orgs"  # type: ignore[attr-defined]
    try:
        Settings(voskhod_cooperatives_table="companies")
    except ValidationError as error:
        assert "voskhod_cooperatives_table" in str(error)
    else:
        raise AssertionError("an unknown table was accepted")
