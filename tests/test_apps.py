"""The three WSGI apps (DESIGN.md §5): separate Flask apps with their own cookies, a health probe,
security headers on every response (§7) and JSON errors that never leak an exception (§6.6)."""

from __future__ import annotations

import importlib
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask, session

import business
import idp
import portal
from common.settings import Settings
from tests.conftest import REPO, random_email

FACTORIES: dict[str, Callable[..., Flask]] = {
    "idp": idp.create_app, "portal": portal.create_app, "business": business.create_app,
}
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                    "X-Frame-Options")


def build(name: str, base_settings: dict[str, Any], **overrides: Any) -> Flask:
    return FACTORIES[name](Settings(**(base_settings | overrides)))


@pytest.fixture
def apps(base_settings) -> dict[str, Flask]:
    return {name: build(name, base_settings) for name in FACTORIES}


def assert_security_headers(response) -> None:
    headers = response.headers
    for name in SECURITY_HEADERS:
        assert headers.get(name), (name, response.request.path)
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] in {"no-referrer", "strict-origin-when-cross-origin",
                                          "same-origin", "strict-origin"}


# -- wsgi.py -------------------------------------------------------------------------------------

@pytest.fixture
def wsgi_module(monkeypatch, base_settings) -> Iterator[Any]:
    """wsgi.py with its factories pointed at the test settings instead of the environment."""
    module = importlib.import_module("wsgi")
    for name, factory in FACTORIES.items():
        monkeypatch.setitem(module.FACTORIES, name,
                            lambda factory=factory: factory(Settings(**base_settings)))
    yield module
    for name in FACTORIES:
        vars(module).pop(name, None)  # drop the apps it cached


def test_wsgi_builds_nothing_at_import(tmp_path):
    """Importing wsgi (as gunicorn does) builds no app: no settings read, no instance/ made."""
    module = importlib.import_module("wsgi")
    assert module.FACTORIES == FACTORIES  # each name serves its own app factory
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARDCOOP_")}
    env["PYTHONPATH"] = str(REPO)
    probe = ("import wsgi; built = {'idp', 'portal', 'business'} & set(vars(wsgi)); "
             "print(sorted(built))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert not (tmp_path / "instance").exists()


def test_wsgi_exposes_three_distinct_apps(wsgi_module):
    apps = [wsgi_module.idp, wsgi_module.portal, wsgi_module.business]
    assert all(isinstance(app, Flask) for app in apps)
    assert len({id(app) for app in apps}) == 3
    assert [app.name for app in apps] == ["idp", "portal", "business"]
    assert wsgi_module.idp is wsgi_module.idp  # built once, then kept
    cookies = {app.config["SESSION_COOKIE_NAME"] for app in apps}
    assert len(cookies) == 3
    with pytest.raises(AttributeError):
        _ = wsgi_module.admin


# -- the apps --------------------------------------------------------------------------------------

def test_apps_are_distinct_with_distinct_session_cookies(apps):
    assert len({id(app) for app in apps.values()}) == 3
    names = {name: app.config["SESSION_COOKIE_NAME"] for name, app in apps.items()}
    assert len(set(names.values())) == 3
    assert "session" not in names.values()  # Flask's default would be shared by every app
    for name, app in apps.items():
        if name == "idp":
            continue  # idp has no Flask session at all (below)
        # What a browser actually receives: the app's own cookie name, HttpOnly, SameSite.
        app.add_url_rule("/h4-session", "h4_session",
                         lambda: (session.__setitem__("seen", True), "ok")[1])
        response = app.test_client().get("/h4-session")
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith(names[name] + "="), cookie
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_idp_uses_no_flask_session(apps):
    """idp's sessions are its own (cardcoop_session, in the database): Flask's signed-cookie
    session is off, so reading it finds nothing, writing to it fails, and no cookie is set."""
    app = apps["idp"]
    seen: list[object] = []

    def probe() -> str:
        seen.append(session.get("seen"))
        try:
            session["seen"] = True
        except RuntimeError:
            seen.append("refused")
        return "ok"

    app.add_url_rule("/h4-session", "h4_session", probe)
    response = app.test_client().get("/h4-session")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert seen == [None, "refused"]


@pytest.mark.parametrize("name", FACTORIES)
def test_health(apps, name):
    response = apps[name].test_client().get("/health")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body.get("app", name) == name
    assert_security_headers(response)


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/health"), ("GET", "/no-such-page"), ("POST", "/health"), ("HEAD", "/health"),
    ("OPTIONS", "/health"),
])
def test_every_response_carries_the_security_headers(apps, name, method, path):
    response = apps[name].test_client().open(path, method=method)
    assert response.status_code < 500
    assert_security_headers(response)


