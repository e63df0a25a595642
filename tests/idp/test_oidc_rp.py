"""idp with off-the-shelf OpenID Connect relying parties, over real HTTP (issue #4): it "must work
unchanged with standard certified OpenID Connect client libraries (discovery-driven, PKCE)".

1. panva's ``openid-client`` (OpenID Certified RP, npm), run by tests/oidc_rp/rp.mjs: discovery,
   authorization URL with PKCE S256 + state + nonce, the code grant with full ID token
   validation (JWKS signature, iss, aud, nonce, at_hash, RFC 9207 ``iss``), UserInfo,
   introspection, revocation and the RP-initiated logout URL. Skipped where node or
   tests/oidc_rp/node_modules is missing, unless CARDCOOP_REQUIRE_OIDC_RP is set (CI:
   ``cd tests/oidc_rp && npm ci``).
2. Authlib's requests client (OAuth2Session, PKCE S256), with the ID token checked by joserfc
   against /.well-known/jwks.json: a generic client that runs everywhere.

The consent in between is what the member's page does: the authorization request's parameters,
exactly as the RP put them in the URL, go to POST /access/share-data with the member's bearer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.idp.oauth_flow import (
    COOP,
    REDIRECT,
    CardHolder,
    Coop,
    card_holder,
    make_client,
    query_of,
)
from tests.live import free_port, serving

RP_DIR = Path(__file__).resolve().parents[1] / "oidc_rp"
RP_SCRIPT = RP_DIR / "rp.mjs"
REQUIRE_RP = bool(os.environ.get("CARDCOOP_REQUIRE_OIDC_RP"))
SCOPE = "openid email cardcoop:card cardcoop:memberships"
POST_LOGOUT = "https://coop.example/logged-out"
USERINFO_CLAIMS = {"sub", "sid", "email", "email_verified", "card_number", "memberships"}
TIMEOUT = 60


@dataclass
class Live:
    app: Flask
    url: str
    client: FlaskClient  # the member's page's calls, on the same app and database


@pytest.fixture
def live(make_app: Callable[..., Flask]) -> Iterator[Live]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = make_app(idp_url=url)  # the issuer is the URL the relying party discovers
    app.config["TESTING"] = False  # behave like a served app (errors as responses, not raised)
    with serving(app, port):
        yield Live(app, url, app.test_client())


@dataclass
class Party:
    coop: Coop
    holder: CardHolder
    card_id: str


@pytest.fixture
def party(live: Live) -> Party:
    coop = make_client(live.app, post_logout=[POST_LOGOUT])
    holder = card_holder(live.app, live.client, COOP)
    card = live.client.get("/card", headers=holder.bearer)
    assert card.status_code == 200, card.json
    return Party(coop, holder, card.json["card_id"])


def consent(live: Live, holder: CardHolder, authorization_url: str) -> str:
    """The member's page: open the authorization URL, consent; the URL the browser lands on."""
    assert authorization_url.startswith(f"{live.url}/oauth/authorize?"), authorization_url
    page = live.client.get(authorization_url.removeprefix(live.url))
    assert page.status_code == 200 and page.mimetype == "text/html", page.data[:300]
    params = query_of(authorization_url)
    shared = live.client.post("/access/share-data", headers=holder.bearer,
                              json={"coopname": params["client_id"], **params})
    assert shared.status_code == 200, shared.json
    assert shared.json["mode"] == "redirect"
    return str(shared.json["redirect_to"])


def check_claims(claims: dict[str, Any], live: Live, party: Party) -> None:
    assert claims["iss"] == live.url
    assert claims["aud"] == COOP
    assert claims["sub"] == party.card_id
    assert claims["email"] == party.holder.member.email and claims["email_verified"] is True
    assert isinstance(claims["card_number"], str) and re.fullmatch(r"\d{16}", claims["card_number"])
    memberships = claims["memberships"]
    assert isinstance(memberships, list) and memberships
    for item in memberships:
        assert set(item) == {"coop", "coopname", "status", "member_since"}, item
        assert item["status"] in ("active", "revoked")
    voskhod = [m for m in memberships if m["coopname"] == COOP]
    assert len(voskhod) == 1 and voskhod[0]["coop"] == "ПК ВОСХОД"
    assert voskhod[0]["status"] == "active"


