"""The coopenomics MONO platform's card.coop client, emulated request for request (issue #4).

MONO was written against an Authentik-style layout: it sends the browser to
``{base}/application/o/authorize/`` (code + PKCE S256, scope ``openid profile email cardcoop:card
cardcoop:memberships``), exchanges the code by a form POST to ``{base}/application/o/token/``
with client_secret_post, reads the ID token (``aud`` compared as a plain string) and may call
``{base}/application/o/userinfo/``. The consent in between is the member's page on idp, driven
here through /access/share-data as the page does it. Plus the discovery document, checked with
Authlib's OpenID Provider metadata validator.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oauth2.rfc9207.discovery import AuthorizationServerMetadata as IssMetadata
from authlib.oidc.discovery import OpenIDProviderMetadata
from authlib.oidc.rpinitiated.discovery import OpenIDProviderMetadata as LogoutMetadata
from joserfc import jwt
from joserfc.jwk import KeySet

from cardcoop.protocol.encoding import b64u_decode
from idp.services import services
from tests.idp.oauth_flow import COOP, REDIRECT, card_holder, make_client, pkce, query_of

BASE = "/application/o"
ISSUER = "https://idp.card.example"  # Authlib's validators want https (or loopback)
MONO_SCOPE = "openid profile email cardcoop:card cardcoop:memberships"
MEMBERSHIP_KEYS = {"coop", "coopname", "status", "member_since"}
USERINFO_CLAIMS = {"sub", "sid", "email", "email_verified", "card_number", "memberships"}


def mono_authorize_params(challenge: str, redirect_uri: str = REDIRECT) -> dict[str, str]:
    """The query MONO puts on {base}/application/o/authorize/, in its order."""
    return {"response_type": "code", "client_id": COOP, "redirect_uri": redirect_uri,
            "scope": MONO_SCOPE, "state": secrets.token_urlsafe(16),
            "code_challenge": challenge, "code_challenge_method": "S256"}


def payload_of(compact_jwt: str) -> dict[str, Any]:
    """The ID token's claims exactly as serialised (types included), as MONO parses them."""
    result: dict[str, Any] = json.loads(b64u_decode(compact_jwt.split(".")[1]))
    return result


