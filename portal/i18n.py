"""The portal's languages (Flask-Babel): Russian by default, English on request.

The choice: ``?lang=ru|en`` (remembered in a cookie for a year), else the cookie, else Russian
(as in idp's pages: the product speaks Russian unless the member picks English). Source strings
are English; the Russian catalogue (portal/translations/ru) is compiled by ``make
translations`` (part of ``make run`` and ``make test``).
"""

from __future__ import annotations

from flask import Flask, Response, g, request
from flask_babel import Babel

LANGS = ("ru", "en")
DEFAULT = "ru"
COOKIE = "portal_lang"


def select_locale() -> str:
    wanted = request.args.get("lang") or request.cookies.get(COOKIE)
    return str(wanted) if wanted in LANGS else DEFAULT


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    Babel(app, locale_selector=select_locale)

    @app.before_request
    def _lang() -> None:
        g.lang = select_locale()

    @app.after_request
    def _remember(response: Response) -> Response:
        wanted = request.args.get("lang")
        if wanted in LANGS and request.cookies.get(COOKIE) != wanted:
            response.set_cookie(COOKIE, str(wanted), max_age=365 * 86_400, samesite="Lax",
                                httponly=True, secure=request.is_secure)
        return response

    @app.context_processor
    def _langs() -> dict[str, object]:
        return {"lang": g.get("lang", DEFAULT), "langs": LANGS}