@pytest.mark.parametrize("path", ["/docs", "/openapi.json", "/privacy-policy",
                                  "/.well-known/jwks.json", "/docs/init.js", "/nope",
                                  "/static/css/idp.css", "/auth/sessions"])
def test_idp_pages_and_files_carry_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code < 500
    assert_security_headers(response)


def test_hsts_only_over_https(base_settings):
    secure = build("portal", base_settings, portal_url="https://card.coop")
    plain = build("portal", base_settings)
    hsts = secure.test_client().get("/health").headers.get("Strict-Transport-Security", "")
    assert "max-age=" in hsts and int(hsts.split("max-age=")[1].split(";")[0]) >= 31_536_000
    assert "Strict-Transport-Security" not in plain.test_client().get("/health").headers
    assert secure.config["SESSION_COOKIE_SECURE"] is True
    assert plain.config["SESSION_COOKIE_SECURE"] is False


def test_json_auth_responses_are_not_cached(app, client):
    email = random_email()
    answers = [
        client.post("/auth/initiate-registration", json={"email": email,
                                                         "privacy_accepted": True}),
        client.post("/auth/initiate-login", json={"email": email}),
        client.post("/auth/initiate-login", json={"email": 1}),
        client.post("/auth/refresh-token", json={"refreshToken": "r" * 43}),
        client.get("/auth/sessions"),
        client.get("/privacy-policy"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 400, 401, 401, 200]
    for answer in answers:
        assert answer.mimetype == "application/json"
        assert "no-store" in answer.headers["Cache-Control"], answer.request.path


# -- unexpected errors ---------------------------------------------------------------------------

LEAK = "internal-detail-H4-do-not-show"


@pytest.mark.parametrize("name", FACTORIES)
def test_unexpected_exception_is_a_json_500_without_details(apps, name, caplog):
    app = apps[name]

    def explode() -> str:
        raise RuntimeError(LEAK)

    app.add_url_rule("/h4-explode", "h4_explode", explode)
    response = app.test_client().get("/h4-explode")
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error", "message"} and body["error"] == "server_error"
    text = response.get_data(as_text=True)
    assert LEAK not in text and "RuntimeError" not in text and "Traceback" not in text
    assert_security_headers(response)
    # It is logged for us (by type), but the message, which may quote input, is not.
    logged = [r for r in caplog.records if r.name == "cardcoop.errors"]
    assert logged and all(LEAK not in r.getMessage() for r in logged)
    assert any("RuntimeError" in r.getMessage() for r in logged)


def test_unexpected_exception_message_stays_out_of_the_log_line(apps, caplog):
    app = apps["portal"]

    def explode() -> str:
        raise RuntimeError(LEAK)

    app.add_url_rule("/h4-explode", "h4_explode", explode)
    with caplog.at_level(logging.ERROR, logger="cardcoop.errors"):
        assert app.test_client().get("/h4-explode").status_code == 500
    lines = [logging.Formatter().format(r) for r in caplog.records if r.name == "cardcoop.errors"]
    assert lines
    assert all(LEAK not in line for line in lines), lines


def test_unexpected_exception_in_an_idp_json_view_is_a_json_500(make_app, monkeypatch):
    """The same through a real endpoint: a service that breaks mid-request."""
    app = make_app()
    from idp.auth import login

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ValueError(LEAK)

    monkeypatch.setattr(login, "initiate", broken)
    response = app.test_client().post("/auth/initiate-login", json={"email": random_email()})
    assert response.status_code == 500
    assert response.get_json()["error"] == "server_error"
    assert LEAK not in response.get_data(as_text=True)
    assert "no-store" in response.headers["Cache-Control"]
