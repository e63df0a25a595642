"""Bad input of any kind on idp's JSON endpoints (DESIGN.md §6.6, §7): a clear 4xx with a JSON
error body, never a 500 or an HTML page, no submitted value echoed back, and nothing written.

"Nothing written" is checked on the full contents of every ``idp_*`` table (the audit log and
the outbox included), so an UPDATE (a spent attempt, a counted failure) is caught as well as an
INSERT.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from common.db import db
from idp import models
from tests.conftest import random_email
from tests.idp.conftest import last_code, login, new_hash_key, register

# What a leaked value would look like: if any of it comes back, a secret was echoed.
SECRET = "Sup3rS3cret-" + secrets.token_hex(8)
ERROR_CODE = re.compile(r"^[a-z][a-z_]*$")
ONE_MB = 1024 * 1024

ENDPOINTS: dict[str, dict[str, str]] = {
    # path -> {wire field name: kind}
    "/auth/initiate-registration": {"email": "email", "privacy_accepted": "bool"},
    "/auth/verify-email": {"email": "email", "code": "code", "uuid": "uuid"},
    "/auth/resend-code": {"email": "email", "uuid": "uuid"},
    "/auth/complete-registration": {"email": "email", "hashKey": "hash_key", "uuid": "uuid"},
    "/auth/initiate-login": {"email": "email"},
    "/auth/complete-login": {"email": "email", "hashKey": "hash_key", "uuid": "uuid"},
    "/auth/refresh-token": {"refreshToken": "token"},
    "/auth/logout": {"refreshToken": "token"},
}
# Fields a body may leave out (or send as null): logout's refresh token is optional, the access
# token names the session (issue #9).
OPTIONAL = {("/auth/logout", "refreshToken")}

IDP_MODELS = (models.Member, models.Registration, models.LoginAttempt,
              models.CredentialFailures, models.AuthSession, models.RefreshToken,
              models.SigningKey, models.AuditEvent, models.Outbox, models.DevMail)


def valid_value(kind: str) -> Any:
    return {
        "email": random_email("bad-input"),
        "bool": True,
        "code": "123456",
        "uuid": str(uuid.uuid4()),
        "hash_key": new_hash_key(),
        "token": secrets.token_urlsafe(32),
    }[kind]


def valid_body(path: str) -> dict[str, Any]:
    return {name: valid_value(kind) for name, kind in ENDPOINTS[path].items()}


# -- the database, before and after ------------------------------------------------------------

def idp_tables() -> list[Any]:
    return [t for t in db.metadata.sorted_tables if t.name.startswith("idp_")]


def snapshot(app) -> dict[str, list[str]]:
    """Every row of every idp table, as sorted reprs (catches inserts, updates and deletes)."""
    with app.app_context():
        tables = idp_tables()
        assert {m.__tablename__ for m in IDP_MODELS} <= {t.name for t in tables}
        # Not request data: idp makes its first token-signing key before the first request of a
        # fresh database is handled, whatever that request turns out to be.
        state = {t.name: sorted(repr(tuple(row)) for row in db.session.execute(select(t)))
                 for t in tables if t.name != "idp_signing_keys"}
        db.session.remove()
        return state


def counts(state: dict[str, list[str]]) -> dict[str, int]:
    return {name: len(rows) for name, rows in state.items()}


def assert_nothing_written(app, before: dict[str, list[str]]) -> None:
    after = snapshot(app)
    assert counts(after) == counts(before)
    assert after == before


# -- the response ------------------------------------------------------------------------------

def assert_json_error(response, status: int, error: str | set[str] | None = None,
                      secret: str | None = SECRET) -> dict[str, Any]:
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:500]
    assert response.mimetype == "application/json", text[:500]
    assert "<html" not in text.lower() and "Traceback" not in text
    body = response.get_json()
    assert isinstance(body, dict)
    assert set(body) <= {"error", "message", "details"}
    assert isinstance(body["error"], str) and ERROR_CODE.match(body["error"])
    assert isinstance(body["message"], str) and body["message"].strip()
    if error is not None:
        expected = {error} if isinstance(error, str) else error
        assert body["error"] in expected, body
    if "details" in body:
        assert isinstance(body["details"], list) and body["details"]
        for item in body["details"]:
            # Field path and problem only: pydantic's ``input`` and ``ctx`` must not leak.
            assert set(item) == {"field", "problem"}, item
    if secret:
        assert secret not in text
    assert "Cache-Control" in response.headers
    return body


def detail_fields(body: dict[str, Any]) -> set[str]:
    return {item["field"] for item in body.get("details", [])}


# -- the cases ---------------------------------------------------------------------------------

@dataclass
class Case:
    """One malformed request: the test client kwargs and the answer it must get."""

    name: str
    kwargs: dict[str, Any]
    status: int = 400
    error: str | set[str] | None = "invalid_request"
    fields: set[str] = field(default_factory=set)  # must be named in details
    secret: str | None = SECRET


def with_field(path: str, name: str, value: Any) -> dict[str, Any]:
    body = valid_body(path)
    body[name] = value
    return body


def without(path: str, name: str) -> dict[str, Any]:
    body = valid_body(path)
    del body[name]
    return body


def generic_cases(path: str) -> list[Case]:
    valid = valid_body(path)
    as_text = json.dumps(valid) + f' "{SECRET}"'
    cases = [
        Case("text-plain", {"data": json.dumps(valid | {"note": SECRET}),
                            "content_type": "text/plain"}, error="invalid_json"),
        Case("form-data", {"data": {k: str(v) for k, v in valid.items()} | {"note": SECRET}},
             error="invalid_json"),
        Case("multipart", {"data": {k: str(v) for k, v in valid.items()},
                           "content_type": "multipart/form-data"}, error="invalid_json"),
        Case("no-body", {"content_type": "application/json"}, error="invalid_json"),
        Case("empty-body", {"data": "", "content_type": "application/json"},
             error="invalid_json"),
        Case("invalid-json", {"data": '{"email": "' + SECRET, "content_type": "application/json"},
             error="invalid_json"),
        Case("single-quotes", {"data": str(valid | {"note": SECRET}),
                               "content_type": "application/json"}, error="invalid_json"),
        Case("trailing-garbage", {"data": as_text, "content_type": "application/json"},
             error="invalid_json"),
        Case("not-utf8", {"data": b'{"email": "\xff\xfe' + SECRET.encode() + b'"}',
                          "content_type": "application/json"}, error="invalid_json"),
        Case("array", {"json": [valid | {"note": SECRET}]}, error="invalid_json"),
        Case("string", {"json": SECRET}, error="invalid_json"),
        Case("null", {"data": "null", "content_type": "application/json"},
             error="invalid_json"),
        Case("number", {"data": "42", "content_type": "application/json"},
             error="invalid_json"),
        Case("boolean", {"data": "true", "content_type": "application/json"},
             error="invalid_json"),
        *([] if all((path, name) in OPTIONAL for name in ENDPOINTS[path]) else
          [Case("empty-object", {"json": {}}, fields=set(ENDPOINTS[path]))]),
        Case("unknown-field", {"json": valid | {"isAdmin": SECRET}}, fields={"isAdmin"}),
        Case("unknown-nested-field", {"json": valid | {"extra": {"deep": SECRET}}},
             fields={"extra"}),
        Case("over-1mb", {"json": valid | {"pad": "x" * ONE_MB}}, status=413,
             error="payload_too_large"),
        Case("over-1mb-of-field", {"json": with_field(path, next(iter(valid)),
                                                      SECRET + "x" * ONE_MB)},
             status=413, error="payload_too_large"),
    ]
    for name, kind in ENDPOINTS[path].items():
        if (path, name) not in OPTIONAL:
            cases += [
                Case(f"missing-{name}", {"json": without(path, name)}, fields={name}),
                Case(f"null-{name}", {"json": with_field(path, name, None)}, fields={name}),
            ]
        cases += [
            Case(f"object-{name}", {"json": with_field(path, name, {"$ne": SECRET})},
                 fields={name}),
            Case(f"list-{name}", {"json": with_field(path, name, [SECRET])}, fields={name}),
            Case(f"number-{name}", {"json": with_field(path, name, 31415926535)},
                 fields={name}, secret="31415926535"),
        ]
        if kind == "bool":
            cases += [
                Case(f"string-{name}", {"json": with_field(path, name, "true")}, fields={name},
                     secret=None),
                Case(f"int-{name}", {"json": with_field(path, name, 1)}, fields={name},
                     secret=None),
            ]
        else:
            cases += [
                Case(f"bool-{name}", {"json": with_field(path, name, True)}, fields={name},
                     secret=None),
                Case(f"overlong-{name}", {"json": with_field(path, name, SECRET * 400)},
                     fields={name}),
                Case(f"overlong-valid-chars-{name}",
                     {"json": with_field(path, name, overlong(kind))}, fields={name},
                     secret=overlong(kind)),
            ]
        if kind == "email":
            cases += [
                Case(f"too-short-{name}", {"json": with_field(path, name, "a@")},
                     fields={name}, secret=None),
                # Schema-valid strings that are not addresses: refused before any service.
                Case(f"not-an-email-{name}", {"json": with_field(path, name, SECRET)},
                     error="invalid_email"),
                Case(f"two-ats-{name}", {"json": with_field(path, name, f"{SECRET}@@x.org")},
                     error="invalid_email"),
                Case(f"nul-in-{name}", {"json": with_field(path, name,
                                                           f"a\u0000{SECRET}@example.com")},
                     error={"invalid_email", "invalid_request"}),
                Case(f"lone-surrogate-{name}", {"json": with_field(
                    path, name, f"\ud800{SECRET}@example.com")},
                    error={"invalid_email", "invalid_request"}),
            ]
        if kind == "uuid":
            good = str(uuid.uuid4())
            for label, value in (("word", SECRET), ("short", good[:-1]), ("long", good + "0"),
                                 ("empty", ""), ("digits", "1234"),
                                 ("bad-hex", good[:-1] + "g")):
                cases.append(Case(f"malformed-{name}-{label}",
                                  {"json": with_field(path, name, value)}, fields={name}))
        if kind == "hash_key":
            key = new_hash_key()
            for label, value in (("42-chars", key[:42]), ("44-chars", key + "A"),
                                 ("plus", "+" + key[1:]), ("slash", key[:-1] + "/"),
                                 ("padding", key[:42] + "="), ("space", key[:20] + " " + key[21:]),
                                 ("non-ascii", "é" + key[1:]), ("empty", "")):
                cases.append(Case(f"malformed-{name}-{label}",
                                  {"json": with_field(path, name, value)}, fields={name},
                                  secret=value if len(value) > 8 else None))
        if kind == "code":
            for label, value in (("5-digits", "12345"), ("7-digits", "1234567"),
                                 ("letters", "12a456"), ("all-letters", "abcdef"),
                                 ("leading-space", " 123456"), ("trailing-newline", "123456\n"),
                                 ("arabic-digits", "١٢٣٤٥٦"), ("fullwidth", "１２３４５６"),
                                 ("negative", "-12345"), ("empty", "")):
                cases.append(Case(f"malformed-{name}-{label}",
                                  {"json": with_field(path, name, value)}, fields={name},
                                  secret=None))
        if kind == "token":
            cases += [
                Case(f"too-short-{name}", {"json": with_field(path, name, "x" * 19)},
                     fields={name}, secret=None),
                Case(f"too-long-{name}", {"json": with_field(path, name, "x" * 201)},
                     fields={name}, secret="x" * 201),
            ]
    return cases


def overlong(kind: str) -> str:
    return {"email": "a" * 250 + "@example.com", "code": "1" * 1000, "uuid": "0" * 1000,
            "hash_key": "A" * 1000, "token": "t" * 5000}[kind]


CASES = [pytest.param(path, case, id=f"{path.removeprefix('/auth/')}:{case.name}")
         for path in ENDPOINTS for case in generic_cases(path)]


@pytest.fixture
def bearer(app, client) -> dict[str, str]:
    """A logged-in member's header, for /auth/logout (so the body is what fails)."""
    member = register(app, client)
    return member.bearer