def test_mono_authorize_token_userinfo(app, client):
    coop = make_client(app)
    holder = card_holder(app, client, COOP)
    card_id = client.get("/card", headers=holder.bearer).json["card_id"]
    with app.app_context():
        issuer = services().settings.idp_url
    verifier, challenge = pkce()
    params = mono_authorize_params(challenge)

    # 1. The browser lands on the Authentik-style authorize URL: the member's page, not a redirect.
    page = client.get(f"{BASE}/authorize/?{urlencode(params)}")
    assert page.status_code == 200, page.data[:300]
    assert page.mimetype == "text/html" and "Location" not in page.headers

    # 2. The member consents on that page (pure OIDC scopes: no encrypted data).
    shared = client.post("/access/share-data", headers=holder.bearer,
                         json={"coopname": COOP, **params})
    assert shared.status_code == 200, shared.json
    callback = shared.json["redirect_to"]
    assert callback.startswith(REDIRECT + "?")
    returned = query_of(callback)
    assert returned["state"] == params["state"] and returned["iss"] == issuer
    code = returned["code"]

    # 3. MONO's server exchanges the code: form POST, client_secret_post, PKCE verifier.
    tokens = client.post(f"{BASE}/token/", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": coop.client_id, "client_secret": coop.secret, "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.json
    assert tokens.mimetype == "application/json"
    body = tokens.json
    assert body["token_type"] == "Bearer" and body["access_token"] and body["id_token"]
    assert set(body["scope"].split()) == set(MONO_SCOPE.split())

    # 4. The ID token: signed by a key of /.well-known/jwks.json, claims as MONO reads them.
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").json)
    verified = jwt.decode(body["id_token"], keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": issuer},
                          aud={"essential": True, "value": COOP},
                          exp={"essential": True}, iat={"essential": True}
                          ).validate(verified.claims)
    claims = payload_of(body["id_token"])
    assert claims == verified.claims
    assert claims["iss"] == issuer  # exactly, no trailing slash
    assert isinstance(claims["aud"], str) and claims["aud"] == coop.client_id  # not a list
    assert claims["sub"] == card_id
    assert claims["email"] == holder.member.email and claims["email_verified"] is True
    assert isinstance(claims["card_number"], str) and claims["card_number"].isdigit()
    memberships = claims["memberships"]
    assert isinstance(memberships, list)
    for item in memberships:
        assert set(item) == MEMBERSHIP_KEYS, item
        assert item["status"] in ("active", "revoked")
        assert item["member_since"] is None or isinstance(item["member_since"], str)
    # The sandbox registry has open membership: the account in voskhod is an active member.
    voskhod = [m for m in memberships if m["coopname"] == COOP]
    assert len(voskhod) == 1
    assert {k: voskhod[0][k] for k in ("coop", "coopname", "status")} == {
        "coop": "ПК ВОСХОД", "coopname": "voskhod", "status": "active"}

    # 5. UserInfo at the Authentik-style path says the same.
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    userinfo = client.get(f"{BASE}/userinfo/", headers=bearer)
    assert userinfo.status_code == 200, userinfo.json
    assert set(userinfo.json) == USERINFO_CLAIMS
    assert userinfo.json == {k: claims[k] for k in USERINFO_CLAIMS}
    # ... and at the standard path, by GET and POST (OIDC Core §5.3.1).
    assert client.get("/oauth/userinfo", headers=bearer).json == userinfo.json
    assert client.post(f"{BASE}/userinfo/", headers=bearer).json == userinfo.json


def test_mono_bad_redirect_uri_is_an_error_page_never_a_redirect(app, client):
    make_client(app)
    _, challenge = pkce()
    for redirect_uri in ("https://evil.example/callback", REDIRECT + "/other",
                         REDIRECT + "?x=1"):
        params = mono_authorize_params(challenge, redirect_uri)
        page = client.get(f"{BASE}/authorize/?{urlencode(params)}")
        assert page.status_code == 400, (redirect_uri, page.status_code)
        assert page.mimetype == "text/html" and "Location" not in page.headers
        assert "evil.example" not in page.get_data(as_text=True)


def test_mono_code_is_bound_to_its_client_and_verifier(app, client):
    coop = make_client(app)
    holder = card_holder(app, client, COOP)
    verifier, challenge = pkce()
    params = mono_authorize_params(challenge)
    shared = client.post("/access/share-data", headers=holder.bearer,
                         json={"coopname": COOP, **params})
    code = query_of(shared.json["redirect_to"])["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": coop.client_id, "client_secret": coop.secret}
    wrong = client.post(f"{BASE}/token/", data=form | {"code_verifier": pkce()[0]})
    assert wrong.status_code == 400 and wrong.json["error"] == "invalid_grant"
    # The ticket is spent by the failed attempt: the right verifier no longer helps.
    late = client.post(f"{BASE}/token/", data=form | {"code_verifier": verifier})
    assert late.status_code == 400 and late.json["error"] == "invalid_grant"
    bad_secret = client.post(f"{BASE}/token/", data=form | {"code_verifier": verifier,
                                                            "client_secret": "nope"})
    assert bad_secret.status_code == 401 and bad_secret.json["error"] == "invalid_client"


def validate_metadata(meta: dict[str, Any], *, skip: str | None = None) -> None:
    """Authlib's validators: OpenID Provider metadata (Discovery 1.0), RFC 8414 (revocation,
    introspection, PKCE methods), RP-initiated logout and RFC 9207; raises on an invalid field."""
    for cls in (OpenIDProviderMetadata, AuthorizationServerMetadata, LogoutMetadata,
                IssMetadata):
        instance = cls(meta)
        for key in cls.REGISTRY_KEYS:
            if key != skip:
                object.__getattribute__(instance, f"validate_{key}")()


def discovery_documents(make_app: Any) -> list[dict[str, Any]]:
    client = make_app(idp_url=ISSUER).test_client()
    documents = []
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == "application/json"
        documents.append(response.json)
    assert documents[0] == documents[1]
    jwks = client.get(urlsplit(documents[0]["jwks_uri"]).path)
    assert jwks.status_code == 200 and jwks.json["keys"]
    return documents


def test_discovery_is_valid_openid_provider_metadata(make_app):
    meta = discovery_documents(make_app)[0]
    validate_metadata(meta)
    assert meta["issuer"] == ISSUER
    urls = {k: v for k, v in meta.items() if k.endswith(("_endpoint", "_uri"))}
    assert {"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
            "revocation_endpoint", "introspection_endpoint", "end_session_endpoint"} <= set(urls)
    for name, url in urls.items():
        assert url.startswith(ISSUER + "/"), (name, url)
    assert meta["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert "client_secret_post" in meta["token_endpoint_auth_methods_supported"]
    assert set(MONO_SCOPE.split()) <= set(meta["scopes_supported"])
    assert meta["authorization_response_iss_parameter_supported"] is True


def test_discovery_passes_authlib_strict_validation(make_app):
    validate_metadata(discovery_documents(make_app)[0])
