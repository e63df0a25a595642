"""The cooperative side of the SDK (cardcoop.coop) without a real idp: the protocol vectors,
PKCE, the authorization URL, and every server-to-server call against a pytest-httpserver stub."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cardcoop.coop import (
    CoopClient,
    InvalidIdToken,
    SharedData,
    ShareMismatch,
    TicketTokens,
    check_share,
    new_pkce,
    new_state,
    pkce_challenge,
)
from cardcoop.errors import (
    ApiError,
    BadRequest,
    Forbidden,
    NotFound,
    ResponseError,
    ServerError,
    Unauthorized,
)
from cardcoop.protocol.encoding import b64u_decode
from cardcoop.protocol.errors import DecryptionFailed
from cardcoop.protocol.k1 import K1PrivateKey, K1PublicKey
from cardcoop.protocol.share import encrypt_share

VECTORS_PATH = Path(__file__).resolve().parents[2] / "protocol" / "vectors-v1.json"
V: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
SECRET = "s3cret-" + "c" * 40
TICKET = "tkt-" + "t" * 40
VERIFIER = "v" * 64
ACCESS = "at-" + "a" * 40


def plaintext_of(vector: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(b64u_decode(vector["plaintext_b64u"]))
    return result


def shared_for(vector: dict[str, Any], **overrides: Any) -> SharedData:
    plain = plaintext_of(vector)
    fields = {"encrypted_data": vector["jwe"], "coopname": plain["coopname"],
              "username": plain["username"], "public_key": plain["public_key"],
              "kid": vector["protected_header"]["kid"], "shared_fields": list(plain["data"])}
    return SharedData(**(fields | overrides))


@pytest.fixture
def coop(httpserver: HTTPServer) -> Iterator[CoopClient]:
    with CoopClient(httpserver.url_for("/"), "voskhod", SECRET) as client:
        yield client


# -- decryption: every share vector -----------------------------------------------------------


@pytest.mark.parametrize("index", range(len(V["share"])))
def test_decrypt_every_share_vector_with_the_private_jwk(index: int) -> None:
    vector = V["share"][index]
    plain = plaintext_of(vector)
    with CoopClient("http://idp.test", "exampleCoop", SECRET) as client:
        share = client.decrypt(shared_for(vector), vector["recipient_private_jwk"])
    assert share.data == plain["data"]
    assert (share.coopname, share.username, share.public_key) == (
        plain["coopname"], plain["username"], plain["public_key"])
    assert share.schema == plain["schema"] and share.issued_at == plain["issued_at"]
    assert share.kid == vector["protected_header"]["kid"]
    assert share.fields == list(plain["data"])
    assert "Иван" not in repr(share)  # personal data stays out of repr (and so of logs)


def k1_vector_for(public_key: str) -> dict[str, Any]:
    return next(k for k in V["k1"] if k["public_key"] == public_key)


@pytest.mark.parametrize("form", ["private_key", "wif"])
def test_decrypt_the_k1_share_vector_with_antelope_key_strings(form: str) -> None:
    vector = next(v for v in V["share"] if "recipient_public_key" in v)
    key = k1_vector_for(vector["recipient_public_key"])[form]
    with CoopClient("http://idp.test", "exampleCoop", SECRET) as client:
        share = client.decrypt(shared_for(vector), key)
        assert share.data == plaintext_of(vector)["data"]
        assert client.decrypt(shared_for(vector), K1PrivateKey.from_string(key)).data == share.data


@pytest.mark.parametrize("index", range(len(V["share"])))
def test_a_wrong_key_fails_to_decrypt(index: int) -> None:
    vector = V["share"][index]
    other = next(v for v in V["share"] if v is not vector)
    wrong = (K1PrivateKey.generate().to_string()
             if vector["recipient_jwk"]["crv"] == "secp256k1" else other["recipient_private_jwk"])
    with CoopClient("http://idp.test", "exampleCoop", SECRET) as client, \
            pytest.raises(DecryptionFailed):
        client.decrypt(shared_for(vector), wrong)


@pytest.mark.parametrize(("override", "field"), [
    ({"coopname": "othercoop"}, "coopname"),
    ({"username": "zzzzzzzzzzzz"}, "username"),
    ({"public_key": K1PrivateKey.generate().public_key.to_string()}, "public_key"),
])
def test_a_share_bound_to_another_account_is_refused(override: dict[str, str],
                                                     field: str) -> None:
    vector = V["share"][0]
    with CoopClient("http://idp.test", "exampleCoop", SECRET) as client, \
            pytest.raises(ShareMismatch) as caught:
        client.decrypt(shared_for(vector, **override), vector["recipient_private_jwk"])
    assert caught.value.error == "share_mismatch" and field in caught.value.message
    assert next(iter(override.values())) not in str(caught.value)


def test_the_legacy_form_of_the_members_key_matches() -> None:
    vector = V["share"][0]
    legacy = K1PublicKey.from_string(plaintext_of(vector)["public_key"]).to_legacy_string()
    with CoopClient("http://idp.test", "exampleCoop", SECRET) as client:
        share = client.decrypt(shared_for(vector, public_key=legacy),
                               vector["recipient_private_jwk"])
    assert share.username == "abcdefghijkl"


@pytest.mark.parametrize("plaintext", [
    {"v": 2}, {"v": True}, [], {"v": 1, "coopname": "c", "username": "u", "public_key": "k",
                                "schema": "s", "issued_at": "t", "data": []},
    {"v": 1, "coopname": "c", "username": "u", "public_key": "k", "schema": "s", "data": {}},
])
def test_malformed_plaintexts_are_refused(plaintext: Any) -> None:
    shared = SharedData(encrypted_data="x", coopname="c", username="u", public_key="k")
    with pytest.raises(ResponseError) as caught:
        check_share(plaintext, shared)
    assert caught.value.error in ("malformed_share", "invalid_response")


def test_decrypting_a_share_made_with_encrypt_share() -> None:
    coop_key, member_key = K1PrivateKey.generate(), K1PrivateKey.generate()
    plain = {"v": 1, "coopname": "voskhod", "username": "membermember",
             "public_key": member_key.public_key.to_string(), "schema": "card.coop/schema/v1",
             "data": {"email": "m@example.com"}, "issued_at": "2026-01-01T00:00:00Z"}
    jwe = encrypt_share(coop_key.public_key, json.dumps(plain).encode())
    shared = SharedData(encrypted_data=jwe, coopname="voskhod", username="membermember",
                        public_key=plain["public_key"])
    with CoopClient("http://idp.test", "voskhod", SECRET) as client:
        share = client.decrypt(shared, coop_key.to_string())
    assert share.data == {"email": "m@example.com"}
    assert share.kid == coop_key.public_key.thumbprint


# -- PKCE, state, the authorization URL -------------------------------------------------------


def test_pkce_s256_matches_rfc7636_appendix_b() -> None:
    assert pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == \
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_new_pkce_is_fresh_long_and_consistent() -> None:
    pairs = {new_pkce() for _ in range(20)}
    assert len(pairs) == 20
    for verifier, challenge in pairs:
        assert 43 <= len(verifier) <= 128
        assert set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-._~")
        assert challenge == pkce_challenge(verifier) and len(challenge) == 43
    assert CoopClient.new_pkce is not None and len(new_state()) >= 43
    with pytest.raises(ValueError, match="43"):
        pkce_challenge("short")


def test_authorization_url_in_redirect_mode() -> None:
    client = CoopClient("https://id.card.coop/", "voskhod", SECRET)
    url = client.authorization_url("https://voskhod.coop/callback",
                                   ["openid", "email", "share"], state="st", code_challenge="ch",
                                   nonce="nn", fields=["last_name", "email"])
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "id.card.coop", "/oauth/authorize")
    assert "+" not in parts.query  # spaces as %20
    assert parse_qs(parts.query) == {
        "response_type": ["code"], "client_id": ["voskhod"],
        "redirect_uri": ["https://voskhod.coop/callback"], "scope": ["openid email share"],
        "state": ["st"], "code_challenge": ["ch"], "code_challenge_method": ["S256"],
        "nonce": ["nn"], "fields": ["last_name email"]}
    assert SECRET not in url


def test_authorization_url_in_iframe_mode() -> None:
    client = CoopClient("https://id.card.coop", "voskhod", SECRET)
    query = parse_qs(urlsplit(client.authorization_url(
        None, "openid share account", state="st", code_challenge="ch",
        origin="https://voskhod.coop", prompt="consent")).query)
    assert "redirect_uri" not in query and "nonce" not in query and "fields" not in query
    assert query["origin"] == ["https://voskhod.coop"] and query["prompt"] == ["consent"]
    assert query["scope"] == ["openid share account"]
    with pytest.raises(ValueError):
        client.authorization_url(None, "openid", state="st", code_challenge="ch")
    with pytest.raises(ValueError):
        client.authorization_url("https://x/cb", "openid", state="", code_challenge="ch")


def test_the_client_secret_stays_out_of_repr() -> None:
    client = CoopClient("https://id.card.coop", "voskhod", SECRET)
    assert SECRET not in repr(client) and "voskhod" in repr(client)
    with pytest.raises(ValueError):
        CoopClient("id.card.coop", "voskhod", SECRET)
    with pytest.raises(ValueError):
        CoopClient("https://id.card.coop", "voskhod", "")


# -- exchange-ticket ---------------------------------------------------------------------------

TOKENS = {"access_token": ACCESS, "token_type": "Bearer", "expires_in": 600,
          "scope": "openid share", "username": "membermember", "coopname": "voskhod",
          "id_token": "h.p.s"}


def test_exchange_ticket_posts_json_with_client_credentials(httpserver: HTTPServer,
                                                            coop: CoopClient) -> None:
    httpserver.expect_request("/access/exchange-ticket", method="POST", json={
        "ticket": TICKET, "code_verifier": VERIFIER, "redirect_uri": "http://127.0.0.1:8003/cb",
        "client_id": "voskhod", "client_secret": SECRET},
        headers={"Accept": "application/json"}).respond_with_json(TOKENS)
    tokens = coop.exchange_ticket(TICKET, VERIFIER, "http://127.0.0.1:8003/cb")
    assert tokens == TicketTokens(access_token=ACCESS, token_type="Bearer", expires_in=600,
                                  scope=["openid", "share"], username="membermember",
                                  coopname="voskhod", id_token="h.p.s")
    assert tokens.has_data
    assert ACCESS not in repr(tokens) and "h.p.s" not in repr(tokens)
    request = httpserver.log[0][0]
    assert request.headers["Content-Type"] == "application/json"
    assert "Authorization" not in request.headers


def test_exchange_ticket_without_redirect_uri_in_iframe_mode(httpserver: HTTPServer,
                                                             coop: CoopClient) -> None:
    httpserver.expect_request("/access/exchange-ticket", method="POST").respond_with_json(
        TOKENS | {"scope": ["openid", "email"], "username": None} | {"id_token": None})
    tokens = coop.exchange_ticket(TICKET, VERIFIER)
    assert json.loads(httpserver.log[0][0].data) == {
        "ticket": TICKET, "code_verifier": VERIFIER, "client_id": "voskhod",
        "client_secret": SECRET}
    assert tokens.scope == ["openid", "email"] and not tokens.has_data
    assert tokens.username is None and tokens.id_token is None


@pytest.mark.parametrize(("status", "body", "cls", "code"), [
    (400, {"error": "invalid_grant", "error_description": "ticket used"}, BadRequest,
     "invalid_grant"),
    (401, {"error": "invalid_client", "error_description": "bad secret"}, Unauthorized,
     "invalid_client"),
    (403, {"error": "forbidden", "message": "no"}, Forbidden, "forbidden"),
    (502, "<html>bad gateway</html>", ServerError, "http_error"),
    (418, {"error": "teapot"}, ApiError, "teapot"),
])
def test_exchange_errors_map_to_sdk_errors(httpserver: HTTPServer, coop: CoopClient, status: int,
                                           body: Any, cls: type[ApiError], code: str) -> None:
    handler = httpserver.expect_request("/access/exchange-ticket")
    if isinstance(body, dict):
        handler.respond_with_json(body, status=status)
    else:
        handler.respond_with_data(body, status=status, content_type="text/html")
    with pytest.raises(cls) as caught:
        coop.exchange_ticket(TICKET, VERIFIER)
    assert type(caught.value) is cls
    assert caught.value.status == status and caught.value.error == code
    if isinstance(body, dict) and "error_description" in body:
        assert caught.value.message == body["error_description"]


def test_error_messages_never_echo_secrets(httpserver: HTTPServer, coop: CoopClient) -> None:
    httpserver.expect_request("/access/exchange-ticket").respond_with_json(
        {"error": "invalid_grant",
         "error_description": f"bad {TICKET} / {VERIFIER} / {SECRET}"}, status=400)
    with pytest.raises(BadRequest) as caught:
        coop.exchange_ticket(TICKET, VERIFIER)
    text = str(caught.value) + repr(caught.value)
    assert TICKET not in text and VERIFIER not in text and SECRET not in text
    assert "[redacted]" in caught.value.message


@pytest.mark.parametrize("body", [
    [], {"token_type": "Bearer"}, TOKENS | {"token_type": "mac"}, TOKENS | {"expires_in": 0},
    TOKENS | {"expires_in": True}, TOKENS | {"scope": 5}, TOKENS | {"access_token": ""},
    TOKENS | {"coopname": "othercoop"},
])
def test_malformed_token_answers_raise_response_error(httpserver: HTTPServer, coop: CoopClient,
                                                      body: Any) -> None:
    httpserver.expect_request("/access/exchange-ticket").respond_with_json(body)
    with pytest.raises(ResponseError) as caught:
        coop.exchange_ticket(TICKET, VERIFIER)
    assert caught.value.status == 200 and ACCESS not in str(caught.value)


def test_a_non_json_answer_raises_response_error(httpserver: HTTPServer,
                                                 coop: CoopClient) -> None:
    httpserver.expect_request("/access/exchange-ticket").respond_with_data("ok")
    with pytest.raises(ResponseError, match="not JSON"):
        coop.exchange_ticket(TICKET, VERIFIER)


def test_redirects_are_not_followed(httpserver: HTTPServer, coop: CoopClient) -> None:
    httpserver.expect_request("/access/exchange-ticket").respond_with_data(
        "", status=307, headers={"Location": "http://elsewhere.test/steal"})
    with pytest.raises(ApiError) as caught:
        coop.exchange_ticket(TICKET, VERIFIER)
    assert caught.value.status == 307 and len(httpserver.log) == 1


# -- get-encrypted-data -----------------------------------------------------------------------

DATA = {"encrypted_data": "a.b.c.d.e", "coopname": "voskhod", "username": "membermember",
        "public_key": "PUB_K1_x", "meta": {"kid": "kid1", "schema": "card.coop/schema/v1",
                                          "shared_fields": ["email"], "scope": ["share"],
                                          "granted_at": "2026-01-01T00:00:00Z"}}


def test_get_encrypted_data_uses_the_bearer_token(httpserver: HTTPServer,
                                                  coop: CoopClient) -> None:
    httpserver.expect_request("/access/get-encrypted-data/membermember/voskhod", method="GET",
                              headers={"Authorization": f"Bearer {ACCESS}"}
                              ).respond_with_json(DATA)
    tokens = TicketTokens.from_json(TOKENS)
    shared = coop.get_encrypted_data(tokens)
    assert shared == SharedData(encrypted_data="a.b.c.d.e", coopname="voskhod",
                                username="membermember", public_key="PUB_K1_x", kid="kid1",
                                schema="card.coop/schema/v1", shared_fields=["email"],
                                scope=["share"], granted_at="2026-01-01T00:00:00Z")
    assert "a.b.c.d.e" not in repr(shared)
    # The same with a bare access token string and explicit names.
    assert coop.get_encrypted_data(ACCESS, "membermember", "voskhod") == shared
    assert [r.path for r, _ in httpserver.log] == [
        "/access/get-encrypted-data/membermember/voskhod"] * 2


def test_get_encrypted_data_quotes_path_segments(httpserver: HTTPServer,
                                                 coop: CoopClient) -> None:
    httpserver.expect_request(re.compile("/access/.*")).respond_with_json(
        DATA | {"username": "a/../b"})
    assert coop.get_encrypted_data(ACCESS, "a/../b", "voskhod").username == "a/../b"
    raw = httpserver.log[0][0].environ.get("RAW_URI") or httpserver.log[0][0].environ.get(
        "REQUEST_URI")
    assert raw == "/access/get-encrypted-data/a%2F..%2Fb/voskhod"
    with pytest.raises(ValueError):
        coop.get_encrypted_data(ACCESS)


@pytest.mark.parametrize(("status", "code", "cls"), [
    (401, "invalid_token", Unauthorized), (403, "forbidden", Forbidden),
    (404, "not_found", NotFound)])
def test_get_encrypted_data_errors(httpserver: HTTPServer, coop: CoopClient, status: int,
                                   code: str, cls: type[ApiError]) -> None:
    httpserver.expect_request("/access/get-encrypted-data/membermember/voskhod").respond_with_json(
        {"error": code, "message": f"token {ACCESS} refused"}, status=status)
    with pytest.raises(cls) as caught:
        coop.get_encrypted_data(ACCESS, "membermember", "voskhod")
    assert caught.value.error == code and ACCESS not in str(caught.value)


@pytest.mark.parametrize("body", [
    DATA | {"username": "someoneelse"}, DATA | {"coopname": "othercoop"},
    {k: v for k, v in DATA.items() if k != "encrypted_data"}, DATA | {"meta": []},
    DATA | {"meta": {"shared_fields": "email"}}])
def test_malformed_or_foreign_data_answers(httpserver: HTTPServer, coop: CoopClient,
                                           body: Any) -> None:
    httpserver.expect_request("/access/get-encrypted-data/membermember/voskhod").respond_with_json(
        body)
    with pytest.raises(ResponseError):
        coop.get_encrypted_data(ACCESS, "membermember", "voskhod")


# -- revoke ------------------------------------------------------------------------------------


def test_revoke_posts_the_token_with_basic_client_auth(httpserver: HTTPServer,
                                                       coop: CoopClient) -> None:
    httpserver.expect_request("/oauth/revoke", method="POST").respond_with_data("", status=200)
    coop.revoke(ACCESS)
    request = httpserver.log[0][0]
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form.to_dict() == {"token": ACCESS, "token_type_hint": "access_token"}
    scheme, _, value = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(value).decode() == f"voskhod:{SECRET}"


def test_revoke_errors(httpserver: HTTPServer, coop: CoopClient) -> None:
    httpserver.expect_request("/oauth/revoke").respond_with_json(
        {"error": "invalid_client"}, status=401)
    with pytest.raises(Unauthorized) as caught:
        coop.revoke(ACCESS, token_type_hint=None)
    assert caught.value.error == "invalid_client"
    assert httpserver.log[0][0].form.to_dict() == {"token": ACCESS}


# -- the ID token ------------------------------------------------------------------------------


@pytest.fixture
def signing_key(httpserver: HTTPServer) -> ECKey:
    key = ECKey.generate_key("P-256", parameters={"kid": "k1", "alg": "ES256", "use": "sig"},
                             private=True)
    httpserver.expect_request("/.well-known/jwks.json").respond_with_json(
        {"keys": [key.as_dict(private=False)]})
    return key


def id_token(key: ECKey, issuer: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": issuer, "aud": "voskhod", "sub": "card-1", "iat": now, "exp": now + 300,
              "nonce": "n1", "card_number": "1234"} | overrides
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])


def test_verify_id_token(httpserver: HTTPServer, coop: CoopClient, signing_key: ECKey) -> None:
    token = id_token(signing_key, coop.idp_url)
    claims = coop.verify_id_token(token, nonce="n1")
    assert claims["sub"] == "card-1" and claims["card_number"] == "1234"
    coop.verify_id_token(token)  # no nonce sent: none checked
    assert len(httpserver.log) == 1  # the JWKS is fetched once


@pytest.mark.parametrize("overrides", [
    {"aud": "othercoop"}, {"iss": "http://evil.test"}, {"nonce": "n2"},
    {"exp": int(time.time()) - 3600}])
def test_verify_id_token_refuses(coop: CoopClient, signing_key: ECKey,
                                 overrides: dict[str, Any]) -> None:
    with pytest.raises(InvalidIdToken) as caught:
        coop.verify_id_token(id_token(signing_key, coop.idp_url, **overrides), nonce="n1")
    assert caught.value.error == "invalid_id_token"


def test_verify_id_token_refuses_another_signer_and_garbage(coop: CoopClient,
                                                            signing_key: ECKey) -> None:
    other = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)
    with pytest.raises(InvalidIdToken):
        coop.verify_id_token(id_token(other, coop.idp_url))
    with pytest.raises(InvalidIdToken):
        coop.verify_id_token("not-a-jwt")
    at = jwt.encode({"alg": "ES256", "kid": "k1", "typ": "at+jwt"},
                    {"iss": coop.idp_url, "aud": "voskhod", "sub": "x",
                     "exp": int(time.time()) + 60}, signing_key, algorithms=["ES256"])
    with pytest.raises(InvalidIdToken):
        coop.verify_id_token(at)


def test_verify_id_token_refetches_the_jwks_for_a_new_key(httpserver: HTTPServer) -> None:
    old = ECKey.generate_key("P-256", parameters={"kid": "old"}, private=True)
    new = ECKey.generate_key("P-256", parameters={"kid": "new"}, private=True)
    answers = iter([[old], [old, new]])

    def jwks(_: Request) -> Response:
        keys = [k.as_dict(private=False) for k in next(answers)]
        return Response(json.dumps({"keys": keys}), content_type="application/json")

    httpserver.expect_request("/.well-known/jwks.json").respond_with_handler(jwks)
    with CoopClient(httpserver.url_for("/"), "voskhod", SECRET) as client:
        client.verify_id_token(id_token(old, client.idp_url))
        assert client.verify_id_token(id_token(new, client.idp_url))["sub"] == "card-1"
    assert len(httpserver.log) == 2
