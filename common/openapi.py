"""OpenAPI 3.1 document built from the ``@endpoint`` declarations, and Swagger UI at ``/docs``.

Swagger UI's files come from the ``flask-swagger-ui`` wheel (Swagger UI 5, which reads 3.1); we
serve them ourselves with an external init script so that the strict CSP needs no inline code.

A declaration's ``responses`` maps a status to a body model, to None (no body), or to one of the
markers below for what is not a JSON API body: the OAuth error body of RFC 6749 §5.2 / RFC 6750
§3 (``OAuthError``, with ``WWW-Authenticate`` on 401), an HTML page for a person (``HtmlPage``)
and a redirect to a client (``Redirect``). Statuses of ``errors`` not given there are idp's own
``{"error", "message"}`` (``ErrorBody``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import flask_swagger_ui
from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    render_template_string,
    send_from_directory,
)
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema, models_json_schema

from common.api import ErrorBody, Operation

SWAGGER_DIST = Path(flask_swagger_ui.__file__).parent / "dist"
REF = "#/components/schemas/{model}"
ERROR_TEXT = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
              409: "Conflict", 410: "Gone", 413: "Body too large", 429: "Too many requests",
              503: "Service unavailable"}


def _no_null_defaults(schema: dict[str, Any]) -> None:
    for field in schema.get("properties", {}).values():
        if field.get("default", ...) is None:
            del field["default"]


class OAuthError(BaseModel):
    """An OAuth 2.0 error response: RFC 6749 §5.2 (token endpoint), RFC 7009 §2.2.1
    (revocation), RFC 7662 §2.3 (introspection), RFC 6750 §3.1 (protected resources)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_null_defaults)

    error: str = Field(description="An RFC 6749 / RFC 6750 error code, e.g. invalid_request, "
                                   "invalid_client, invalid_grant, invalid_token")
    # Omitted rather than null when there is nothing to say (SkipJsonSchema: not in the schema).
    error_description: str | SkipJsonSchema[None] = None
    error_uri: str | SkipJsonSchema[None] = None


class HtmlPage(BaseModel):
    """Marker: an HTML page for the person in the browser (``text/html``), not a JSON body."""


class Redirect(BaseModel):
    """Marker: a redirect (no body) to the client's registered URI; the outcome is in its query:
    ``code`` or ``error`` (+ ``error_description``), with ``state`` and ``iss`` (RFC 9207)."""


MARKERS = (HtmlPage, Redirect)
REDIRECT_TEXT = ("Redirect to the client's registered URI; the outcome is in the query: code, or "
                 "error (and error_description), with state and iss")


def oauth_errors(*statuses: int) -> dict[int, type[BaseModel]]:
    """``responses`` entries for the statuses an OAuth endpoint answers with ``OAuthError``."""
    return dict.fromkeys(statuses, OAuthError)


def page_errors(*statuses: int) -> dict[int, type[BaseModel]]:
    """``responses`` entries for the statuses a page endpoint answers with an error page."""
    return dict.fromkeys(statuses, HtmlPage)


SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "The member's access token (ES256 JWT, ≤ 15 min)."},
    "memberApi": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                  "description": "The member's access token, or one that card.coop's own app "
                                 "(portal, business) got for the member with the scope "
                                 "`cardcoop:member`: the member's API."},
    "coopToken": {"type": "http", "scheme": "bearer",
                  "description": "A cooperative's access token (opaque) from the token "
                                 "endpoint; it reads one member's grant only."},
    "clientAuth": {"type": "http", "scheme": "basic",
                   "description": "A cooperative's client_id and client_secret (HTTP Basic, "
                                  "or client_id + client_secret in the form body)."},
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "cardcoop_session",
                      "description": "The browser's idp session: an HttpOnly, SameSite=Lax "
                                     "cookie set at login (`__Host-cardcoop_session`, Secure, "
                                     "on https)."},
}


