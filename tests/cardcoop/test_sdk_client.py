"""The SDK's API client (cardcoop.client) against a real idp over HTTP, and against stub servers
for the answers a real idp never gives (malformed bodies, weak KDF parameters)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import Any, cast

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from pytest_httpserver import HTTPServer

import cardcoop.client
from cardcoop import (
    ApiError,
    Attempt,
    BadRequest,
    IdpClient,
    InvalidCredentials,
    NotFound,
    PrivacyPolicy,
    RateLimited,
    ResponseError,
    ServerError,
    Session,
    SessionInfo,
    Tokens,
    Unauthorized,
    UnsafeKdf,
)
from cardcoop.crypto import KdfParams, b64u_encode, derive_keys, normalize_password
from idp import privacy
from tests.cardcoop.conftest import PASSWORD, LiveIdp, database_values, occurs
from tests.conftest import random_email
from tests.idp.conftest import last_code

SALT = "AAECAwQFBgcICQoLDA0ODw"


# -- what reached the database ------------------------------------------------------------------





# -- the flows against the real idp -------------------------------------------------------------


def test_register_then_login_with_the_password(idp: LiveIdp, sdk: IdpClient) -> None:
    email = random_email()
    registered = sdk.register(email, PASSWORD, idp.code_provider)
    assert isinstance(registered, Session)
    assert registered.email == email
    assert registered.tokens.token_type == "Bearer" and registered.tokens.expires_in > 0

    session = sdk.login(email, PASSWORD)
    assert session.access_token != registered.access_token
    # Same password, same account: the same enc_key (it unwraps the same card key later).
    assert session.enc_key == registered.enc_key and len(session.enc_key) == 32
    assert session.kdf == KdfParams(iterations=100_000)

    listed = session.sessions()
    assert len(listed) == 2 and all(isinstance(s, SessionInfo) for s in listed)
    assert [s.current for s in listed].count(True) == 1
    for info in listed:
        assert isinstance(info.id, uuid.UUID)
        assert info.created_at.tzinfo is not None and info.last_used_at >= info.created_at
        assert info.ip == "127.0.0.1" and info.user_agent.startswith("python-httpx")


def test_the_sdk_sends_hash_key_and_never_the_password(idp: LiveIdp, sdk: IdpClient) -> None:
    email = random_email()
    asked: list[str] = []

    def provider(address: str) -> str:
        asked.append(address)
        return idp.code_provider(address)

    session = sdk.register(f"  {email.upper()} ", PASSWORD, provider)
    sdk.login(email.title(), PASSWORD)

    # Emails are normalized before they are sent (and before they salt the KDF).
    assert asked == [email]
    assert {body["email"] for x in idp.log for body in [json.loads(x.request or b"{}")]
            if "email" in body} == {email}

    # The hashKey on the wire is derive_keys() of the password with the server's salt and KDF.
    for initiate, complete in [("/auth/initiate-registration", "/auth/complete-registration"),
                               ("/auth/initiate-login", "/auth/complete-login")]:
        [answer] = idp.answers(initiate)
        [sent] = idp.sent(complete)
        keys = derive_keys(PASSWORD, email, answer["serverSalt"], answer["kdf"])
        assert sent["hashKey"] == keys.hash_key_b64u
        assert sent["uuid"] == answer["uuid"]
        assert keys.enc_key == session.enc_key

    # Neither the password nor enc_key is in any request.
    wire = [x.url.encode() + x.request + json.dumps(x.headers).encode() for x in idp.log]
    for secret in (PASSWORD, normalize_password(PASSWORD)):
        assert not any(secret.encode() in w or json.dumps(secret).encode() in w for w in wire)
    assert not any(b64u_encode(session.enc_key).encode() in w for w in wire)

    # ...nor in the database, where hashKey is only an Argon2id verifier.
    values = database_values(idp.app)
    assert occurs(email, values)  # the dump does see the member
    keys = derive_keys(PASSWORD, email, idp.answers("/auth/initiate-login")[0]["serverSalt"],
                       KdfParams(iterations=100_000))
    for secret in (PASSWORD, normalize_password(PASSWORD), keys.hash_key_b64u,
                   keys.hash_key.hex(), b64u_encode(keys.enc_key), keys.enc_key.hex(),
                   b64u_encode(keys.master_key), keys.master_key.hex()):
        assert not occurs(secret, values), "a secret reached the database"
    for raw in (keys.hash_key, keys.enc_key, keys.master_key):
        assert not occurs(raw, values)


def test_wrong_password_and_unknown_email(idp: LiveIdp, sdk: IdpClient,
                                          registered: Session) -> None:
    with pytest.raises(InvalidCredentials) as wrong:
        sdk.login(registered.email, PASSWORD + "!")
    assert isinstance(wrong.value, Unauthorized)
    assert wrong.value.status == 401 and wrong.value.error == "invalid_credentials"
    assert wrong.value.message
    with pytest.raises(InvalidCredentials):
        sdk.login(random_email("nobody"), PASSWORD)
    [sent, _] = idp.sent("/auth/complete-login")
    assert sent["hashKey"] not in str(wrong.value) + repr(wrong.value)


def test_refresh_rotates_the_session_tokens(sdk: IdpClient, registered: Session) -> None:
    before = registered.tokens
    after = registered.refresh()
    assert registered.tokens is after
    assert after.refresh_token != before.refresh_token
    assert after.access_token != before.access_token
    assert len(registered.sessions()) == 1
    # The rotated refresh token is spent; presenting it again closes the whole session.
    with pytest.raises(Unauthorized) as reused:
        sdk.refresh(before.refresh_token)
    assert reused.value.error == "token_reused"
    assert before.refresh_token not in str(reused.value)
    with pytest.raises(Unauthorized):
        registered.sessions()


def test_logout_ends_the_session(sdk: IdpClient, registered: Session) -> None:
    registered.logout()
    with pytest.raises(Unauthorized) as error:
        registered.sessions()
    assert error.value.status == 401
    with pytest.raises(Unauthorized):
        sdk.refresh(registered.refresh_token)


def test_revoke_another_session(sdk: IdpClient, registered: Session) -> None:
    laptop = sdk.login(registered.email, PASSWORD)
    phone = sdk.login(registered.email, PASSWORD)
    [phone_id] = [s.id for s in phone.sessions() if s.current]

    laptop.revoke_session(phone_id)
    with pytest.raises(Unauthorized):
        phone.sessions()
    remaining = {s.id for s in laptop.sessions()}
    assert phone_id not in remaining and len(remaining) == 2

    with pytest.raises(NotFound) as missing:
        sdk.revoke_session(laptop.access_token, uuid.uuid4())
    assert missing.value.status == 404
    with pytest.raises(NotFound):
        sdk.revoke_session(laptop.access_token, str(phone_id))  # already revoked
    with pytest.raises(ValueError):
        sdk.revoke_session(laptop.access_token, "../logout")


def test_access_tokens_verify_with_the_published_jwks(sdk: IdpClient,
                                                      registered: Session) -> None:
    jwks = sdk.jwks()
    assert jwks["keys"] and all("kid" in key for key in jwks["keys"])
    token = jwt.decode(registered.access_token, KeySet.import_key_set(cast(Any, jwks)),
                       algorithms=["ES256"])
    assert token.header["typ"] == "at+jwt"


def test_privacy_policy(sdk: IdpClient) -> None:
    policy = sdk.privacy_policy()
    assert policy == PrivacyPolicy(version=privacy.VERSION, effective_date=privacy.EFFECTIVE,
                                   text_ru=privacy.TEXT_RU, text_en=privacy.TEXT_EN)
    assert isinstance(policy.effective_date, date)


def test_registration_steps_and_their_errors(idp: LiveIdp, sdk: IdpClient) -> None:
    email = random_email()
    with pytest.raises(BadRequest) as refused:
        sdk.register(email, PASSWORD, idp.code_provider, privacy_accepted=False)
    assert refused.value.error == "privacy_not_accepted"

    attempt = sdk.initiate_registration(email, privacy_accepted=True)
    assert isinstance(attempt, Attempt) and attempt.kdf.iterations == 100_000
    # A resend right away is too soon: a 429 with Retry-After from the real server.
    with pytest.raises(RateLimited) as too_soon:
        sdk.resend_code(email, attempt.uuid)
    assert too_soon.value.error == "resend_too_soon"
    assert too_soon.value.retry_after is not None and 0 < too_soon.value.retry_after <= 60

    with pytest.raises(BadRequest) as wrong_code:
        sdk.verify_email(email, "000000" if last_code(idp.app, email) != "000000" else "111111",
                         attempt.uuid)
    assert wrong_code.value.error == "invalid_code"
    assert sdk.verify_email(email, last_code(idp.app, email), str(attempt.uuid)) is True
    keys = derive_keys(PASSWORD, email, attempt.server_salt, attempt.kdf)
    tokens = sdk.complete_registration(email, keys.hash_key_b64u, attempt.uuid)
    assert isinstance(tokens, Tokens)
    assert len(sdk.sessions(tokens.access_token)) == 1


def test_reprs_hide_the_secrets(sdk: IdpClient, registered: Session) -> None:
    for text in (repr(registered), str(registered), repr(registered.tokens)):
        assert registered.access_token not in text
        assert registered.refresh_token not in text
        assert registered.enc_key.hex() not in text and repr(registered.enc_key) not in text
    assert registered.email in repr(registered)


# -- stub servers: answers a real idp never gives -----------------------------------------------


def attempt_body(**kdf: object) -> dict[str, Any]:
    return {"uuid": str(uuid.uuid4()), "serverSalt": SALT,
            "kdf": {"type": "pbkdf2-sha256", "iterations": 100_000} | kdf}


TOKENS = {"accessToken": "a" * 40, "refreshToken": "r" * 43, "expiresIn": 900,
          "tokenType": "Bearer"}


@pytest.fixture
def stub(httpserver: HTTPServer) -> Iterator[IdpClient]:
    with IdpClient(httpserver.url_for("/")) as client:
        yield client


@pytest.fixture
def no_derivation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("derive_keys must not run")

    monkeypatch.setattr(cardcoop.client, "derive_keys", refuse)


@pytest.mark.parametrize(("kdf", "error"), [
    ({"iterations": 1000}, UnsafeKdf),
    ({"iterations": 99_999}, UnsafeKdf),
    ({"iterations": 10**12}, UnsafeKdf),  # nor may a server stall the client
    ({"type": "md5"}, UnsafeKdf),
    ({"iterations": "600000"}, ResponseError),
    ({"iterations": True}, ResponseError),
])
def test_weak_or_malformed_kdf_is_refused_before_any_derivation(
        httpserver: HTTPServer, stub: IdpClient, no_derivation: None,
        kdf: dict[str, object], error: type[ResponseError]) -> None:
    httpserver.expect_request("/auth/initiate-login", method="POST").respond_with_json(
        attempt_body(**kdf))
    with pytest.raises(error) as refused:
        stub.login("member@example.com", PASSWORD)
    assert refused.value.status == 200
    # Nothing was derived, and no hashKey was sent.
    assert [r.path for r, _ in httpserver.log] == ["/auth/initiate-login"]
    if error is UnsafeKdf:
        assert refused.value.error == "unsafe_kdf"


def test_weak_kdf_is_refused_at_registration_too(httpserver: HTTPServer, stub: IdpClient,
                                                 no_derivation: None) -> None:
    httpserver.expect_request("/auth/initiate-registration").respond_with_json(
        attempt_body(iterations=1000))
    with pytest.raises(UnsafeKdf):
        stub.register("member@example.com", PASSWORD, lambda _: pytest.fail("code asked"))
    assert len(httpserver.log) == 1


def test_a_stricter_kdf_ceiling(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/auth/initiate-login").respond_with_json(
        attempt_body(iterations=600_000))
    with IdpClient(httpserver.url_for("/"), max_kdf_iterations=500_000) as client, \
            pytest.raises(UnsafeKdf):
        client.initiate_login("member@example.com")


@pytest.mark.parametrize("body", [
    "<html>502 Bad Gateway</html>",
    "[]",
    json.dumps({k: v for k, v in TOKENS.items() if k != "accessToken"}),
    json.dumps(TOKENS | {"accessToken": 42}),
    json.dumps(TOKENS | {"accessToken": ""}),
    json.dumps(TOKENS | {"expiresIn": "900"}),
    json.dumps(TOKENS | {"expiresIn": True}),
    json.dumps(TOKENS | {"tokenType": "MAC"}),
])
def test_malformed_tokens_raise_response_error(httpserver: HTTPServer, stub: IdpClient,
                                               body: str) -> None:
    httpserver.expect_request("/auth/refresh-token").respond_with_data(
        body, content_type="application/json")
    with pytest.raises(ResponseError) as malformed:
        stub.refresh("r" * 43)
    assert malformed.value.status == 200 and malformed.value.error == "invalid_response"
    assert "a" * 40 not in str(malformed.value) and "r" * 43 not in str(malformed.value)


@pytest.mark.parametrize(("path", "body", "call"), [
    ("/auth/initiate-login", attempt_body() | {"serverSalt": "short"},
     lambda c: c.initiate_login("m@example.com")),
    ("/auth/initiate-login", attempt_body() | {"serverSalt": SALT + "AAAA"},
     lambda c: c.initiate_login("m@example.com")),
    ("/auth/initiate-login", attempt_body() | {"uuid": "not-a-uuid"},
     lambda c: c.initiate_login("m@example.com")),
    ("/auth/initiate-login", {"uuid": str(uuid.uuid4()), "serverSalt": SALT},
     lambda c: c.initiate_login("m@example.com")),
    ("/auth/initiate-login", attempt_body() | {"kdf": [100_000]},
     lambda c: c.initiate_login("m@example.com")),
    ("/auth/sessions", {"sessions": {}}, lambda c: c.sessions("a" * 40)),
    ("/auth/sessions", {"sessions": [{"id": str(uuid.uuid4()), "user_agent": "x", "ip": "x",
                                      "created_at": "yesterday",
                                      "last_used_at": "2026-01-01T00:00:00Z",
                                      "current": True}]},
     lambda c: c.sessions("a" * 40)),
    ("/auth/resend-code", {"sent": "yes", "retryAfter": 60},
     lambda c: c.resend_code("m@example.com", uuid.uuid4())),
    ("/auth/verify-email", {"verified": 1},
     lambda c: c.verify_email("m@example.com", "123456", uuid.uuid4())),
    ("/privacy-policy", {"version": "1", "effective_date": "2026-13-01",
                         "text": {"ru": "", "en": ""}}, lambda c: c.privacy_policy()),
    ("/.well-known/jwks.json", {"keys": "none"}, lambda c: c.jwks()),
])
def test_malformed_answers_raise_response_error(httpserver: HTTPServer, stub: IdpClient,
                                                path: str, body: dict[str, Any],
                                                call: Callable[[IdpClient], object]) -> None:
    httpserver.expect_request(path).respond_with_json(body)
    with pytest.raises(ResponseError):
        call(stub)


def test_well_formed_stub_answers_parse(httpserver: HTTPServer, stub: IdpClient) -> None:
    sid = uuid.uuid4()
    httpserver.expect_request("/auth/sessions", headers={"Authorization": "Bearer " + "a" * 40}
                              ).respond_with_json({"sessions": [{
                                  "id": str(sid), "user_agent": "ua", "ip": "10.0.0.1",
                                  "created_at": "2026-01-01T00:00:00Z",
                                  "last_used_at": "2026-01-02T00:00:00",
                                  "current": False, "future_field": 1}]})
    [info] = stub.sessions("a" * 40)
    assert info == SessionInfo(id=sid, user_agent="ua", ip="10.0.0.1",
                               created_at=datetime(2026, 1, 1, tzinfo=UTC),
                               last_used_at=datetime(2026, 1, 2, tzinfo=UTC), current=False)


@pytest.mark.parametrize(("header", "expected"), [
    ("30", 30),
    (None, None),
    ("soon", None),
])
def test_429_raises_rate_limited_with_retry_after(httpserver: HTTPServer, stub: IdpClient,
                                                  header: str | None,
                                                  expected: int | None) -> None:
    headers = {"Retry-After": header} if header is not None else {}
    httpserver.expect_request("/auth/initiate-login").respond_with_json(
        {"error": "account_locked", "message": "Locked for a while."}, status=429,
        headers=headers)
    with pytest.raises(RateLimited) as limited:
        stub.initiate_login("m@example.com")
    assert limited.value.status == 429 and limited.value.error == "account_locked"
    assert limited.value.message == "Locked for a while."
    assert limited.value.retry_after == expected


def test_retry_after_as_an_http_date(httpserver: HTTPServer, stub: IdpClient) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    httpserver.expect_request("/auth/refresh-token").respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": when})
    with pytest.raises(RateLimited) as limited:
        stub.refresh("r" * 43)
    assert limited.value.retry_after is not None and 100 <= limited.value.retry_after <= 120
    assert limited.value.error == "http_error"


def test_error_texts_never_echo_the_request_secrets(httpserver: HTTPServer,
                                                    stub: IdpClient) -> None:
    token, hash_key = "T" * 40, "H" * 43
    httpserver.expect_request("/auth/logout").respond_with_json(
        {"error": "invalid_token", "message": f"bad {token} / {'R' * 43}",
         "details": [{"field": "refreshToken", "problem": "R" * 43}]}, status=401)
    httpserver.expect_request("/auth/complete-login").respond_with_json(
        {"error": "invalid_credentials", "message": "x" * 490 + hash_key}, status=401)
    with pytest.raises(Unauthorized) as logout:
        stub.logout(token, "R" * 43)
    with pytest.raises(InvalidCredentials) as login:
        stub.complete_login("m@example.com", hash_key, uuid.uuid4())
    for error in (logout.value, login.value):
        text = str(error) + repr(error) + str(error.args) + json.dumps(error.details)
        assert token not in text and "R" * 43 not in text
        assert "H" * 10 not in text  # not even the prefix a truncation would leave
    assert "[redacted]" in logout.value.message


@pytest.mark.parametrize(("status", "cls"), [
    (400, BadRequest), (401, Unauthorized), (404, NotFound), (418, ApiError),
    (500, ServerError), (502, ServerError),
])
def test_errors_by_status(httpserver: HTTPServer, stub: IdpClient, status: int,
                          cls: type[ApiError]) -> None:
    httpserver.expect_request("/privacy-policy").respond_with_data("<html>oops</html>",
                                                                   status=status)
    with pytest.raises(cls) as error:
        stub.privacy_policy()
    assert type(error.value) is cls
    assert error.value.status == status and error.value.error == "http_error"
    assert str(error.value).startswith(f"{status} http_error: HTTP {status}")


def test_redirects_are_not_followed(httpserver: HTTPServer, stub: IdpClient) -> None:
    httpserver.expect_request("/auth/complete-login").respond_with_data(
        "", status=307, headers={"Location": "https://evil.example/steal"})
    with pytest.raises(ApiError) as error:
        stub.complete_login("m@example.com", "H" * 43, uuid.uuid4())
    assert error.value.status == 307


def test_client_lifecycle(httpserver: HTTPServer) -> None:
    with pytest.raises(ValueError):
        IdpClient("id.card.coop")
    with IdpClient(httpserver.url_for("/") + "/") as owned:
        assert owned.base_url == httpserver.url_for("/").rstrip("/")
    assert owned._http.is_closed
    http = httpx.Client()
    with IdpClient(httpserver.url_for("/"), http=http):
        pass
    assert not http.is_closed
    http.close()
