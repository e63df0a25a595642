"""The demo cooperative site (examples/coop_site) against a pytest-httpserver stub of idp: the
redirect and iframe methods, state checks, decryption with jwcrypto, and the error pages."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import ECKey
from pytest_httpserver import HTTPServer

from cardcoop.coop import SharedData, pkce_challenge
from cardcoop.protocol.encoding import b64u_decode
from cardcoop.protocol.errors import DecryptionFailed
from cardcoop.protocol.k1 import K1PrivateKey
from cardcoop.protocol.share import encrypt_share
from examples.coop_site import JOIN_SCOPE, SHARE_SCOPE, SIGN_IN_SCOPE, create_app, load_config
from examples.coop_site.jose import decrypt_share_jwcrypto

VECTORS_PATH = Path(__file__).resolve().parents[2] / "protocol" / "vectors-v1.json"
SITE = Path(__file__).resolve().parents[2] / "examples" / "coop_site"
SECRET = "coop-secret-" + "s" * 40
REDIRECT_URI = "http://127.0.0.1:8003/callback"
TICKET = "ticket-" + "t" * 40
ACCESS = "access-" + "a" * 40
USERNAME = "membermember"
DATA = {"last_name": "Иванова", "first_name": "Мария", "email": "maria@example.com",
        "passport": {"series": "4510", "number": "345678"}}


class Page(HTMLParser):
    """Just enough of the DOM: text by id, the shared-data rows, <script> tags."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.by_id: dict[str, str] = {}
        self.attrs_by_id: dict[str, dict[str, str]] = {}
        self.rows: dict[str, str] = {}
        self.scripts: list[dict[str, str]] = []
        self._open: list[tuple[str | None, str]] = []  # (id, tag) of open elements
        self._texts: dict[str, list[str]] = {}
        self._row: str | None = None
        self._in_value = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script":
            self.scripts.append(a)
        if tag == "tr" and "data-field" in a:
            self._row, self.rows[a["data-field"]] = a["data-field"], ""
        if tag == "td" and "value" in a.get("class", "").split() and self._row:
            self._in_value = True
        if "id" in a:
            self.attrs_by_id[a["id"]] = a
            self._texts[a["id"]] = []
        if tag not in ("input", "meta", "link", "br"):
            self._open.append((a.get("id"), tag))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            element_id, open_tag = self._open.pop()
            if element_id is not None:
                self.by_id[element_id] = "".join(self._texts[element_id]).strip()
            if open_tag == tag:
                break
        if tag == "td":
            self._in_value = False
        if tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        for element_id, _ in self._open:
            if element_id is not None:
                self._texts[element_id].append(data)
        if self._in_value and self._row:
            self.rows[self._row] += data


def page(response: Any) -> Page:
    return Page(response.get_data(as_text=True))


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def coop_key() -> K1PrivateKey:
    return K1PrivateKey.generate()


@pytest.fixture
def member_key() -> K1PrivateKey:
    return K1PrivateKey.generate()


@pytest.fixture
def signing_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "sig1", "alg": "ES256", "use": "sig"},
                              private=True)


@pytest.fixture
def config(httpserver: HTTPServer, coop_key: K1PrivateKey) -> dict[str, Any]:
    return {"idp_url": httpserver.url_for("/").rstrip("/"), "client_id": "voskhod",
            "client_secret": SECRET, "redirect_uri": REDIRECT_URI,
            "private_key": coop_key.to_string(), "site_url": "http://127.0.0.1:8003"}


@pytest.fixture
def app(config: dict[str, Any]) -> Flask:
    app = create_app(config)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


def start(client: FlaskClient, scope: str = SHARE_SCOPE) -> dict[str, str]:
    """GET /start; the authorization request's parameters, plus the verifier and nonce kept in
    the session."""
    response = client.get("/start", query_string={"method": "redirect", "scope": scope})
    assert response.status_code == 302
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.location).query).items()}
    with client.session_transaction() as sess:
        flow = sess["flows"][query["state"]]
    return query | {"verifier": flow["v"], "session_nonce": flow.get("n", "")}


