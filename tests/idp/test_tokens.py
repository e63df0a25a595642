"""Access tokens: ES256 JWTs, JWKS, rotation, and everything that must be refused (issue #2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

from joserfc import jwt
from joserfc.jwk import ECKey

from common.db import db, utcnow
from idp.models import SigningKey
from idp.services import services


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parts(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    return (json.loads(base64.urlsafe_b64decode(header + "==")),
            json.loads(base64.urlsafe_b64decode(payload + "==")))


def sessions_with(client, token: str):
    return client.get("/auth/sessions", headers={"Authorization": f"Bearer {token}"})


def test_access_token_is_a_short_es256_jwt_verifiable_from_jwks(client, member):
    token = member.tokens["accessToken"]
    header, claims = parts(token)
    assert header["alg"] == "ES256" and header["typ"] == "at+jwt"
    assert claims["exp"] - claims["iat"] <= 900
    assert claims["iss"] == "http://idp.test"
    jwks = client.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    keys = {k["kid"]: k for k in jwks.json["keys"]}
    assert header["kid"] in keys and "d" not in keys[header["kid"]]
    # An independent check with the published key only.
    decoded = jwt.decode(token, ECKey.import_key(keys[header["kid"]]), algorithms=["ES256"])
    assert decoded.claims["sub"] == claims["sub"]
    assert sessions_with(client, token).status_code == 200


def test_refused_tokens(client, member):
    token = member.tokens["accessToken"]
    header, claims = parts(token)
    head, body, sig = token.split(".")
    forged_claims = b64u(json.dumps(claims | {"sub": "00000000-0000-0000-0000-000000000000"})
                         .encode())
    none_header = b64u(json.dumps({"alg": "none", "typ": "at+jwt", "kid": header["kid"]})
                       .encode())
    hs_header = b64u(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]})
                     .encode())
    # HS256 "signed" with the public key: the classic algorithm-confusion attack.
    public = json.dumps(client.get("/.well-known/jwks.json").json["keys"][0]).encode()
    hs_sig = b64u(hmac.new(public, f"{hs_header}.{body}".encode(), hashlib.sha256).digest())
    for bad in [
        f"{head}.{forged_claims}.{sig}",          # tampered payload
        f"{none_header}.{body}.",                 # alg: none
        f"{hs_header}.{body}.{hs_sig}",           # alg confusion
        f"{head}.{body}.{sig[:-4]}AAAA",          # broken signature
        "not-a-jwt", "a.b.c", "",
    ]:
        r = sessions_with(client, bad)
        assert r.status_code == 401, bad
        assert r.json["error"] in {"invalid_token", "missing_token"}
    assert client.get("/auth/sessions").json["error"] == "missing_token"
    assert client.get("/auth/sessions",
                      headers={"Authorization": f"Basic {token}"}).status_code == 401


def test_expired_token_is_refused(app, client, member):
    with app.app_context():
        tokens = services().tokens
        signing = tokens.signing_key()
        header, claims = parts(member.tokens["accessToken"])
        now = int(time.time())
        expired = jwt.encode(header, claims | {"iat": now - 1000, "exp": now - 10}, signing,
                             algorithms=["ES256"])
    r = sessions_with(client, expired)
    assert r.status_code == 401 and r.json["error"] == "token_expired"


def test_id_token_shaped_jwt_with_our_key_but_wrong_type_is_refused(app, client, member):
    with app.app_context():
        signing = services().tokens.signing_key()
        header, claims = parts(member.tokens["accessToken"])
        wrong_type = jwt.encode(header | {"typ": "JWT"}, claims, signing, algorithms=["ES256"])
        wrong_aud = jwt.encode(header, claims | {"aud": "someone-else"}, signing,
                               algorithms=["ES256"])
    assert sessions_with(client, wrong_type).status_code == 401
    assert sessions_with(client, wrong_aud).status_code == 401


def test_rotation_keeps_old_tokens_valid_until_they_expire(app, client, member):
    old_token = member.tokens["accessToken"]
    old_kid = parts(old_token)[0]["kid"]
    with app.app_context():
        new_kid = services().tokens.rotate()
    assert new_kid != old_kid
    kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]}
    assert {old_kid, new_kid} <= kids
    assert sessions_with(client, old_token).status_code == 200
    refreshed = client.post("/auth/refresh-token",
                            json={"refreshToken": member.tokens["refreshToken"]})
    assert parts(refreshed.json["accessToken"])[0]["kid"] == new_kid

    # Once the old key's tokens must all have expired, it leaves the JWKS and stops verifying.
    with app.app_context():
        db.session.get(SigningKey, old_kid).retired_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        services().tokens._loaded_at = 0.0
    kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]}
    assert old_kid not in kids and new_kid in kids
    assert sessions_with(client, old_token).status_code == 401


def test_rotation_cli(app):
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0 and "new signing key:" in result.output
    with app.app_context():
        active = db.session.query(SigningKey).filter(SigningKey.retired_at.is_(None)).all()
    assert len(active) == 1 and active[0].kid in result.output


def test_signing_keys_are_stored_encrypted(app, member):
    with app.app_context():
        for key in db.session.query(SigningKey):
            assert b"PRIVATE KEY" not in key.private_key_encrypted
            assert "d" not in key.public_jwk


def test_jwks_publishes_the_id_token_key_and_rotation_renews_every_algorithm(app, client):
    first = client.get("/.well-known/jwks.json").json["keys"]
    assert sorted((k["kty"], k["alg"]) for k in first) == [("EC", "ES256"), ("RSA", "RS256")]
    assert all("d" not in k and "p" not in k for k in first)  # public halves only
    with app.app_context():
        services().tokens.rotate()
        services().tokens._loaded_at = 0.0
    second = client.get("/.well-known/jwks.json").json["keys"]
    new = {k["kid"] for k in second} - {k["kid"] for k in first}
    assert sorted(k["alg"] for k in second if k["kid"] in new) == ["ES256", "RS256"]
    assert {k["kid"] for k in first} <= {k["kid"] for k in second}  # old ones still verify
