"""card.coop portal: the members' dashboard (issue #12; specification task 2).

A confidential OpenID Connect client of idp and a backend-for-frontend: idp's tokens stay on
this server (portal/session_store.py), pages are rendered here (Jinja2, Flask-Babel), and the
member's personal data appears only inside idp's own framed card view. Everything else comes
from what the servers may know: idp's member API, the ВОСХОД chain, the portal's own tables.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response
from flask_wtf.csrf import CSRFProtect

from common.app import create_base_app
from common.security import CSP
from common.settings import Settings
from portal.formatting import init_formatting
from portal.i18n import init_i18n
from portal.services import init_services
from portal.session_store import init_sessions


def create_app(settings: Settings | None = None) -> Flask:
    app, settings = create_base_app("portal", settings, public_url_field="portal_url",
                                    cookie_name="portal_session", root=Path(__file__).parent)
    init_services(app, settings)
    init_sessions(app, settings.portal_session_ttl)
    init_i18n(app)
    init_formatting(app)
    init_csrf(app)
    init_frames(app, settings.idp_url)
    init_blueprints(app)
    init_cli(app)
    return app


def init_cli(app: Flask) -> None:
    from portal.cli import purge_command, reminders_command, worker_command

    app.cli.add_command(worker_command)
    app.cli.add_command(reminders_command)
    app.cli.add_command(purge_command)


def init_csrf(app: Flask) -> None:
    """Flask-WTF: every form post carries the session's CSRF token; idp's back-channel logout
    (server to server, a signed token) is the one exemption."""
    app.config.update(WTF_CSRF_TIME_LIMIT=None, WTF_CSRF_SSL_STRICT=True)
    csrf = CSRFProtect(app)
    app.extensions["portal_csrf"] = csrf


def page_policy(idp_url: str, form_targets: list[str] | None = None) -> str:
    """The portal's CSP: the one thing it frames is idp's card view; its forms may lead to idp
    (sign-out ends idp's session) and, on a page that names them, to cooperatives' sites (a
    contribution is paid there): browsers check form-action on every redirect of a form."""
    targets = " ".join(["'self'", idp_url, *(form_targets or [])])
    return CSP.replace("default-src 'self';", f"default-src 'self'; frame-src {idp_url};") \
        .replace("form-action 'self'", f"form-action {targets}")


def init_frames(app: Flask, idp_url: str) -> None:
    policy = page_policy(idp_url)

    @app.after_request
    def _csp(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy)
        return response


def init_blueprints(app: Flask) -> None:
    from portal import (
        analytics_views,
        contributions_views,
        meetings_views,
        notifications_views,
        pages,
        signin,
    )

    signin.init_oidc(app)
    bp = signin.make_blueprint()
    app.extensions["portal_csrf"].exempt("portal.signin.backchannel_logout")
    app.register_blueprint(bp)
    app.register_blueprint(pages.make_blueprint())
    app.register_blueprint(meetings_views.make_blueprint())
    app.register_blueprint(contributions_views.make_blueprint())
    app.register_blueprint(notifications_views.make_blueprint())
    app.register_blueprint(analytics_views.make_blueprint())