def share_jwe(coop_key: K1PrivateKey, member_key: K1PrivateKey, **overrides: Any) -> str:
    plain = {"v": 1, "coopname": "voskhod", "username": USERNAME,
             "public_key": member_key.public_key.to_string(), "schema": "card.coop/schema/v1",
             "data": DATA, "issued_at": "2026-01-01T00:00:00Z"} | overrides
    return encrypt_share(coop_key.public_key, json.dumps(plain, ensure_ascii=False).encode())


def stub_idp(httpserver: HTTPServer, *, jwe: str, member_key: K1PrivateKey, signing_key: ECKey,
             scope: str, nonce: str | None, verifier: str,
             redirect_uri: str | None = REDIRECT_URI) -> None:
    issuer = httpserver.url_for("/").rstrip("/")
    now = int(time.time())
    claims = {"iss": issuer, "aud": "voskhod", "sub": "card-42", "iat": now, "exp": now + 300,
              "email": "maria@example.com", "card_number": "0000 0042",
              "memberships": [{"coop": "ПК ВОСХОД", "coopname": "voskhod", "status": "active",
                               "member_since": "2026-01-01"}]}
    if nonce:
        claims["nonce"] = nonce
    id_token = jwt.encode({"alg": "ES256", "kid": "sig1"}, claims, signing_key,
                          algorithms=["ES256"])
    body = {"ticket": TICKET, "code_verifier": verifier, "client_id": "voskhod",
            "client_secret": SECRET}
    if redirect_uri:
        body["redirect_uri"] = redirect_uri
    httpserver.expect_request("/access/exchange-ticket", method="POST", json=body
                              ).respond_with_json(
        {"access_token": ACCESS, "token_type": "Bearer", "expires_in": 600, "scope": scope,
         "username": USERNAME, "coopname": "voskhod", "id_token": id_token})
    httpserver.expect_request("/.well-known/jwks.json").respond_with_json(
        {"keys": [signing_key.as_dict(private=False)]})
    httpserver.expect_request(f"/access/get-encrypted-data/{USERNAME}/voskhod", method="GET",
                              headers={"Authorization": f"Bearer {ACCESS}"}).respond_with_json(
        {"encrypted_data": jwe, "coopname": "voskhod", "username": USERNAME,
         "public_key": member_key.public_key.to_string(),
         "meta": {"kid": "x", "schema": "card.coop/schema/v1", "shared_fields": list(DATA),
                  "scope": scope.split(), "granted_at": "2026-01-01T00:00:00Z"}})


# -- jwcrypto reads the protocol's shares -----------------------------------------------------


@pytest.mark.parametrize("index", [0, 1])
def test_jwcrypto_decrypts_every_share_vector(index: int) -> None:
    vector = json.loads(VECTORS_PATH.read_text("utf-8"))["share"][index]
    plain = json.loads(b64u_decode(vector["plaintext_b64u"]))
    shared = SharedData(encrypted_data=vector["jwe"], coopname=plain["coopname"],
                        username=plain["username"], public_key=plain["public_key"])
    share = decrypt_share_jwcrypto(shared, vector["recipient_private_jwk"])
    assert share.data == plain["data"] and share.kid == vector["protected_header"]["kid"]


def test_jwcrypto_refuses_a_wrong_key(coop_key: K1PrivateKey, member_key: K1PrivateKey) -> None:
    shared = SharedData(encrypted_data=share_jwe(coop_key, member_key), coopname="voskhod",
                        username=USERNAME, public_key=member_key.public_key.to_string())
    assert decrypt_share_jwcrypto(shared, coop_key.to_jwk()).data == DATA
    with pytest.raises(DecryptionFailed):
        decrypt_share_jwcrypto(shared, K1PrivateKey.generate().to_jwk())
    with pytest.raises(DecryptionFailed):
        decrypt_share_jwcrypto(SharedData(encrypted_data="a.b.c.d.e", coopname="voskhod",
                                          username=USERNAME, public_key="k"), coop_key.to_jwk())


# -- pages -------------------------------------------------------------------------------------


