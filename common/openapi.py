"""OpenAPI 3.1 document built from the ``@endpoint`` declarations, and Swagger UI at ``/docs``.

Swagger UI's files come from the ``flask-swagger-ui`` wheel (Swagger UI 5, which reads 3.1); we
serve them ourselves with an external init script so that the strict CSP needs no inline code.
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
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from common.api import ErrorBody, Operation

SWAGGER_DIST = Path(flask_swagger_ui.__file__).parent / "dist"
REF = "#/components/schemas/{model}"
ERROR_TEXT = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
              409: "Conflict", 410: "Gone", 413: "Body too large", 429: "Too many requests",
              503: "Service unavailable"}


SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "The member's access token (ES256 JWT, ≤ 15 min)."},
    "coopToken": {"type": "http", "scheme": "bearer",
                  "description": "A cooperative's access token (opaque) from the token "
                                 "endpoint; it reads one member's grant only."},
    "clientAuth": {"type": "http", "scheme": "basic",
                   "description": "A cooperative's client_id and client_secret (HTTP Basic, "
                                  "or client_id + client_secret in the form body)."},
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
        models.update(m for m in op.responses.values() if m)
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
        entry: dict[str, Any] = {"description": "OK" if status < 300 else "Error"}
        if model is not None:
            entry["content"] = {"application/json": {
                "schema": {"$ref": REF.format(model=model.__name__)}}}
        doc["responses"][str(status)] = entry
    error_ref = {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}}
    for status in sorted(set(op.errors) | ({401} if op.auth else set())):
        doc["responses"].setdefault(str(status), {"description": ERROR_TEXT.get(status, "Error"),
                                                  "content": error_ref})
    return doc


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