@pytest.mark.parametrize(("path", "case"), CASES)
def test_malformed_request_is_a_json_4xx_and_writes_nothing(request, app, client, path, case):
    headers = request.getfixturevalue("bearer") if path == "/auth/logout" else {}
    before = snapshot(app)
    response = client.post(path, headers=headers, **case.kwargs)
    body = assert_json_error(response, case.status, case.error, case.secret)
    assert case.fields <= detail_fields(body), body
    assert_nothing_written(app, before)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_deeply_nested_json_is_a_400(request, app, client, path):
    """json.loads raises RecursionError (not ValueError) here: it must not become a 500."""
    headers = request.getfixturevalue("bearer") if path == "/auth/logout" else {}
    depth = 100_000  # 200 kB: well under the size limit
    before = snapshot(app)
    response = client.post(path, data="[" * depth + "]" * depth, headers=headers,
                           content_type="application/json")
    assert_json_error(response, 400, "invalid_json")
    assert_nothing_written(app, before)


@pytest.mark.parametrize(("path", "wire", "python"), [
    ("/auth/complete-login", "hashKey", "hash_key"),
    ("/auth/complete-registration", "hashKey", "hash_key"),
    ("/auth/refresh-token", "refreshToken", "refresh_token"),
])
def test_only_the_wire_names_are_accepted(app, client, path, wire, python):
    """The documented names only (the schema says additionalProperties: false)."""
    body = valid_body(path)
    body[python] = body.pop(wire)
    before = snapshot(app)
    response = client.post(path, json=body)
    refused = assert_json_error(response, 400, "invalid_request", secret=None)
    assert {wire, python} <= detail_fields(refused)
    assert_nothing_written(app, before)


