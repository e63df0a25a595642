"""id.card.coop: the zero-knowledge vault and authorization server."""

from __future__ import annotations

import functools
from pathlib import Path

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from flask_migrate import Migrate

from common.app import create_base_app
from common.openapi import make_blueprint as make_openapi_blueprint
from common.ratelimit import limit_blueprint, make_limiter
from common.settings import Settings

API_DESCRIPTION = (
    "id.card.coop keeps members' cards as ciphertext only. Keys are derived in the browser "
    "(protocol v1, PROTOCOL.md); the server sees hashKey, never the password.")


def create_app(settings: Settings | None = None) -> Flask:
    app, settings = create_base_app("idp", settings, public_url_field="idp_url",
                                    cookie_name="idp_session", root=Path(__file__).parent)
    # idp's sessions are its own (the cardcoop_session cookie, rows in the database); Flask's
    # signed-cookie session is never used here, and opening it cost every request ~60 µs.
    app.session_interface = NoCookieSession()
    init_models(app)
    init_services(app, settings)
    init_blueprints(app, settings)
    init_cli(app)
    return app


class NoCookieSession(SessionInterface):
    """Flask's session off: a read-only empty one on every request, nothing set on the way out
    (writing to it raises, so a stray use shows in the tests)."""

    def open_session(self, app: Flask, request: Request) -> None:
        return None  # Flask then takes make_null_session()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


def init_models(app: Flask) -> None:
    from common.db import db
    from idp import (
        models,  # noqa: F401  (registers the tables with the metadata)
        relay,  # noqa: F401  (idp_relayed_notifications)
    )
    from idp.card import models as card_models  # noqa: F401
    from idp.network import models as network_models  # noqa: F401
    from idp.oauth import models as oauth_models  # noqa: F401

    Migrate(app, db, directory=str(Path(__file__).parent.parent / "migrations"))


def init_services(app: Flask, settings: Settings) -> None:
    from idp.services import init_services as init

    init(app, settings)


def init_blueprints(app: Flask, settings: Settings) -> None:
    from common.api import register_authenticator
    from idp import devmail, pages, relay, wellknown
    from idp.access import views as access_views
    from idp.auth import views as auth_views
    from idp.auth.bearer import current_session, member_api_session
    from idp.auth.cookie import browser_cookie_present
    from idp.card import views as card_views
    from idp.cooperatives import views as cooperative_views
    from idp.network import views as network_views
    from idp.oauth import views as oauth_views
    from idp.oauth.bearer import current_coop_token
    from idp.oauth.server import client_credentials_present, make_authorization_server
    from idp.tokens import ALG, ID_TOKEN_ALGS

    register_authenticator(app, "bearer", current_session)
    register_authenticator(app, "memberApi", member_api_session)
    register_authenticator(app, "coopToken", current_coop_token)
    register_authenticator(app, "clientAuth", client_credentials_present)
    register_authenticator(app, "sessionCookie", browser_cookie_present)
    limiter = make_limiter(app, settings, prefix="idp")
    app.extensions["idp_limiter"] = limiter
    tokens = app.extensions["idp"].tokens
    app.extensions["idp_oauth"] = make_authorization_server(app)
    member_bps = (auth_views.make_blueprint(), card_views.make_blueprint(),
                  cooperative_views.make_blueprint(), network_views.make_blueprint(),
                  network_views.make_member_blueprint(), relay.make_blueprint())
    # The token endpoints sign ID tokens too (RS256 or ES256); member-only ones never need RSA.
    oauth_bps = (access_views.make_blueprint(), oauth_views.make_blueprint())
    for bp in member_bps + oauth_bps:
        limit_blueprint(limiter, bp, settings)
        # The signing keys are made before the request writes anything.
        algs = ID_TOKEN_ALGS if bp in oauth_bps else (ALG,)
        bp.before_request(functools.partial(tokens.ensure_fresh, algs))
        app.register_blueprint(bp)
    app.register_blueprint(wellknown.make_blueprint())
    app.register_blueprint(network_views.make_entry_blueprint())
    app.register_blueprint(pages.make_blueprint())
    app.register_blueprint(make_openapi_blueprint(
        title="id.card.coop API", version="0.1.0", description=API_DESCRIPTION))
    if settings.uses_dev_mailbox:
        app.register_blueprint(devmail.make_blueprint())


def init_cli(app: Flask) -> None:
    from idp.cli import audit_cli, keys_cli, purge_ended_command, worker_command
    from idp.oauth.cli import clients_cli

    app.cli.add_command(worker_command)
    app.cli.add_command(keys_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(purge_ended_command)
    app.cli.add_command(clients_cli)
