"""card.coop portal: the members' dashboard. For now only the app factory and /health; the
dashboard itself comes with its own issue (an OIDC client of idp)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from common.app import create_base_app
from common.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    app, _ = create_base_app("portal", settings, public_url_field="portal_url",
                             cookie_name="portal_session", root=Path(__file__).parent)
    return app
