"""card.coop business: the cooperatives' admin panel. For now only the app factory and /health; the
panel itself comes with its own issue (an OIDC client of idp)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from common.app import create_base_app
from common.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    app, _ = create_base_app("business", settings, public_url_field="business_url",
                             cookie_name="business_session", root=Path(__file__).parent)
    return app
