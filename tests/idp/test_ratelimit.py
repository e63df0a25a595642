"""Rate limits per client IP and per account on idp's endpoints (DESIGN.md §7).

The counters live in Redis when CARDCOOP_REDIS_URL is set (CI) and in process memory otherwise;
every test here holds in both. ``environ_base={"REMOTE_ADDR": ...}`` only sets the WSGI environ
of the test client: no traffic leaves the process.
"""

from __future__ import annotations

import logging
import uuid

import pytest
from pydantic import ValidationError

from common.settings import Settings, SettingsError
from idp import create_app
from tests.conftest import random_email
from tests.idp.conftest import new_hash_key, register

OTHER_IP = "10.0.0.2"


def from_ip(ip: str) -> dict[str, dict[str, str]]:
    return {"environ_base": {"REMOTE_ADDR": ip}}


def initiate_login(client, email: str | None = None, **kwargs):
    return client.post("/auth/initiate-login", json={"email": email or random_email()},
                       **kwargs)


def assert_too_many(response, text: str = "message") -> None:
    """``text``: "error_description" on the token endpoints, whose bodies are RFC 6749's."""
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == "too_many_requests"
    assert isinstance(body[text], str) and body[text]
    retry = int(response.headers["Retry-After"])
    assert 0 < retry <= 60


def test_fourth_request_from_one_ip_is_refused(make_app):
    app = make_app(ratelimit_per_ip="3/minute", ratelimit_per_account="100/minute")
    client = app.test_client()
    for _ in range(3):
        assert initiate_login(client).status_code == 200
    assert_too_many(initiate_login(client))
    assert_too_many(initiate_login(client))  # and stays refused


def test_another_ip_has_its_own_budget(make_app):
    app = make_app(ratelimit_per_ip="3/minute", ratelimit_per_account="100/minute")
    client = app.test_client()
    for _ in range(3):
        assert initiate_login(client).status_code == 200
    assert_too_many(initiate_login(client))
    for _ in range(3):
        assert initiate_login(client, **from_ip(OTHER_IP)).status_code == 200
    assert_too_many(initiate_login(client, **from_ip(OTHER_IP)))
    assert_too_many(initiate_login(client))


def test_forwarded_for_is_ignored_without_a_trusted_proxy(make_app):
    """Otherwise any client could pick a fresh address per request."""
    app = make_app(ratelimit_per_ip="3/minute", ratelimit_per_account="100/minute")
    client = app.test_client()
    for i in range(3):
        response = initiate_login(client, headers={"X-Forwarded-For": f"192.0.2.{i}"})
        assert response.status_code == 200
    assert_too_many(initiate_login(client, headers={"X-Forwarded-For": "192.0.2.99"}))


def test_forwarded_for_counts_behind_a_trusted_proxy(make_app):
    app = make_app(ratelimit_per_ip="3/minute", ratelimit_per_account="100/minute",
                   trusted_proxies=1)
    client = app.test_client()
    for _ in range(3):
        assert initiate_login(client, headers={"X-Forwarded-For": "192.0.2.1"}).status_code == 200
    assert_too_many(initiate_login(client, headers={"X-Forwarded-For": "192.0.2.1"}))
    assert initiate_login(client, headers={"X-Forwarded-For": "192.0.2.2"}).status_code == 200


def test_one_email_from_many_ips_is_limited_per_account(make_app):
    app = make_app(ratelimit_per_ip="1000/minute", ratelimit_per_account="2/minute")
    client = app.test_client()
    email = random_email()
    assert initiate_login(client, email, **from_ip("10.0.1.1")).status_code == 200
    # The account is the normalized address: case and spaces do not make a new one.
    assert initiate_login(client, f"  {email.upper()} ", **from_ip("10.0.1.2")).status_code == 200
    assert_too_many(initiate_login(client, email, **from_ip("10.0.1.3")))
    # Someone else's address is not affected, from any of those IPs.
    assert initiate_login(client, random_email(), **from_ip("10.0.1.3")).status_code == 200


def test_password_guessing_is_limited_per_account_across_ips(make_app):
    app = make_app(ratelimit_per_ip="1000/minute", ratelimit_per_account="2/minute")
    client = app.test_client()
    email = random_email()
    # initiate-login has a budget of its own (two here); complete-login is where guesses go.
    attempts = [initiate_login(client, email, **from_ip(f"10.0.2.{i}")).get_json()["uuid"]
                for i in range(2)] + [str(uuid.uuid4())]
    answers = [client.post("/auth/complete-login", **from_ip(f"10.0.2.{10 + i}"), json={
        "email": email, "hashKey": new_hash_key(), "uuid": attempt})
        for i, attempt in enumerate(attempts)]
    assert [a.status_code for a in answers[:2]] == [401, 401]
    assert_too_many(answers[2])