def test_the_snapshot_sees_a_write(app, client):
    """The 'nothing written' check above can fail: a valid request does show up in it."""
    before = snapshot(app)
    started = client.post("/auth/initiate-registration",
                          json={"email": random_email(), "privacy_accepted": True})
    assert started.status_code == 200
    after = snapshot(app)
    grown = {t for t in after if len(after[t]) > len(before[t])}
    assert {"idp_registrations", "idp_audit_events", "idp_outbox"} <= grown


def test_privacy_not_accepted_writes_nothing(app, client):
    before = snapshot(app)
    response = client.post("/auth/initiate-registration",
                           json={"email": random_email(), "privacy_accepted": False})
    assert_json_error(response, 400, "privacy_not_accepted")
    assert_nothing_written(app, before)


# -- malformed input in the middle of real flows: nothing spent, nothing counted ---------------

def test_malformed_codes_do_not_count_as_wrong_codes(app, client):
    email = random_email()
    started = client.post("/auth/initiate-registration",
                          json={"email": email, "privacy_accepted": True})
    attempt = started.json["uuid"]
    code = last_code(app, email)
    before = snapshot(app)
    # More malformed tries than code_max_attempts (5): none of them may burn a try.
    for bad in ("12345", "1234567", "12a456", "abcdef", code + " ", "١٢٣٤٥٦", code[:5]):
        response = client.post("/auth/verify-email",
                               json={"email": email, "code": bad, "uuid": attempt})
        assert_json_error(response, 400, "invalid_request", secret=None)
    for bad_uuid in (attempt[:-1], attempt + "0", SECRET):
        response = client.post("/auth/verify-email",
                               json={"email": email, "code": code, "uuid": bad_uuid})
        assert_json_error(response, 400, "invalid_request")
        response = client.post("/auth/resend-code", json={"email": email, "uuid": bad_uuid})
        assert_json_error(response, 400, "invalid_request")
    assert_nothing_written(app, before)
    verified = client.post("/auth/verify-email",
                           json={"email": email, "code": code, "uuid": attempt})
    assert verified.status_code == 200, verified.json


