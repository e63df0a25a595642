"""The network's calls as MONO's cardcoop extension makes them (issue #11): envelopes signed by
@wharfkit/antelope over canonicalize's JCS, chains made with jose (tests/mono_peer), sent to
idp's /v1 endpoints."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cardcoop.protocol.k1 import K1PublicKey
from common.db import db
from common.voskhod import Endorsement
from idp.network.models import Attestation
from idp.oauth import clients
from idp.services import services
from tests.idp.network import (
    BACKEND,
    CHAIN_ID,
    COOP,
    OPERATOR,
    OUTSIDER,
    Mono,
    admitted,
    connected,
    iso,
    post,
)
from tests.idp.oauth_flow import card_holder


def test_the_operator_admits_and_the_admitted_cooperative_connects(
        network_app: Flask, api: FlaskClient, net: Mono) -> None:
    admitted(api, net)
    first = post(api, "/v1/coops/connect", net.connect_document())
    assert first.status_code == 200, first.json
    rp = first.json["rpClient"]
    assert rp["clientId"] == COOP and rp["issuer"] == "http://idp.test"
    # A repeat connect (MONO's way to recover a lost secret): the same client, a fresh secret,
    # and the old one no longer authenticates.
    again = post(api, "/v1/coops/connect", net.connect_document())
    assert again.status_code == 200
    assert again.json["rpClient"]["clientId"] == COOP
    assert again.json["rpClient"]["clientSecret"] != rp["clientSecret"]
    with network_app.app_context():
        client = clients.get(COOP)
        assert client.redirect_uris == [f"{BACKEND}/v1/extensions/cardcoop/entry/callback"]
        assert not clients.secret_matches(client, rp["clientSecret"])
        assert clients.secret_matches(client, again.json["rpClient"]["clientSecret"])


def test_only_the_operator_admits_and_only_the_admitted_connect(
        api: FlaskClient, net: Mono) -> None:
    by_coop = post(api, "/v1/registrar/announce",
                   net.document("coop_admission", COOP, subject=OUTSIDER))
    assert (by_coop.status_code, by_coop.json["error"]) == (403, "not_the_operator")
    outsider = post(api, "/v1/coops/connect", net.connect_document(OUTSIDER))
    assert (outsider.status_code, outsider.json["error"]) == (403, "not_admitted")


def test_refused_documents_say_why(api: FlaskClient, net: Mono) -> None:
    admitted(api, net)
    tampered = net.connect_document()
    tampered["payload"]["entry_callback_url"] = "https://evil.example/callback"
    by_another_key = net.connect_document()
    by_another_key["signature"] = net.document("coop_connect", COOP, key=net.stranger)[
        "signature"]
    stale = net.document("coop_admission", OPERATOR, subject=COOP,
                         issued_at=iso(datetime.now(UTC) - timedelta(minutes=10)))
    wrong_chain = net.document("coop_admission", OPERATOR, subject=COOP, chain_id="0" * 64)
    wrong_type = net.document("membership", COOP)
    cases = [("/v1/coops/connect", tampered, 403, "wrong_signer"),
             ("/v1/coops/connect", by_another_key, 403, "wrong_signer"),
             ("/v1/registrar/announce", stale, 400, "stale_document"),
             ("/v1/registrar/announce", wrong_chain, 400, "wrong_chain"),
             ("/v1/coops/connect", wrong_type, 400, "wrong_type"),
             ("/v1/coops/connect", {**net.connect_document(), "chain": []}, 403,
              "not_endorsed")]
    for path, envelope, status, code in cases:
        answer = post(api, path, envelope)
        assert (answer.status_code, answer.json["error"]) == (status, code), (code, answer.json)
        assert answer.json["message"]


@pytest.mark.parametrize(("body", "content_type", "status"), [
    (b"not json", "application/json", 400),
    (b'{"payload": 1}', "text/plain", 400),
    (b"[]", "application/json", 400),
    (json.dumps({"payload": {}, "signature": "x", "chain": []}).encode(), "application/json",
     400),
    (b'{"payload": {"a": "' + b"x" * 2_000_000 + b'"}}', "application/json", 413),
    # JSON that RFC 8785 cannot represent (NaN), and a control character in a value.
    (b'{"payload": {"type": "coop_admission", "n": NaN}, "signature": "x", "chain": []}',
     "application/json", 400),
    (rb'{"payload": {"type": "coop\u0000admission"}, "signature": "x", "chain": []}',
     "application/json", 400),
])
def test_bodies_that_are_not_documents_are_refused(api: FlaskClient, body: bytes,
                                                   content_type: str, status: int) -> None:
    for path in ("/v1/registrar/announce", "/v1/coops/connect", "/v1/attestations"):
        answer = api.post(path, data=body, content_type=content_type)
        assert answer.status_code == status, (path, answer.json)
        assert answer.json["error"]


def test_without_a_configured_chain_every_document_is_refused_with_503(
        make_app: Callable[..., Flask], net: Mono) -> None:
    answer = make_app().test_client().post("/v1/registrar/announce", json=net.document(
        "coop_admission", OPERATOR, subject=COOP))
    assert (answer.status_code, answer.json["error"]) == (503, "network_not_configured")


def test_without_an_anchor_the_registrys_endorsement_decides(
        make_app: Callable[..., Flask], net: Mono) -> None:
    app = make_app(network_chain_id=CHAIN_ID)
    document = net.document("coop_admission", OPERATOR, subject=COOP)
    document["chain"] = []
    api = app.test_client()
    assert post(api, "/v1/registrar/announce", document).json["error"] == "not_endorsed"
    with app.app_context():
        services().registry.endorse(Endorsement(  # type: ignore[attr-defined]
            OPERATOR, "ano", CHAIN_ID, K1PublicKey.from_string(net.voskhod["public"]),
            datetime.now(UTC) + timedelta(days=1)))
    assert post(api, "/v1/registrar/announce", document).status_code == 200


def test_the_webhook_key_and_the_grant_jwks_are_one_stable_secp256k1_key(
        api: FlaskClient) -> None:
    key = api.get("/v1/webhooks/public-key").json["publicKey"]
    assert key.startswith("PUB_K1_") and api.get("/v1/webhooks/public-key").json == {
        "publicKey": key}
    jwks = api.get("/v1/disclosures/jwks").json
    [jwk] = jwks["keys"]
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("EC", "secp256k1", "ES256K",
                                                                "sig")
    assert K1PublicKey.from_jwk(jwk) == K1PublicKey.from_string(key)
    assert "d" not in jwk
    # Not an ID-token key: the OpenID JWKS does not publish it.
    assert jwk["kid"] not in {k["kid"] for k in api.get("/.well-known/jwks.json").json["keys"]}


def test_an_attestation_is_one_record_per_card_and_can_be_revoked(
        network_app: Flask, api: FlaskClient, net: Mono) -> None:
    connected(api, net)
    holder = card_holder(network_app, network_app.test_client())
    with network_app.app_context():
        from idp.card.service import find_card
        card_id = str(find_card(_member_id(network_app, holder.member.email)).id)  # type: ignore[union-attr]
    identity = {"kind": "individual", "public": {"last_name": "Иванова", "first_name": "Анна"},
                "digests": {"phone": "a" * 64}}

    def attestation() -> Any:
        return post(api, "/v1/attestations", net.document(
            "membership", card_id=card_id, member_since="2025-03-01", identity=identity))

    first, second = attestation(), attestation()
    assert first.status_code == second.status_code == 201, first.json
    assert first.json["id"] == second.json["id"]
    with network_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attestation)) == 1
    attestation_id = first.json["id"]

    unknown = post(api, "/v1/attestations", net.document(
        "membership", card_id="00000000-0000-0000-0000-000000000000",
        member_since="2025-03-01", identity=identity))
    assert (unknown.status_code, unknown.json["error"]) == (404, "unknown_card")
    bad_identity = post(api, "/v1/attestations", net.document(
        "membership", card_id=card_id, member_since="2025-03-01",
        identity={"kind": "individual", "public": {"passport": {"number": "1"}}}))
    assert (bad_identity.status_code, bad_identity.json["error"]) == (400, "invalid_document")

    mismatch = post(api, f"/v1/attestations/{attestation_id}/revoke",
                    net.document("revocation", attestation_id="att_other"))
    assert mismatch.status_code == 400
    revoked = post(api, f"/v1/attestations/{attestation_id}/revoke",
                   net.document("revocation", attestation_id=attestation_id))
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    with network_app.app_context():
        assert db.session.get(Attestation, attestation_id).revoked_at is not None  # type: ignore[union-attr]
    # A fresh attestation lifts the revocation, under the same id.
    assert attestation().json["id"] == attestation_id
    with network_app.app_context():
        assert db.session.get(Attestation, attestation_id).revoked_at is None  # type: ignore[union-attr]


def test_a_cooperative_cannot_touch_another_ones_attestation(
        network_app: Flask, api: FlaskClient, net: Mono) -> None:
    connected(api, net)
    holder = card_holder(network_app, network_app.test_client())
    card_id = str(_card_id(network_app, holder.member.email))
    made = post(api, "/v1/attestations", net.document(
        "membership", card_id=card_id, member_since="2025-03-01",
        identity={"kind": "individual", "public": {}, "digests": {}}))
    assert made.status_code == 201
    admitted(api, net, OUTSIDER)
    assert post(api, "/v1/coops/connect", net.connect_document(OUTSIDER)).status_code == 200
    foreign = post(api, f"/v1/attestations/{made.json['id']}/revoke",
                   net.document("revocation", OUTSIDER, attestation_id=made.json["id"]))
    assert (foreign.status_code, foreign.json["error"]) == (404, "unknown_attestation")
    with network_app.app_context():
        assert db.session.get(Attestation, made.json["id"]).revoked_at is None  # type: ignore[union-attr]


def test_an_unconnected_cooperative_cannot_attest(network_app: Flask, api: FlaskClient,
                                                  net: Mono) -> None:
    admitted(api, net)
    answer = post(api, "/v1/attestations", net.document(
        "membership", card_id="00000000-0000-0000-0000-000000000000",
        member_since="2025-03-01", identity={"kind": "individual"}))
    assert (answer.status_code, answer.json["error"]) == (403, "not_connected")


def _member_id(app: Flask, email: str) -> Any:
    from idp.models import Member
    return db.session.scalar(select(Member.id).where(Member.email == email))


def _card_id(app: Flask, email: str) -> Any:
    from idp.card.service import find_card
    with app.app_context():
        card = find_card(_member_id(app, email))
        assert card is not None
        return card.id


def test_a_connect_document_is_taken_once(api: FlaskClient, net: Mono) -> None:
    """A captured connect, replayed while still fresh, would hand its sender a client secret."""
    admitted(api, net)
    document = net.connect_document()
    assert post(api, "/v1/coops/connect", document).status_code == 200
    replay = post(api, "/v1/coops/connect", document)
    assert (replay.status_code, replay.json["error"]) == (409, "replayed_document")
    assert "rpClient" not in replay.json


def test_attested_memberships_appear_in_the_id_token_beside_the_chains(
        network_app: Flask, api: FlaskClient, net: Mono) -> None:
    """MONO signs its members in with the rpClient connect returned, exactly as in
    test_mono_client; the cooperative's attestation shows in ``memberships``, then revoked."""
    from cardcoop.protocol.encoding import b64u_decode
    from tests.idp.oauth_flow import pkce

    rp = connected(api, net)
    callback = f"{BACKEND}/v1/extensions/cardcoop/entry/callback"
    member_client = network_app.test_client()
    holder = card_holder(network_app, member_client, "voskhod")  # a chain membership too
    card_id = member_client.get("/card", headers=holder.bearer).json["card_id"]
    made = post(api, "/v1/attestations", net.document(
        "membership", card_id=card_id, member_since="2025-03-01",
        identity={"kind": "individual", "public": {"last_name": "Иванова"}, "digests": {}}))
    assert made.status_code == 201, made.json

    def id_token_memberships() -> list[dict[str, Any]]:
        verifier, challenge = pkce()
        params = {"response_type": "code", "client_id": rp["clientId"], "redirect_uri": callback,
                  "scope": "openid profile email cardcoop:card cardcoop:memberships",
                  "state": secrets.token_urlsafe(8), "code_challenge": challenge,
                  "code_challenge_method": "S256"}
        shared = member_client.post("/access/share-data", headers=holder.bearer,
                                    json={"coopname": COOP, **params})
        assert shared.status_code == 200, shared.json
        code = dict(p.split("=", 1) for p in shared.json["redirect_to"].split("?", 1)[1]
                    .split("&"))["code"]
        tokens = api.post("/application/o/token/", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": callback,
            "client_id": rp["clientId"], "client_secret": rp["clientSecret"],
            "code_verifier": verifier})
        assert tokens.status_code == 200, tokens.json
        claims = json.loads(b64u_decode(tokens.json["id_token"].split(".")[1]))
        assert claims["iss"] == rp["issuer"] and claims["aud"] == rp["clientId"]
        assert claims["sub"] == card_id
        found: list[dict[str, Any]] = claims["memberships"]
        return found

    memberships = {m["coopname"]: m for m in id_token_memberships()}
    assert memberships["voskhod"]["status"] == "active"  # the chain's (sandbox: open)
    assert memberships[COOP] == {"coop": "ПК Зелёный сад", "coopname": COOP,
                                 "status": "active", "member_since": "2025-03-01"}
    revoked = post(api, f"/v1/attestations/{made.json['id']}/revoke",
                   net.document("revocation", attestation_id=made.json["id"]))
    assert revoked.status_code == 200
    assert {m["coopname"]: m["status"] for m in id_token_memberships()}[COOP] == "revoked"
