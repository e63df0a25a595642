"""What the sharing flow refuses (issue #4): redirect URI and open-redirect attempts, PKCE,
tickets of another cooperative, replays, expired tickets, tokens used for someone else,
refused memberships, a chain that does not answer — each a clear error that writes nothing."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select, update

from common.db import db, utcnow
from idp.oauth.models import AuthorizationCode, Grant, OAuthToken
from tests.common.voskhod.conftest import fake_chain  # noqa: F401 (the fake chain fixture)
from tests.idp.conftest import mails_to, register, run_worker
from tests.idp.oauth_flow import (
    COOP,
    ORIGIN,
    REDIRECT,
    add_account,
    auth_request,
    card_holder,
    exchange,
    make_client,
    pkce,
    query_of,
    share_body,
    ticket_for,
)
from tests.live import free_port


def counts(app):
    with app.app_context():
        return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
                for model in (Grant, AuthorizationCode, OAuthToken)}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def coop(app):
    return make_client(app)


@pytest.fixture
def holder(app, client, coop):
    return card_holder(app, client, COOP)


# -- the authorization endpoint --------------------------------------------------------------

@pytest.mark.parametrize("redirect_uri", [
    "https://evil.example/callback",
    "https://coop.example/callback/../../evil",
    "https://coop.example.evil.example/callback",
    "https://coop.example/callback?next=https://evil.example",
    "https://coop.example/callback#frag",
    "https://coop.example/CALLBACK",
    "http://coop.example/callback",
    "https://coop.example@evil.example/callback",
    "javascript:alert(1)",
])
def test_unregistered_redirect_uri_is_shown_never_followed(client, coop, redirect_uri):
    _, challenge = pkce()
    query = urlencode(auth_request(challenge=challenge, redirect_uri=redirect_uri))
    for path in ("/oauth/authorize", "/application/o/authorize/"):
        r = client.get(f"{path}?{query}")
        assert r.status_code == 400 and "Location" not in r.headers
        assert b"oauth-error" in r.data and b"evil" not in r.data


def test_unknown_client_is_shown_never_redirected(client, coop):
    _, challenge = pkce()
    r = client.get("/oauth/authorize?" + urlencode(auth_request("nosuchcoop", challenge=challenge)))
    assert r.status_code == 400 and "Location" not in r.headers


@pytest.mark.parametrize("change", [
    {"code_challenge": None},
    {"code_challenge_method": None},
    {"code_challenge_method": "plain"},
    {"code_challenge": "short"},
    {"scope": "openid admin"},
    {"response_type": "token"},
])
def test_bad_request_from_a_known_client_goes_back_with_an_error(client, coop, change):
    _, challenge = pkce()
    params = auth_request(challenge=challenge) | change
    params = {k: v for k, v in params.items() if v is not None}
    r = client.get("/oauth/authorize?" + urlencode(params))
    assert r.status_code == 302
    assert r.headers["Location"].startswith(REDIRECT + "?")
    query = query_of(r.headers["Location"])
    assert query["error"] in {"invalid_request", "invalid_scope", "unsupported_response_type"}
    assert query["state"] == params["state"] and query["iss"] == "http://idp.test"


def test_valid_request_serves_the_members_page_unframeable(client, coop):
    _, challenge = pkce()
    r = client.get("/oauth/authorize?" + urlencode(auth_request(challenge=challenge)))
    assert r.status_code == 200 and b"app/main.js" in r.data
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"


def test_iframe_method_may_be_framed_by_the_registered_origin_only(client, coop):
    _, challenge = pkce()
    params = auth_request(challenge=challenge, redirect_uri=None, origin=ORIGIN)
    r = client.get("/oauth/authorize?" + urlencode(params))
    assert r.status_code == 200
    assert f"frame-ancestors {ORIGIN}" in r.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in r.headers
    for origin in ("https://evil.example", "https://coop.example:8443", "null", "*",
                   "https://coop.example; script-src *"):
        params["origin"] = origin
        r = client.get("/oauth/authorize?" + urlencode(params))
        assert r.status_code == 400 and "Location" not in r.headers
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    del params["origin"]
    r = client.get("/oauth/authorize?" + urlencode(params))  # neither redirect_uri nor origin
    assert r.status_code == 400


# -- consent ---------------------------------------------------------------------------------

def test_prepare_needs_the_member_and_a_matching_coopname(app, client, holder):
    _, challenge = pkce()
    params = auth_request(challenge=challenge)
    assert client.post("/access/prepare-share-data",
                       json={"coopname": COOP, **params}).status_code == 401
    r = client.post("/access/prepare-share-data", headers=holder.bearer,
                    json={"coopname": "zelenyisad", **params})
    assert r.status_code == 400 and r.json["error"] == "invalid_request"


def test_prepare_validates_the_request_like_the_authorization_endpoint(client, holder):
    _, challenge = pkce()
    params = auth_request(challenge=challenge, redirect_uri="https://evil.example/cb")
    r = client.post("/access/prepare-share-data", headers=holder.bearer,
                    json={"coopname": COOP, **params})
    assert r.status_code == 400 and r.json["error"] == "invalid_request"
    assert "evil" not in r.json["message"]
    params = auth_request(challenge=challenge)
    del params["code_challenge"]
    r = client.post("/access/prepare-share-data", headers=holder.bearer,
                    json={"coopname": COOP, **params})
    assert r.status_code == 400 and "PKCE" in r.json["message"]


def test_a_member_without_a_card_is_asked_to_issue_one(app, client, coop):
    member = register(app, client)
    _, challenge = pkce()
    r = client.post("/access/prepare-share-data", headers=member.bearer,
                    json={"coopname": COOP, **auth_request(challenge=challenge)})
    assert r.status_code == 409 and r.json["error"] == "card_required"


def test_share_without_an_account_needs_the_account_scope(app, client, coop):
    holder = card_holder(app, client)  # no account in the cooperative
    _, challenge = pkce()
    r = client.post("/access/prepare-share-data", headers=holder.bearer,
                    json={"coopname": COOP, **auth_request(challenge=challenge)})
    assert r.status_code == 403 and r.json["error"] == "not_a_member"
    joining = auth_request(challenge=challenge, scope="openid share account")
    r = client.post("/access/prepare-share-data", headers=holder.bearer,
                    json={"coopname": COOP, **joining})
    assert r.status_code == 200 and r.json["join"] is True and r.json["account"] is None


def test_share_checks_the_envelope_and_the_account(app, client, holder):
    _, challenge = pkce()
    params = auth_request(challenge=challenge)
    before = counts(app)
    other_key = "PUB_K1_7S7kqH91GbotPJjYaTXrTN8mFDE2AeqewgiPUPnDERZ3mFbSKt"
    body = share_body(app, holder, params, recipient=other_key)
    r = client.post("/access/share-data", headers=holder.bearer, json=body)
    assert r.status_code == 400 and r.json["error"] == "wrong_recipient"
    for change, code in (({"username": "someoneelse1"}, "account_mismatch"),
                         ({"public_key": other_key}, "account_mismatch"),
                         ({"encrypted_data": "a.b.c.d.e"}, "invalid_envelope"),
                         ({"encrypted_data": "not-a-jwe"}, "invalid_envelope"),
                         ({"encrypted_data": None}, "invalid_request")):
        good = share_body(app, holder, params) | change
        r = client.post("/access/share-data", headers=holder.bearer, json=good)
        assert r.status_code == 400 and r.json["error"] == code, (change, r.json)
    oidc = auth_request(challenge=challenge, scope="openid email")
    r = client.post("/access/share-data", headers=holder.bearer,
                    json=share_body(app, holder, oidc))
    assert r.status_code == 400  # no card data in a sign-in-only consent
    assert counts(app) == before


@pytest.mark.parametrize("body", [
    [], "text", {"coopname": 5}, {"coopname": "voskhod", "scope": ["openid"]},
    {"coopname": "voskhod", "unknown": "x"}, {"coopname": "x" * 14},
    {"coopname": "voskhod", "state": "s" * 3000},
])
def test_bad_bodies_are_400(client, holder, body):
    for path in ("/access/prepare-share-data", "/access/share-data"):
        r = client.post(path, headers=holder.bearer, json=body)
        assert r.status_code == 400 and r.json["error"] in {"invalid_request", "invalid_json"}


def test_oversized_share_is_413(client, holder):
    r = client.post("/access/share-data", headers=holder.bearer,
                    json={"coopname": COOP, "encrypted_data": "x" * 2_000_000})
    assert r.status_code == 413


def test_refusal_goes_back_as_access_denied(client, coop):
    _, challenge = pkce()
    params = auth_request(challenge=challenge)
    r = client.post("/access/deny", json={"coopname": COOP, **params})
    assert r.status_code == 200
    query = query_of(r.json["redirect_to"])
    assert query == {"error": "access_denied", "error_description": "The member refused.",
                     "cardcoop_reason": "refused", "state": params["state"],
                     "iss": "http://idp.test"}
    iframe = auth_request(challenge=challenge, redirect_uri=None, origin=ORIGIN)
    r = client.post("/access/deny", json={"coopname": COOP, **iframe})
    assert r.json["redirect_to"] is None and r.json["origin"] == ORIGIN
    evil = auth_request(challenge=challenge, redirect_uri="https://evil.example/cb")
    assert client.post("/access/deny", json={"coopname": COOP, **evil}).status_code == 400


# -- the ticket ------------------------------------------------------------------------------

def test_ticket_is_single_use_and_a_replay_revokes_the_first_token(app, client, coop, holder):
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(challenge=challenge))
    first = exchange(client, coop, ticket, verifier)
    assert first.status_code == 200
    username = holder.accounts[COOP].username
    path = f"/access/get-encrypted-data/{username}/{COOP}"
    assert client.get(path, headers=bearer(first.json["access_token"])).status_code == 200
    again = exchange(client, coop, ticket, verifier)
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"
    r = client.get(path, headers=bearer(first.json["access_token"]))
    assert r.status_code == 401 and r.json["error"] == "invalid_token"
    assert "invalid_token" in r.headers["WWW-Authenticate"]


def test_ticket_of_one_cooperative_is_nothing_to_another(app, client, coop, holder):
    other = make_client(app, "zelenyisad")
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(challenge=challenge))
    r = exchange(client, other, ticket, verifier)
    assert r.status_code == 400 and r.json["error"] == "invalid_grant"
    assert exchange(client, coop, ticket, verifier).status_code == 200  # still the owner's


@pytest.mark.parametrize("case", ["missing", "wrong", "malformed"])
def test_pkce_verifier_is_required_and_checked(app, client, coop, holder, case):
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(challenge=challenge))
    presented = {"missing": None, "wrong": pkce()[0], "malformed": "short"}[case]
    r = client.post("/access/exchange-ticket", json={
        k: v for k, v in {"ticket": ticket, "code_verifier": presented, "redirect_uri": REDIRECT,
                          "client_id": COOP, "client_secret": coop.secret}.items()
        if v is not None})
    assert r.status_code == 400 and r.json["error"] in {"invalid_request", "invalid_grant"}
    # The ticket is spent by the failed attempt: the right verifier comes too late.
    assert exchange(client, coop, ticket, verifier).status_code == 400


def test_redirect_uri_must_match_the_authorization_request(app, client, coop, holder):
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(challenge=challenge))
    r = exchange(client, coop, ticket, verifier, redirect_uri="https://coop.example/other")
    assert r.status_code == 400 and r.json["error"] == "invalid_grant"


def test_expired_ticket_is_refused(app, client, coop, holder):
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(challenge=challenge))
    with app.app_context():
        db.session.execute(update(AuthorizationCode).values(
            expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    r = exchange(client, coop, ticket, verifier)
    assert r.status_code == 400 and r.json["error"] == "invalid_grant"


@pytest.mark.parametrize("auth", ["wrong_secret", "no_auth", "basic_wrong", "unknown_client"])
def test_client_must_authenticate(app, client, coop, holder, auth):
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(challenge=challenge))
    body = {"ticket": ticket, "code_verifier": verifier, "redirect_uri": REDIRECT}
    headers = {}
    if auth == "wrong_secret":
        body |= {"client_id": COOP, "client_secret": "x" * 43}
    elif auth == "basic_wrong":
        headers = {"Authorization": "Basic dm9za2hvZDp3cm9uZw=="}
    elif auth == "unknown_client":
        body |= {"client_id": "nosuchcoop", "client_secret": coop.secret}
    r = client.post("/access/exchange-ticket", json=body, headers=headers)
    assert r.status_code in {400, 401} and r.json["error"] == "invalid_client"


def test_http_basic_and_the_standard_form_endpoint_work(app, client, coop, holder):
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(challenge=challenge))
    r = client.post("/oauth/token", headers=coop.basic, data={
        "grant_type": "authorization_code", "code": ticket, "redirect_uri": REDIRECT,
        "code_verifier": verifier})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert r.json["coopname"] == COOP


# -- the cooperative's token -----------------------------------------------------------------

def test_a_token_reads_only_its_own_member_and_cooperative(app, client, coop, holder):
    make_client(app, "zelenyisad")
    second = card_holder(app, client, COOP)
    add_account(client, holder, "zelenyisad")
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(challenge=challenge))
    token = exchange(client, coop, ticket, verifier).json["access_token"]
    u1, u2 = holder.accounts[COOP].username, second.accounts[COOP].username
    assert client.get(f"/access/get-encrypted-data/{u1}/{COOP}",
                      headers=bearer(token)).status_code == 200
    for username, coopname in ((u2, COOP), (holder.accounts["zelenyisad"].username, "zelenyisad"),
                               (u1, "zelenyisad")):
        r = client.get(f"/access/get-encrypted-data/{username}/{coopname}",
                       headers=bearer(token))
        assert r.status_code == 403 and r.json["error"] == "insufficient_scope"
    for headers in ({}, bearer("x" * 43), holder.bearer, {"Authorization": "Basic abc"}):
        r = client.get(f"/access/get-encrypted-data/{u1}/{COOP}", headers=headers)
        assert r.status_code == 401


def test_expired_token_is_refused(app, client, coop, holder):
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(challenge=challenge))
    token = exchange(client, coop, ticket, verifier).json["access_token"]
    with app.app_context():
        db.session.execute(update(OAuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    username = holder.accounts[COOP].username
    r = client.get(f"/access/get-encrypted-data/{username}/{COOP}", headers=bearer(token))
    assert r.status_code == 401


def test_revoking_the_grant_stops_the_cooperative_at_once(app, client, coop, holder):
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(challenge=challenge))
    token = exchange(client, coop, ticket, verifier).json["access_token"]
    unused = ticket_for(app, client, holder, auth_request(challenge=challenge))
    listed = client.get("/access/list", headers=holder.bearer).json["grants"]
    assert [(g["coopname"], g["announce"], g["shared_fields"]) for g in listed] == [
        (COOP, "ПК ВОСХОД", ["last_name"])]
    other = card_holder(app, client, COOP)
    assert client.delete(f"/access/grants/{listed[0]['id']}",
                         headers=other.bearer).status_code == 404
    assert client.delete("/access/grants/not-a-uuid", headers=holder.bearer).status_code == 404
    assert client.delete(f"/access/grants/{listed[0]['id']}",
                         headers=holder.bearer).status_code == 204
    username = holder.accounts[COOP].username
    r = client.get(f"/access/get-encrypted-data/{username}/{COOP}", headers=bearer(token))
    assert r.status_code == 401
    assert exchange(client, coop, unused, verifier).status_code == 400
    assert client.get("/access/list", headers=holder.bearer).json == {"grants": []}
    assert client.delete(f"/access/grants/{listed[0]['id']}",
                         headers=holder.bearer).status_code == 404
    run_worker(app)
    subjects = [m.subject for m in mails_to(app, holder.member.email)]
    assert any("доступ" in s.lower() for s in subjects)


def test_sign_in_only_grant_has_no_data(app, client, coop, holder):
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(challenge=challenge,
                                                          scope="openid email"))
    tokens = exchange(client, coop, ticket, verifier).json
    assert tokens["scope"] == "openid email" and "id_token" in tokens
    username = holder.accounts[COOP].username
    r = client.get(f"/access/get-encrypted-data/{username}/{COOP}",
                   headers=bearer(tokens["access_token"]))
    assert r.status_code == 404 and r.json["error"] == "no_shared_data"
    info = client.get("/oauth/userinfo", headers=bearer(tokens["access_token"]))
    assert info.status_code == 200 and info.json["email"] == holder.member.email
    assert "card_number" not in info.json  # not in the scope


def test_introspection_and_revocation_by_the_owner_only(app, client, coop, holder):
    other = make_client(app, "zelenyisad")
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(challenge=challenge))
    token = exchange(client, coop, ticket, verifier).json["access_token"]
    seen = client.post("/oauth/introspect", headers=coop.basic, data={"token": token}).json
    assert seen["active"] is True and seen["client_id"] == COOP
    assert seen["username"] == holder.accounts[COOP].username
    assert client.post("/oauth/introspect", headers=other.basic,
                       data={"token": token}).json == {"active": False}
    assert client.post("/oauth/introspect", data={"token": token}).status_code == 401
    # RFC 7009 §2.1: a token of another client is refused, and stays valid.
    assert client.post("/oauth/revoke", headers=other.basic,
                       data={"token": token}).status_code == 400
    assert client.post("/oauth/introspect", headers=coop.basic,
                       data={"token": token}).json["active"] is True
    assert client.post("/oauth/revoke", headers=coop.basic,
                       data={"token": token}).status_code == 200
    assert client.post("/oauth/introspect", headers=coop.basic,
                       data={"token": token}).json == {"active": False}


# -- the registry ----------------------------------------------------------------------------

def test_membership_refused_by_the_chain(make_app, httpserver, fake_chain):  # noqa: F811
    app = make_app(voskhod_chain_url=httpserver.url_for("/").rstrip("/"))
    client = app.test_client()
    make_client(app)
    holder = card_holder(app, client, COOP)
    fake_chain.add_cooperative(COOP, "ПК ВОСХОД")
    fake_chain.add_participant(COOP, holder.accounts[COOP].username, status="blocked")
    _, challenge = pkce()
    params = auth_request(challenge=challenge)
    for path in ("/access/prepare-share-data", "/access/share-data"):
        body = share_body(app, holder, params) if path.endswith("share-data") and \
            "prepare" not in path else {"coopname": COOP, **params}
        r = client.post(path, headers=holder.bearer, json=body)
        assert r.status_code == 403 and r.json["error"] == "not_a_member"
    assert counts(app) == {"idp_grants": 0, "idp_oauth_codes": 0, "idp_oauth_tokens": 0}


def test_chain_down_is_a_503_and_writes_nothing(make_app):
    port = free_port()
    app = make_app(voskhod_chain_url=f"http://127.0.0.1:{port}")
    client = app.test_client()
    make_client(app)
    holder = card_holder(app, client, COOP)
    _, challenge = pkce()
    r = client.post("/access/prepare-share-data", headers=holder.bearer,
                    json={"coopname": COOP, **auth_request(challenge=challenge)})
    assert r.status_code == 503 and r.json["error"] == "registry_unavailable"
    assert counts(app) == {"idp_grants": 0, "idp_oauth_codes": 0, "idp_oauth_tokens": 0}


@pytest.mark.parametrize("body", [
    [], {"ticket": 5}, {"ticket": ""}, {"ticket": "t" * 500}, {},
    {"ticket": "abc", "client_id": ["voskhod"]}, {"ticket": "abc", "extra": 1},
])
def test_exchange_ticket_bad_bodies(app, client, coop, body):
    before = counts(app)
    r = client.post("/access/exchange-ticket", json=body)
    assert r.status_code == 400 and r.json["error"] in {"invalid_request", "invalid_json"}
    assert counts(app) == before


@pytest.mark.parametrize("form", [
    {}, {"grant_type": "password", "username": "a", "password": "b"},
    {"grant_type": "client_credentials"}, {"grant_type": "authorization_code"},
    {"grant_type": "authorization_code", "code": "nosuchticket"},
])
def test_token_endpoint_bad_requests(app, client, coop, form):
    r = client.post("/oauth/token", headers=coop.basic, data=form)
    assert r.status_code == 400
    assert r.json["error"] in {"unsupported_grant_type", "invalid_request", "invalid_grant",
                               "unauthorized_client"}
    assert r.headers["Cache-Control"] == "no-store"


def test_userinfo_needs_an_openid_token(app, client, coop, holder):
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(challenge=challenge, scope="share"))
    token = exchange(client, coop, ticket, verifier).json["access_token"]
    r = client.get("/oauth/userinfo", headers=bearer(token))
    assert r.status_code == 403 and r.json["error"] == "insufficient_scope"
    assert client.get("/oauth/userinfo").status_code == 401


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_id_tokens_are_signed_as_the_client_registered(app, client, holder, alg):
    from joserfc import jwt
    from joserfc.jwk import KeySet

    coop = make_client(app, "zelenyisad", id_token_alg=alg)
    add_account(client, holder, "zelenyisad")
    verifier, challenge = pkce()
    ticket = ticket_for(app, client, holder, auth_request(
        "zelenyisad", challenge=challenge, scope="openid cardcoop:card", nonce="n1"))
    body = exchange(client, coop, ticket, verifier).json
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").json)
    token = jwt.decode(body["id_token"], keys, algorithms=[alg])
    assert token.header["alg"] == alg and token.header["typ"] == "JWT"
    assert token.claims["aud"] == "zelenyisad" and token.claims["nonce"] == "n1"
    assert len(token.claims["card_number"]) == 16 and "email" not in token.claims


def test_a_new_consent_replaces_the_grant_and_stops_its_tokens(app, client, coop, holder):
    verifier, challenge = pkce()
    first = exchange(client, coop, ticket_for(app, client, holder, auth_request(
        challenge=challenge)), verifier).json
    second = exchange(client, coop, ticket_for(app, client, holder, auth_request(
        challenge=challenge, scope="openid email")), verifier).json
    assert second["username"] is None  # sign-in only: the account is not named
    username = holder.accounts[COOP].username
    path = f"/access/get-encrypted-data/{username}/{COOP}"
    assert client.get(path, headers=bearer(first["access_token"])).status_code == 401
    assert client.get(path, headers=bearer(second["access_token"])).status_code == 404
    assert client.get("/oauth/userinfo", headers=bearer(second["access_token"])).status_code == 200
    [grant] = client.get("/access/list", headers=holder.bearer).json["grants"]
    assert grant["scope"] == ["openid", "email"] and grant["username"] is None