def test_malformed_hash_key_leaves_a_verified_registration_completable(app, client):
    email = random_email()
    attempt = client.post("/auth/initiate-registration",
                          json={"email": email, "privacy_accepted": True}).json["uuid"]
    assert client.post("/auth/verify-email", json={
        "email": email, "code": last_code(app, email), "uuid": attempt}).status_code == 200
    key = new_hash_key()
    before = snapshot(app)
    non_canonical = "A" * 42 + "B"  # 43 valid characters, but the last one has stray bits
    for bad, error in ((key[:42], "invalid_request"), (key + "A", "invalid_request"),
                       ("+" + key[1:], "invalid_request"), (non_canonical, "invalid_hash_key")):
        response = client.post("/auth/complete-registration",
                               json={"email": email, "hashKey": bad, "uuid": attempt})
        assert_json_error(response, 400, error, secret=None)
    assert_nothing_written(app, before)
    done = client.post("/auth/complete-registration",
                       json={"email": email, "hashKey": key, "uuid": attempt})
    assert done.status_code == 201, done.json


def test_malformed_hash_key_does_not_spend_the_login_attempt(app, client, member):
    attempt = client.post("/auth/initiate-login", json={"email": member.email}).json["uuid"]
    before = snapshot(app)
    for bad, error in ((member.hash_key[:42], "invalid_request"),
                       (member.hash_key + "=", "invalid_request"),
                       ("A" * 42 + "B", "invalid_hash_key")):
        response = client.post("/auth/complete-login", json={
            "email": member.email, "hashKey": bad, "uuid": attempt})
        assert_json_error(response, 400, error, secret=None)
    assert_nothing_written(app, before)  # no failure counted, attempt not used, no audit
    ok = client.post("/auth/complete-login", json={
        "email": member.email, "hashKey": member.hash_key, "uuid": attempt})
    assert ok.status_code == 200, ok.json