def test_refresh_and_bearer_endpoints_are_limited_per_account(make_app):
    app = make_app(ratelimit_per_ip="1000/minute", ratelimit_per_account="2/minute")
    client = app.test_client()
    member = register(app, client)
    listed = [client.get("/auth/sessions", headers=member.bearer, **from_ip(f"10.0.3.{i}"))
              for i in range(3)]
    assert [r.status_code for r in listed[:2]] == [200, 200]
    assert_too_many(listed[2])
    token = "r" * 43
    refreshed = [client.post("/auth/refresh-token", json={"refreshToken": token},
                             **from_ip(f"10.0.4.{i}")) for i in range(3)]
    assert [r.status_code for r in refreshed[:2]] == [401, 401]
    assert_too_many(refreshed[2])


def test_limits_are_per_endpoint(make_app):
    app = make_app(ratelimit_per_ip="3/minute", ratelimit_per_account="100/minute")
    client = app.test_client()
    for _ in range(3):
        assert initiate_login(client).status_code == 200
    assert_too_many(initiate_login(client))
    assert client.get("/privacy-policy").status_code == 200
    started = client.post("/auth/initiate-registration",
                          json={"email": random_email(), "privacy_accepted": True})
    assert started.status_code == 200
    assert client.get("/health").status_code == 200


def test_bad_requests_count_too(make_app):
    """Malformed bodies spend the IP's budget like any other request."""
    app = make_app(ratelimit_per_ip="3/minute", ratelimit_per_account="100/minute")
    client = app.test_client()
    for body in ({}, {"email": 1}, {"email": "x"}):
        assert client.post("/auth/initiate-login", json=body).status_code == 400
    assert_too_many(initiate_login(client))


def test_limits_can_be_disabled(make_app, base_settings):
    limits = {"ratelimit_per_ip": "3/minute", "ratelimit_per_account": "2/minute"}
    enabled = make_app(**limits)  # also what empties the tables afterwards
    # Built by hand: make_app's teardown calls limiter.reset(), which a disabled limiter
    # (no storage) refuses.
    disabled = create_app(Settings(**base_settings | limits | {"ratelimit_enabled": False}))
    email = random_email()
    answers = [initiate_login(disabled.test_client(), email).status_code for _ in range(8)]
    assert answers == [200] * 8
    # The same settings with limits on do refuse: the difference is the switch.
    client = enabled.test_client()
    assert [initiate_login(client, email).status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize("kwargs", [
    pytest.param({"json": {"email": "\ud800@example.com"}}, id="lone-surrogate"),
    pytest.param({"json": {"email": "a@example.com", "pad": "x" * (1024 * 1024)}},
                 id="over-1mb"),
    pytest.param({"data": "[" * 100_000 + "]" * 100_000, "content_type": "application/json"},
                 id="deep-nesting"),
])
def test_an_unreadable_body_does_not_break_the_limiter(make_app, caplog, kwargs):
    app = make_app(ratelimit_per_ip="3/minute", ratelimit_per_account="100/minute")
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        response = client.post("/auth/initiate-login", **kwargs)
    assert 400 <= response.status_code < 500
    complaints = [r for r in caplog.records
                  if r.name == "flask-limiter" and r.levelno >= logging.WARNING]
    assert complaints == []


def test_an_unparsable_limit_stops_the_app_instead_of_switching_the_limit_off(make_app):
    try:
        app = make_app(ratelimit_per_ip="1000/minute", ratelimit_per_account="lots")
    except (SettingsError, ValidationError) as refused:
        assert "ratelimit_per_account" in str(refused).lower()
        return
    client = app.test_client()
    email = random_email()
    # It started: then the account must still be limited somehow (the default is 30/minute).
    answers = [initiate_login(client, email).status_code for _ in range(40)]
    assert 429 in answers, "no per-account limit at all"


def test_token_endpoints_are_limited_per_client_across_ips(make_app):
    app = make_app(ratelimit_per_ip="1000/minute", ratelimit_per_account="2/minute")
    client = app.test_client()
    form = {"grant_type": "authorization_code", "code": "x", "client_id": "voskhod",
            "client_secret": "guess"}
    for n, ip in enumerate(("10.0.0.11", "10.0.0.12")):
        assert client.post("/oauth/token", data=form, **from_ip(ip)).status_code in {400, 401}, n
    assert_too_many(client.post("/oauth/token", data=form, **from_ip("10.0.0.13")),
                    "error_description")
    other = form | {"client_id": "zelenyisad"}  # another client keeps its own budget
    assert client.post("/oauth/token", data=other, **from_ip("10.0.0.14")).status_code != 429
    body = {"ticket": "x", "client_id": "voskhod", "client_secret": "guess"}
    for ip in ("10.0.0.15", "10.0.0.16"):
        client.post("/access/exchange-ticket", json=body, **from_ip(ip))
    assert_too_many(client.post("/access/exchange-ticket", json=body, **from_ip("10.0.0.17")),
                    "error_description")
