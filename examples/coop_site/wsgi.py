"""WSGI entry: ``gunicorn examples.coop_site.wsgi:app`` (config from ``COOP_SITE_CONFIG``)."""

from __future__ import annotations

from . import create_app

app = create_app()