def test_index_offers_both_methods_and_both_purposes(client: FlaskClient,
                                                     coop_key: K1PrivateKey) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "ПК ВОСХОД" in html and "Войти через карту пайщика" in html
    assert "Вступить в кооператив" in html and "Поделиться данными" in html
    doc = page(response)
    links = {i: parse_qs(urlsplit(a["href"]).query) for i, a in doc.attrs_by_id.items()
             if "href" in a}
    assert links["redirect-join"] == {"method": ["redirect"], "scope": [JOIN_SCOPE]}
    assert links["redirect-share"]["scope"] == [SHARE_SCOPE]
    assert links["redirect-login"] == {"method": ["redirect"], "scope": [SIGN_IN_SCOPE]}
    assert links["iframe-join"] == {"scope": [JOIN_SCOPE]}
    assert doc.by_id["coop-key"] == coop_key.public_key.to_string()
    assert not doc.scripts  # no script at all on the index page


def test_security_headers(client: FlaskClient, config: dict[str, Any]) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert f"script-src 'self' {config['idp_url']};" in csp
    assert f"frame-src {config['idp_url']};" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_start_redirects_with_pkce_and_state(client: FlaskClient, config: dict[str, Any]) -> None:
    response = client.get("/start", query_string={"method": "redirect", "scope": JOIN_SCOPE})
    assert response.status_code == 302
    parts = urlsplit(response.location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == config["idp_url"] + "/oauth/authorize"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == "voskhod"
    assert query["redirect_uri"] == REDIRECT_URI and query["scope"] == JOIN_SCOPE
    assert query["code_challenge_method"] == "S256" and len(query["state"]) >= 43
    with client.session_transaction() as sess:
        flow = sess["flows"][query["state"]]
    assert query["code_challenge"] == pkce_challenge(flow["v"])
    assert query["nonce"] == flow["n"]
    assert flow["v"] not in response.location and SECRET not in response.location
    # A second flow (another tab) gets its own state and verifier; the first one stays.
    second = start(client)
    assert second["state"] != query["state"] and second["verifier"] != flow["v"]
    with client.session_transaction() as sess:
        assert set(sess["flows"]) == {query["state"], second["state"]}


def test_start_refuses_unknown_scopes(client: FlaskClient) -> None:
    response = client.get("/start", query_string={"scope": "openid admin"})
    assert response.status_code == 400 and page(response).by_id["error-code"] == "invalid_scope"
    iframe = client.get("/start", query_string={"method": "iframe", "scope": JOIN_SCOPE})
    assert iframe.status_code == 302 and iframe.location.startswith("/iframe?")


def test_callback_with_a_wrong_state_is_400(client: FlaskClient, httpserver: HTTPServer) -> None:
    start(client)
    for query in ({"code": TICKET, "state": "forged"}, {"code": TICKET}):
        response = client.get("/callback", query_string=query)
        assert response.status_code == 400
        assert page(response).by_id["error-code"] == "state_mismatch"
    assert not httpserver.log  # nothing was exchanged


def test_callback_state_works_once(client: FlaskClient, httpserver: HTTPServer) -> None:
    flow = start(client)
    httpserver.expect_request("/access/exchange-ticket").respond_with_json(
        {"error": "invalid_grant", "error_description": "used"}, status=400)
    first = client.get("/callback", query_string={"code": TICKET, "state": flow["state"]})
    assert first.status_code == 502 and page(first).by_id["error-code"] == "invalid_grant"
    again = client.get("/callback", query_string={"code": TICKET, "state": flow["state"]})
    assert again.status_code == 400 and page(again).by_id["error-code"] == "state_mismatch"


def test_happy_path_decrypts_and_renders_the_fields(
        client: FlaskClient, httpserver: HTTPServer, coop_key: K1PrivateKey,
        member_key: K1PrivateKey, signing_key: ECKey, caplog: pytest.LogCaptureFixture) -> None:
    flow = start(client)
    stub_idp(httpserver, jwe=share_jwe(coop_key, member_key), member_key=member_key,
             signing_key=signing_key, scope=SHARE_SCOPE, nonce=flow["session_nonce"],
             verifier=flow["verifier"])
    with caplog.at_level(logging.DEBUG):
        response = client.get("/callback", query_string={
            "code": TICKET, "state": flow["state"], "iss": httpserver.url_for("/").rstrip("/")})
    assert response.status_code == 200, response.get_data(as_text=True)
    doc = page(response)
    assert doc.by_id["member-username"] == USERNAME
    assert doc.by_id["member-public-key"] == member_key.public_key.to_string()
    assert doc.rows == {"last_name": "Иванова", "first_name": "Мария",
                        "email": "maria@example.com",
                        "passport": '{"series": "4510", "number": "345678"}'}
    assert "shared-data" in doc.attrs_by_id
    claims = doc.by_id["id-claims"]
    assert "card-42" in claims and "0000 0042" in claims and "voskhod" in claims
    assert response.headers["Cache-Control"] == "no-store"
    assert [r.path for r, _ in httpserver.log] == [
        "/access/exchange-ticket", "/.well-known/jwks.json",
        f"/access/get-encrypted-data/{USERNAME}/voskhod"]
    for secret in (TICKET, ACCESS, SECRET, "Иванова", "345678", flow["verifier"]):
        assert secret not in caplog.text


def test_join_without_card_fields(client: FlaskClient, httpserver: HTTPServer,
                                  coop_key: K1PrivateKey, member_key: K1PrivateKey,
                                  signing_key: ECKey) -> None:
    flow = start(client, JOIN_SCOPE)
    stub_idp(httpserver, jwe=share_jwe(coop_key, member_key, data={}), member_key=member_key,
             signing_key=signing_key, scope=JOIN_SCOPE, nonce=flow["session_nonce"],
             verifier=flow["verifier"])
    response = client.get("/callback", query_string={"code": TICKET, "state": flow["state"]})
    assert response.status_code == 200
    doc = page(response)
    assert doc.by_id["member-username"] == USERNAME and doc.rows == {}
    assert "no-fields" in doc.by_id


def test_oidc_only_grant_fetches_no_data(client: FlaskClient, httpserver: HTTPServer,
                                         signing_key: ECKey, member_key: K1PrivateKey) -> None:
    flow = start(client, "openid email")
    stub_idp(httpserver, jwe="unused", member_key=member_key, signing_key=signing_key,
             scope="openid email", nonce=flow["session_nonce"], verifier=flow["verifier"])
    response = client.get("/callback", query_string={"code": TICKET, "state": flow["state"]})
    assert response.status_code == 200
    assert "no-share" in page(response).by_id and "card-42" in page(response).by_id["id-claims"]
    assert "/access/get-encrypted-data" not in " ".join(r.path for r, _ in httpserver.log)


@pytest.mark.parametrize(("overrides", "code"), [
    ({"username": "someoneelse1"}, "share_mismatch"),
    ({"coopname": "othercoop"}, "share_mismatch"),
    ({"wrong_key": True}, "decryption_failed"),
])
def test_a_bad_share_renders_an_error(client: FlaskClient, httpserver: HTTPServer,
                                      coop_key: K1PrivateKey, member_key: K1PrivateKey,
                                      signing_key: ECKey, overrides: dict[str, Any],
                                      code: str) -> None:
    flow = start(client)
    target = K1PrivateKey.generate() if overrides.pop("wrong_key", False) else coop_key
    stub_idp(httpserver, jwe=share_jwe(target, member_key, **overrides), member_key=member_key,
             signing_key=signing_key, scope=SHARE_SCOPE, nonce=flow["session_nonce"],
             verifier=flow["verifier"])
    response = client.get("/callback", query_string={"code": TICKET, "state": flow["state"]})
    assert response.status_code == 502 and page(response).by_id["error-code"] == code
    assert "Иванова" not in response.get_data(as_text=True)


def test_an_id_token_with_another_nonce_is_refused(client: FlaskClient, httpserver: HTTPServer,
                                                   coop_key: K1PrivateKey,
                                                   member_key: K1PrivateKey,
                                                   signing_key: ECKey) -> None:
    flow = start(client)
    stub_idp(httpserver, jwe=share_jwe(coop_key, member_key), member_key=member_key,
             signing_key=signing_key, scope=SHARE_SCOPE, nonce="replayed",
             verifier=flow["verifier"])
    response = client.get("/callback", query_string={"code": TICKET, "state": flow["state"]})
    assert page(response).by_id["error-code"] == "invalid_id_token"


@pytest.mark.parametrize("error", ["access_denied", "invalid_scope", "<script>"])
def test_idp_error_renders_a_friendly_page(client: FlaskClient, httpserver: HTTPServer,
                                           error: str) -> None:
    flow = start(client)
    response = client.get("/callback", query_string={"error": error, "state": flow["state"]})
    assert response.status_code == 400
    doc = page(response)
    assert doc.by_id["error-code"] == (error if error != "<script>" else "invalid_response")
    assert doc.by_id["error-text"] and "<script>" not in response.get_data(as_text=True)
    assert not httpserver.log


@pytest.mark.parametrize(("reason", "code"), [
    ("not_a_member", "not_a_member"), ("refused", "access_denied"), (None, "access_denied")])
def test_refusal_and_not_a_member_are_told_apart(client: FlaskClient, reason: str | None,
                                                  code: str) -> None:
    flow = start(client)
    query = {"error": "access_denied", "state": flow["state"]}
    if reason:
        query["cardcoop_reason"] = reason
    doc = page(client.get("/callback", query_string=query))
    assert doc.by_id["error-code"] == code
    # Not a member yet: the way on is joining (scope `account`).
    assert ("join-link" in doc.by_id) == (code == "not_a_member")


def test_iframe_not_a_member_and_a_refused_frame(client: FlaskClient) -> None:
    _, box = iframe_state(client)
    response = client.post("/iframe/complete", data={
        "error": "access_denied", "cardcoop_reason": "not_a_member", "ticket": "",
        "state": box["data-state"]})
    assert page(response).by_id["error-code"] == "not_a_member"
    _, box = iframe_state(client)
    response = client.post("/iframe/complete", data={"error": "frame_refused",
                                                     "state": box["data-state"]})
    assert page(response).by_id["error-code"] == "frame_refused"


def test_an_answer_from_another_issuer_is_refused(client: FlaskClient) -> None:
    flow = start(client)
    response = client.get("/callback", query_string={"code": TICKET, "state": flow["state"],
                                                     "iss": "http://evil.test"})
    assert page(response).by_id["error-code"] == "issuer_mismatch"


def test_idp_unreachable(coop_key: K1PrivateKey) -> None:
    app = create_app({"idp_url": "http://127.0.0.1:9", "client_id": "voskhod",
                      "client_secret": SECRET, "redirect_uri": REDIRECT_URI,
                      "private_key": coop_key.to_wif(), "timeout": 2})
    with app.test_client() as client:
        flow = start(client)
        response = client.get("/callback", query_string={"code": TICKET, "state": flow["state"]})
    assert response.status_code == 502
    assert page(response).by_id["error-code"] == "idp_unavailable"


# -- the iframe method ------------------------------------------------------------------------


def iframe_state(client: FlaskClient, scope: str = SHARE_SCOPE) -> tuple[Page, dict[str, str]]:
    response = client.get("/iframe", query_string={"scope": scope})
    assert response.status_code == 200
    doc = page(response)
    box = doc.attrs_by_id["cardcoop-frame"]
    with client.session_transaction() as sess:
        flow = sess["flows"][box["data-state"]]
    return doc, box | {"verifier": flow["v"], "session_nonce": flow.get("n", "")}


def test_iframe_page_loads_the_widget_without_inline_script(client: FlaskClient,
                                                            config: dict[str, Any]) -> None:
    doc, box = iframe_state(client)
    assert [s.get("src") for s in doc.scripts] == [config["idp_url"] + "/widget.js",
                                                   "/static/iframe.js"]
    assert box["data-client-id"] == "voskhod" and box["data-scope"] == SHARE_SCOPE
    assert box["data-code-challenge"] == pkce_challenge(box["verifier"])
    assert box["data-nonce"] == box["session_nonce"]
    form = doc.attrs_by_id["cardcoop-complete"]
    assert form["action"] == "/iframe/complete" and form["method"] == "post"
    script = (SITE / "static" / "iframe.js").read_text("utf-8")
    assert "window.CardCoop.open(" in script and "container: '#cardcoop-frame'" in script
    assert "onTicket" in script and "onError" in script


def test_iframe_complete_exchanges_without_redirect_uri(
        client: FlaskClient, httpserver: HTTPServer, coop_key: K1PrivateKey,
        member_key: K1PrivateKey, signing_key: ECKey) -> None:
    _, box = iframe_state(client)
    stub_idp(httpserver, jwe=share_jwe(coop_key, member_key), member_key=member_key,
             signing_key=signing_key, scope=SHARE_SCOPE, nonce=box["session_nonce"],
             verifier=box["verifier"], redirect_uri=None)
    response = client.post("/iframe/complete", data={"ticket": TICKET,
                                                     "state": box["data-state"]})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert page(response).rows["email"] == "maria@example.com"


def test_iframe_complete_checks_the_state(client: FlaskClient, httpserver: HTTPServer) -> None:
    iframe_state(client)
    redirect_flow = start(client)
    for state in ("forged", redirect_flow["state"]):  # a redirect flow's state does not do
        response = client.post("/iframe/complete", data={"ticket": TICKET, "state": state})
        assert response.status_code == 400
        assert page(response).by_id["error-code"] == "state_mismatch"
    assert not httpserver.log


def test_iframe_error_renders_a_friendly_page(client: FlaskClient) -> None:
    _, box = iframe_state(client)
    response = client.post("/iframe/complete", data={"error": "access_denied",
                                                     "state": box["data-state"]})
    assert response.status_code == 400
    assert page(response).by_id["error-code"] == "access_denied"


# -- configuration ----------------------------------------------------------------------------


def test_config_from_the_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  config: dict[str, Any]) -> None:
    path = tmp_path / "coop_site.json"
    path.write_text(json.dumps(config), "utf-8")
    monkeypatch.setenv("COOP_SITE_CONFIG", str(path))
    assert load_config() == config
    assert create_app().test_client().get("/").status_code == 200