def test_malformed_refresh_token_rotates_nothing(app, client, member):
    token = member.tokens["refreshToken"]
    before = snapshot(app)
    for bad in (token[:19], token * 5, {"token": token}, [token]):
        response = client.post("/auth/refresh-token", json={"refreshToken": bad})
        assert_json_error(response, 400, "invalid_request", secret=token)
    unknown = client.post("/auth/refresh-token",
                          json={"refreshToken": secrets.token_urlsafe(32)})
    assert_json_error(unknown, 401, "invalid_token")
    assert_nothing_written(app, before)
    assert client.post("/auth/refresh-token", json={"refreshToken": token}).status_code == 200


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Basic abc",
                                           "Bearer not-a-jwt", "Bearer a.b.c"])
def test_logout_with_a_bad_bearer_is_a_json_401_and_writes_nothing(app, client, member,
                                                                   authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    before = snapshot(app)
    response = client.post("/auth/logout", headers=headers,
                           json={"refreshToken": member.tokens["refreshToken"]})
    assert_json_error(response, 401, {"missing_token", "invalid_token"},
                      secret=member.tokens["refreshToken"])
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_nothing_written(app, before)


def test_a_complete_login_after_bad_input_still_works(app, client, member):
    """Bad input must not lock anyone out either (no failure counted)."""
    for _ in range(12):  # more than lockout_threshold (10)
        response = client.post("/auth/complete-login", json={
            "email": member.email, "hashKey": "x", "uuid": str(uuid.uuid4())})
        assert_json_error(response, 400, "invalid_request")
    assert login(client, member.email, member.hash_key).status_code == 200


# -- methods and paths -------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_wrong_method_is_a_json_405(app, client, path, method):
    before = snapshot(app)
    response = getattr(client, method)(path, json=valid_body(path))
    assert_json_error(response, 405, "method_not_allowed")
    assert_nothing_written(app, before)


def test_405_says_which_methods_are_allowed(client):
    response = client.get("/auth/initiate-login")
    assert response.status_code == 405
    assert "POST" in response.headers.get("Allow", "")


@pytest.mark.parametrize("path", ["/nope", "/auth/", "/auth/initiate-registration/extra",
                                  "/auth/Initiate-Login", f"/auth/{SECRET}"])
def test_unknown_path_is_a_json_404(app, client, path):
    response = client.post(path, json={"email": random_email()})
    assert_json_error(response, 404, "not_found")
    assert_json_error(client.get(path), 404, "not_found")


@pytest.mark.parametrize("session_id", ["not-a-uuid", "1234", SECRET,
                                        str(uuid.uuid4())[:-1], str(uuid.uuid4()) + "0"])
def test_session_path_that_is_not_a_uuid_is_a_json_404(app, client, member, session_id):
    before = snapshot(app)
    response = client.delete(f"/auth/sessions/{session_id}", headers=member.bearer)
    assert_json_error(response, 404, "not_found")
    assert_nothing_written(app, before)