def build_document(app: Flask, *, title: str, version: str, description: str) -> dict[str, Any]:
    operations: list[tuple[str, str, Operation, list[str]]] = []
    for rule in app.url_map.iter_rules():
        op = getattr(app.view_functions[rule.endpoint], "__openapi__", None)
        if op is None:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations.append((path, method.lower(), op, list(rule.arguments)))

    models: set[type[BaseModel]] = {ErrorBody}
    for _, _, op, _ in operations:
        if op.body:
            models.add(op.body)
        models.update(m for m in op.responses.values() if m and m not in MARKERS)
    ordered = sorted(models, key=lambda m: m.__name__)
    names = [m.__name__ for m in ordered]
    # Components are keyed by class name: two models with one name would silently collide.
    assert len(names) == len(set(names)), f"duplicate schema names: {sorted(names)}"
    _, defs = models_json_schema([(m, "validation") for m in ordered], ref_template=REF,
                                 by_alias=True)
    schemas = defs.get("$defs", {})

    paths: dict[str, dict[str, Any]] = {}
    for path, method, op, args in sorted(operations, key=lambda o: (o[0], o[1])):
        paths.setdefault(path, {})[method] = _operation(op, args, path, method)

    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "servers": [{"url": app.config["PUBLIC_URL"]}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def _operation(op: Operation, args: list[str], path: str, method: str) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "summary": op.summary,
        "tags": list(op.tags),
        "operationId": f"{method}_{re.sub(r'[^a-zA-Z0-9]+', '_', path).strip('_')}",
        "responses": {},
    }
    if op.description:
        doc["description"] = op.description
    if args:
        doc["parameters"] = [{"name": a, "in": "path", "required": True,
                              "schema": {"type": "string"}} for a in sorted(args)]
    if op.body:
        doc["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": REF.format(model=op.body.__name__)}}}}
    if op.auth:
        doc["security"] = [{op.auth: []}]
    for status, model in op.responses.items():
        doc["responses"][str(status)] = _response(status, model)
    error_ref = {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}}
    # 400 everywhere: every request's query, path, form, body and Basic credentials are checked
    # before any view (common/inputs.py), so any operation may refuse one.
    for status in sorted(set(op.errors) | {400} | ({401} if op.auth else set())):
        doc["responses"].setdefault(str(status), {"description": ERROR_TEXT.get(status, "Error"),
                                                  "content": error_ref})
    return doc


def _response(status: int, model: type[BaseModel] | None) -> dict[str, Any]:
    description = "OK" if status < 300 else ERROR_TEXT.get(status, "Error")
    if model is Redirect:
        return {"description": REDIRECT_TEXT, "headers": {"Location": {
            "required": True, "schema": {"type": "string", "format": "uri"}}}}
    entry: dict[str, Any] = {"description": description}
    if model is HtmlPage:
        entry["content"] = {"text/html": {"schema": {"type": "string"}}}
    elif model is not None:
        entry["content"] = {"application/json": {
            "schema": {"$ref": REF.format(model=model.__name__)}}}
    if model is OAuthError and status == 401:
        entry["headers"] = {"WWW-Authenticate": {
            "required": True, "schema": {"type": "string"},
            "description": "The scheme to authenticate with (RFC 6749 §5.2, RFC 6750 §3)"}}
    return entry


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} — API</title>
<link rel="stylesheet" href="{{ url_for('openapi.swagger_file', name='swagger-ui.css') }}">
</head><body><div id="swagger-ui" data-spec="{{ url_for('openapi.document') }}"></div>
<script src="{{ url_for('openapi.swagger_file', name='swagger-ui-bundle.js') }}"></script>
<script src="{{ url_for('openapi.init_script') }}"></script></body></html>"""


def make_blueprint(*, title: str, version: str, description: str) -> Blueprint:
    bp = Blueprint("openapi", __name__)

    @bp.get("/openapi.json")
    def document() -> ResponseReturnValue:
        return jsonify(build_document(current_app, title=title, version=version,
                                      description=description))

    @bp.get("/docs")
    def docs() -> ResponseReturnValue:
        return render_template_string(DOCS_PAGE, title=title)

    @bp.get("/docs/swagger/<path:name>")
    def swagger_file(name: str) -> ResponseReturnValue:
        return send_from_directory(SWAGGER_DIST, name, max_age=86_400)

    @bp.get("/docs/init.js")
    def init_script() -> ResponseReturnValue:
        return send_from_directory(Path(__file__).parent / "static", "swagger-init.js")

    return bp
