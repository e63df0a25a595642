"""Sharing with a cooperative: prepare → share → ticket → token → encrypted data (issue #4)."""

from __future__ import annotations

import json

from cardcoop import crypto
from idp.services import services
from tests.idp.oauth_flow import (
    COOP,
    REDIRECT,
    auth_request,
    card_holder,
    exchange,
    make_client,
    pkce,
    query_of,
    share_body,
)


def test_share_flow_end_to_end(app, client):
    coop = make_client(app)
    holder = card_holder(app, client, COOP)
    verifier, challenge = pkce()
    params = auth_request(challenge=challenge, fields="last_name first_name")
    prepared = client.post("/access/prepare-share-data", headers=holder.bearer,
                           json={"coopname": COOP, **params})
    assert prepared.status_code == 200, prepared.json
    body = prepared.json
    assert body["announce"] == "ПК ВОСХОД" and body["mode"] == "redirect"
    assert body["requested_fields"] == ["last_name", "first_name"]
    assert body["account"]["username"] == holder.accounts[COOP].username
    assert body["share"] is True and body["join"] is False
    shared = client.post("/access/share-data", headers=holder.bearer,
                         json=share_body(app, holder, params))
    assert shared.status_code == 200, shared.json
    redirect = shared.json["redirect_to"]
    assert redirect.startswith(REDIRECT + "?")
    query = query_of(redirect)
    assert query["code"] == shared.json["ticket"] and query["state"] == params["state"]
    assert query["iss"] == "http://idp.test"
    tokens = exchange(client, coop, shared.json["ticket"], verifier)
    assert tokens.status_code == 200, tokens.json
    assert tokens.json["token_type"] == "Bearer" and tokens.json["coopname"] == COOP
    username = holder.accounts[COOP].username
    assert tokens.json["username"] == username
    assert "id_token" in tokens.json
    data = client.get(f"/access/get-encrypted-data/{username}/{COOP}",
                      headers={"Authorization": f"Bearer {tokens.json['access_token']}"})
    assert data.status_code == 200, data.json
    with app.app_context():
        key = services().registry.private_key(COOP)
    plain = crypto.decrypt_share(data.json["encrypted_data"], key)
    assert plain["data"] == {"last_name": "Иванов"} and plain["username"] == username


def test_share_to_a_registered_p256_key_decrypts_with_jwcrypto(app, client):
    from jwcrypto import jwe, jwk

    private = jwk.JWK.generate(kty="EC", crv="P-256")
    public = private.export_public(as_dict=True)
    coop = make_client(app, encryption_jwk=public)
    holder = card_holder(app, client, COOP)
    verifier, challenge = pkce()
    params = auth_request(challenge=challenge)
    prepared = client.post("/access/prepare-share-data", headers=holder.bearer,
                           json={"coopname": COOP, **params}).json
    assert prepared["public_key"] is None and prepared["encryption_jwk"]["crv"] == "P-256"
    wrong = client.post("/access/share-data", headers=holder.bearer,
                        json=share_body(app, holder, params))  # to the K1 key: refused
    assert wrong.status_code == 400 and wrong.json["error"] == "wrong_recipient"
    shared = client.post("/access/share-data", headers=holder.bearer,
                         json=share_body(app, holder, params, recipient=public))
    assert shared.status_code == 200, shared.json
    tokens = exchange(client, coop, shared.json["ticket"], verifier).json
    username = holder.accounts[COOP].username
    data = client.get(f"/access/get-encrypted-data/{username}/{COOP}",
                      headers={"Authorization": f"Bearer {tokens['access_token']}"}).json
    assert data["meta"]["kid"] == prepared["kid"]
    token = jwe.JWE()
    token.deserialize(data["encrypted_data"], key=private)
    assert json.loads(token.payload)["data"] == {"last_name": "Иванов"}