# -- 1. openid-client (node) -----------------------------------------------------------------

def rp_unavailable() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (RP_DIR / "node_modules" / "openid-client" / "package.json").is_file():
        return "tests/oidc_rp/node_modules is missing (run: cd tests/oidc_rp && npm ci)"
    return None


@pytest.fixture
def node() -> str:
    reason = rp_unavailable()
    if reason:
        if REQUIRE_RP:
            pytest.fail(f"CARDCOOP_REQUIRE_OIDC_RP is set but {reason}")
        pytest.skip(f"openid-client relying party not runnable: {reason}")
    return str(shutil.which("node"))


class NodeRP:
    """rp.mjs as a subprocess: one JSON object per line on stdout, the callback URL on stdin."""

    def __init__(self, node: str, env: dict[str, str], stderr: IO[str]) -> None:
        self.stderr = stderr
        self.proc = subprocess.Popen(  # noqa: S603 (our script, our arguments)
            [node, str(RP_SCRIPT)], cwd=RP_DIR, env=os.environ | env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, name="oidc-rp-stdout", daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def errors(self) -> str:
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()

    def read(self) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=TIMEOUT)
        except queue.Empty:
            pytest.fail(f"openid-client RP said nothing in {TIMEOUT}s; stderr:\n{self.errors()}")
        if line is None:
            pytest.fail(f"openid-client RP exited ({self.proc.wait(TIMEOUT)}); "
                        f"stderr:\n{self.errors()}")
        result: dict[str, Any] = json.loads(line)
        assert "error" not in result, f"{result}\nstderr:\n{self.errors()}"
        return result

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.close()  # the only line it reads; then node may exit

    def close(self) -> int | None:
        if self.proc.poll() is None:
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(TIMEOUT)
        return self.proc.returncode


@pytest.mark.parametrize("auth_method", ["client_secret_post", "client_secret_basic"])
def test_openid_client_certified_rp(node, live, party, tmp_path, auth_method):
    env = {"RP_ISSUER": live.url, "RP_CLIENT_ID": party.coop.client_id,
           "RP_CLIENT_SECRET": party.coop.secret, "RP_REDIRECT_URI": REDIRECT,
           "RP_AUTH": auth_method, "RP_SCOPE": SCOPE, "RP_POST_LOGOUT_REDIRECT_URI": POST_LOGOUT}
    with (tmp_path / "rp.stderr").open("w+") as stderr:
        rp = NodeRP(node, env, stderr)
        try:
            start = rp.read()
            assert start["metadata"]["issuer"] == live.url
            request = query_of(start["authorization_url"])
            assert request["client_id"] == COOP and request["redirect_uri"] == REDIRECT
            assert request["response_type"] == "code" and request["scope"] == SCOPE
            assert request["code_challenge_method"] == "S256" and request["code_challenge"]
            assert request["state"] == start["state"] and request["nonce"] == start["nonce"]
            rp.send(consent(live, party.holder, start["authorization_url"]))
            result = rp.read()
        finally:
            returncode = rp.close()
        assert returncode == 0, rp.errors()

    # authorizationCodeGrant validated the ID token (signature, iss, aud, nonce, at_hash, ...).
    claims = result["claims"]
    check_claims(claims, live, party)
    assert claims["nonce"] == start["nonce"] and claims["at_hash"]
    tokens = result["tokens"]
    assert tokens["token_type"].lower() == "bearer" and set(tokens["scope"].split()) == \
        set(SCOPE.split())
    assert result["userinfo"] == {k: v for k, v in claims.items() if k in USERINFO_CLAIMS}
    assert set(result["userinfo"]) == USERINFO_CLAIMS

    introspection = result["introspection"]
    assert introspection["active"] is True and introspection["client_id"] == COOP
    assert introspection["sub"] == party.card_id and introspection["iss"] == live.url
    assert result["revocation"] == "ok"
    assert result["introspection_after_revocation"] == {"active": False}
    assert result["userinfo_after_revocation"]["status"] == 401, \
        result["userinfo_after_revocation"]

    end_session = result["end_session_url"]
    assert end_session.startswith(f"{live.url}/oauth/logout?"), end_session
    logout_params = query_of(end_session)
    assert logout_params["id_token_hint"] == tokens["id_token"]
    assert logout_params["post_logout_redirect_uri"] == POST_LOGOUT
    # Following it ends the idp session that consented and returns to the cooperative.
    logout = requests.get(end_session, allow_redirects=False, timeout=TIMEOUT)
    assert logout.status_code == 302, logout.text[:300]
    back = logout.headers["Location"]
    assert back.startswith(POST_LOGOUT + "?") or back == POST_LOGOUT
    assert query_of(back).get("state") == result["end_session_state"]
    card = live.client.get("/card", headers=party.holder.bearer)
    assert card.status_code == 401, card.json


