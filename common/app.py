"""What every app factory does first, as small ordered steps (DESIGN.md §6.1)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from common.bodies import CompleteBodies
from common.db import db, engine_options, init_autocommit
from common.errors import register_error_handlers
from common.inputs import init_input_checks
from common.logs import configure_logging, init_request_log
from common.security import init_security_headers
from common.settings import Settings, load_settings


def create_base_app(name: str, settings: Settings | None, *, public_url_field: str,
                    cookie_name: str, root: Path) -> tuple[Flask, Settings]:
    settings = settings or load_settings()
    app = Flask(name, root_path=str(root), instance_path=str(settings.instance_path.resolve()))
    init_config(app, settings, public_url=getattr(settings, public_url_field),
                cookie_name=cookie_name)
    configure_logging()
    db.init_app(app)
    init_autocommit(app)
    register_error_handlers(app)
    init_security_headers(app, https=app.config["PUBLIC_URL"].startswith("https://"),
                          trusted_proxies=settings.trusted_proxies)
    init_request_log(app)
    init_input_checks(app)
    init_health(app)
    app.wsgi_app = CompleteBodies(  # type: ignore[method-assign]
        app.wsgi_app, settings.max_body_bytes)
    return app, settings


def init_config(app: Flask, settings: Settings, *, public_url: str, cookie_name: str) -> None:
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    https = public_url.startswith("https://")
    app.config.update(
        SECRET_KEY=settings.resolved_secret_key(),
        SQLALCHEMY_DATABASE_URI=settings.sqlalchemy_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.sqlalchemy_url),
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        PUBLIC_URL=public_url,
        SESSION_COOKIE_NAME=cookie_name,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=https,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
        CARDCOOP_SETTINGS=settings,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]


def init_health(app: Flask) -> None:
    @app.get("/health")
    def health() -> ResponseReturnValue:
        db.session.execute(text("SELECT 1"))
        return jsonify({"status": "ok", "app": app.name})
