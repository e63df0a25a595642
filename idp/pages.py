"""The member's pages: one app shell (``/``) whose ES modules do all the cryptography in the
browser, and the protocol-v1 modules of ``widget/`` served beside them.

The card key must live only in page memory as a non-extractable CryptoKey, so the pages are a
single document with client-side views: a navigation between server pages would lose it.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, render_template, request, send_from_directory
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from common.api import endpoint
from common.errors import http_error_response
from common.openapi import HtmlPage
from common.security import CSP
from idp.oauth import clients

WIDGET = Path(__file__).resolve().parents[1] / "widget"
# Only the browser modules and the built noble bundle; never package.json, tests or node_modules.
WIDGET_PARTS = ("src", "dist")
EMBED = Path(__file__).resolve().parent / "static" / "embed"
# Paths of the JSON API and files: a 404 there stays JSON, whatever the client accepts.
API_PREFIXES = ("/auth/", "/card", "/access/", "/cooperatives", "/oauth/", "/application/",
                "/static/", "/.well-known/", "/openapi.json", "/dev/")


def make_blueprint() -> Blueprint:
    bp = Blueprint("pages", __name__)

    @bp.get("/")
    def app_shell() -> ResponseReturnValue:
        return render_template("idp/app.html")

    @bp.get("/frame/card")
    @endpoint(summary="The card view for card.coop's own apps to frame", tags=("card",),
              responses={200: HtmlPage}, errors=(),
              description="An HTML page, framable only by the first-party apps' registered "
                          "origins (CSP frame-ancestors). `parent` (one of those origins) is "
                          "where the page reports its height (postMessage "
                          "`cardcoop:resize`). The member unlocks the keys inside the frame; "
                          "the personal data is decrypted there and never leaves it.")
    def card_frame() -> ResponseReturnValue:
        """The card view for card.coop's own apps to frame (idp/static/app/embed.js): only
        their registered origins may (CSP frame-ancestors); ``parent`` names which one, so
        that the page can report its height to it, and is ignored unless registered."""
        origins = clients.frame_origins()
        parent = request.args.get("parent")
        response = Response(render_template("idp/app.html", embed="card",
                                            embed_parent=parent if parent in origins else None))
        ancestors = " ".join(origins) or "'none'"
        response.headers["Content-Security-Policy"] = CSP.replace(
            "frame-ancestors 'none'", f"frame-ancestors {ancestors}")
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.app_errorhandler(404)
    def not_found(error: NotFound) -> ResponseReturnValue:
        """A person's browser gets a page in their language; API clients keep the JSON error."""
        wants = request.accept_mimetypes.best_match(["application/json", "text/html"])
        if wants != "text/html" or request.path.startswith(API_PREFIXES):
            return http_error_response(error)
        response = Response(render_template("idp/not_found.html"), status=404)
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.get("/widget.js")
    def embed_script() -> ResponseReturnValue:
        # Loaded by cooperatives' pages on their own origins (the iframe method).
        response = send_from_directory(EMBED, "widget.js", max_age=300)
        response.mimetype = "text/javascript"
        response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response

    @bp.get("/static/widget/<part>/<path:name>")
    def widget_file(part: str, name: str) -> ResponseReturnValue:
        if part not in WIDGET_PARTS:
            abort(404)
        response = send_from_directory(WIDGET / part, name, max_age=0)
        if name.endswith(".js"):
            response.mimetype = "text/javascript"
        return response

    return bp
