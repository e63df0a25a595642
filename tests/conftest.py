"""Shared fixtures. The database is real: PostgreSQL when CARDCOOP_DATABASE_URL is set (CI), a
SQLite file otherwise; the schema comes from the Alembic migrations, as in production. Redis is
used for rate limits when CARDCOOP_REDIS_URL is set."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from common.db import db
from common.settings import Settings

REPO = Path(__file__).resolve().parents[1]
DATABASE_URL = os.environ.get("CARDCOOP_DATABASE_URL", "")
REDIS_URL = os.environ.get("CARDCOOP_REDIS_URL") or None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> dict[str, Any]:
    return {
        "env": "test", "instance_path": tmp_path_factory.mktemp("instance"),
        "database_url": database_url, "redis_url": REDIS_URL,
        "secret_key": "test-secret-" + "x" * 40, "idp_url": "http://idp.test",
        "kdf_iterations": 100_000,
    }


@pytest.fixture(scope="session")
def migrated(base_settings: dict[str, Any]) -> None:
    """Build the schema once per run from the migrations (which also tests them)."""
    from idp import create_app

    app = create_app(Settings(**base_settings))
    with app.app_context():
        upgrade(directory=str(REPO / "migrations"))
        db.engine.dispose()


@pytest.fixture
def make_app(base_settings: dict[str, Any], migrated: None) -> Iterator[Callable[..., Flask]]:
    """Build an idp app with settings overrides; tables are emptied after the test."""
    from idp import create_app

    apps: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        app = create_app(Settings(**(base_settings | overrides)))
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            limiter = app.extensions["idp_limiter"]
            if limiter.enabled:
                limiter.reset()
    if apps:
        with apps[0].app_context():
            empty_tables()
    for app in apps:
        with app.app_context():
            db.engine.dispose()  # each app has its own pool: close it, or PostgreSQL runs out


def empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        # The audit table refuses TRUNCATE by trigger; replica mode skips triggers (superuser).
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        with db.engine.begin() as conn:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (our table names)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def random_email(prefix: str = "member") -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.com"


@pytest.fixture
def make_portal(base_settings: dict[str, Any], migrated: None) -> Iterator[Callable[..., Flask]]:
    """Build a portal app (issue #12) with settings overrides, on the test database."""
    from portal import create_app as create_portal

    apps: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        app = create_portal(Settings(**(base_settings | overrides)))
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()