# -- 2. Authlib's client + joserfc ----------------------------------------------------------

def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_authlib_client_with_discovery_and_pkce(live, party, auth_method):
    http = requests.Session()
    meta = http.get(f"{live.url}/.well-known/openid-configuration", timeout=TIMEOUT).json()
    assert meta["issuer"] == live.url
    session = OAuth2Session(party.coop.client_id, party.coop.secret, scope=SCOPE,
                            redirect_uri=REDIRECT, code_challenge_method="S256",
                            token_endpoint_auth_method=auth_method)
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = session.create_authorization_url(meta["authorization_endpoint"],
                                                  code_verifier=verifier, nonce=nonce)
    assert query_of(url)["code_challenge_method"] == "S256" and query_of(url)["state"] == state
    callback = consent(live, party.holder, url)
    assert query_of(callback)["iss"] == live.url  # RFC 9207
    assert query_of(callback)["state"] == state  # fetch_token checks it too
    token = session.fetch_token(meta["token_endpoint"], authorization_response=callback,
                                code_verifier=verifier)
    assert token["token_type"] == "Bearer"

    keys = KeySet.import_key_set(http.get(meta["jwks_uri"], timeout=TIMEOUT).json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=meta[
        "id_token_signing_alg_values_supported"])
    assert id_token.header["alg"] == "RS256" and id_token.header["kid"]
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": live.url}, aud={"essential": True, "value": COOP},
        sub={"essential": True, "value": party.card_id},
        nonce={"essential": True, "value": nonce}, exp={"essential": True},
        iat={"essential": True}).validate(id_token.claims)
    claims = id_token.claims
    check_claims(claims, live, party)
    assert claims["at_hash"] == at_hash(token["access_token"])

    userinfo = session.get(meta["userinfo_endpoint"], timeout=TIMEOUT)
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json() == {k: v for k, v in claims.items() if k in USERINFO_CLAIMS}

    introspected = session.introspect_token(meta["introspection_endpoint"],
                                            token=token["access_token"])
    assert introspected.status_code == 200 and introspected.json()["active"] is True
    revoked = session.revoke_token(meta["revocation_endpoint"], token=token["access_token"],
                                   token_type_hint="access_token")
    assert revoked.status_code == 200, revoked.text
    introspected = session.introspect_token(meta["introspection_endpoint"],
                                            token=token["access_token"])
    assert introspected.json() == {"active": False}
    assert session.get(meta["userinfo_endpoint"], timeout=TIMEOUT).status_code == 401
    assert urlsplit(meta["end_session_endpoint"]).path == "/oauth/logout"
