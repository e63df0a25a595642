"""Response bodies of the revocation and introspection endpoints, as Authlib sends them with
idp's introspection hook (idp/oauth/server.py), for the API reference."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from common.api import Schema

# A field absent from an inactive token's answer: omitted, never null (not in the schema).
Absent = SkipJsonSchema[None]


def _no_null_defaults(schema: dict[str, Any]) -> None:
    for field in schema.get("properties", {}).values():
        if field.get("default", ...) is None:
            del field["default"]


class IntrospectionOut(Schema):
    """RFC 7662 §2.2. A token that is unknown, expired, revoked or another client's is only
    ``{"active": false}``."""

    model_config = ConfigDict(json_schema_extra=_no_null_defaults)

    active: bool
    client_id: str | Absent = None
    token_type: str | Absent = None
    scope: str | Absent = None
    sub: str | Absent | None = Field(default=None, description="The card id")
    iss: str | Absent = None
    aud: str | Absent = None
    iat: int | Absent = None
    exp: int | Absent = None
    username: str | Absent | None = Field(
        default=None, description="The member's account in the cooperative")
    coopname: str | Absent = None


class RevocationOut(Schema):
    """RFC 7009 §2.2: 200 with an empty object, whether or not the token was valid."""