def test_config_problems_are_clear_and_keep_the_key_secret(tmp_path: Path,
                                                           config: dict[str, Any]) -> None:
    with pytest.raises(RuntimeError, match="not found"):
        load_config(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{", "utf-8")
    with pytest.raises(RuntimeError, match="JSON"):
        load_config(tmp_path / "bad.json")
    with pytest.raises(RuntimeError, match="client_secret"):
        create_app(config | {"client_secret": ""})
    bad_key = "PVT_K1_" + "x" * 40
    with pytest.raises(RuntimeError) as caught:
        create_app(config | {"private_key": bad_key})
    assert bad_key not in str(caught.value)
    jwk = K1PrivateKey.generate().to_jwk()
    assert create_app(config | {"private_key": jwk}).test_client().get("/").status_code == 200


def test_reread_uses_the_kept_token_until_it_is_revoked(
        client: FlaskClient, httpserver: HTTPServer, coop_key: K1PrivateKey,
        member_key: K1PrivateKey, signing_key: ECKey) -> None:
    assert client.post("/reread").status_code == 400  # nothing read yet in this browser
    flow = start(client)
    stub_idp(httpserver, jwe=share_jwe(coop_key, member_key), member_key=member_key,
             signing_key=signing_key, scope=SHARE_SCOPE, nonce=flow["session_nonce"],
             verifier=flow["verifier"])
    response = client.get("/callback", query_string={
        "code": TICKET, "state": flow["state"], "iss": httpserver.url_for("/").rstrip("/")})
    assert response.status_code == 200
    assert ACCESS not in response.get_data(as_text=True)  # the token never reaches the page
    again = client.post("/reread")
    assert again.status_code == 200 and page(again).rows["last_name"] == "Иванова"
    httpserver.clear()
    httpserver.expect_request(f"/access/get-encrypted-data/{USERNAME}/voskhod").respond_with_json(
        {"error": "invalid_token", "error_description": "revoked"}, status=401)
    revoked = client.post("/reread")
    assert revoked.status_code == 403 and page(revoked).by_id["error-code"] == "invalid_token"
