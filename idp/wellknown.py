"""/.well-known/jwks.json: the public keys that verify idp's tokens (RFC 7517)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from pydantic import Field

from common.api import Schema, endpoint
from idp.services import services


class Jwks(Schema):
    keys: list[dict[str, Any]] = Field(description="EC P-256 public keys (ES256), with kid")


def make_blueprint() -> Blueprint:
    bp = Blueprint("wellknown", __name__)

    @bp.get("/.well-known/jwks.json")
    @endpoint(summary="Keys that verify idp's tokens", tags=("keys",), responses={200: Jwks},
              errors=())
    def jwks() -> ResponseReturnValue:
        response = jsonify(services().tokens.jwks())
        # Verifiers may cache briefly; ours reloads the keys when it meets an unknown kid.
        response.headers["Cache-Control"] = "public, max-age=60"
        return response

    return bp
