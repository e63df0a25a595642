"""JSON endpoints described by pydantic models: parsing, validation and the OpenAPI record.

``@endpoint(...)`` is the one place where a request body becomes a typed object: non-JSON, a
non-object, wrong types, unknown or missing fields all end as a 400 before the view runs, so a
view (and the service it calls) only ever sees valid input. The same declaration feeds
``/openapi.json``, so the reference cannot drift from the code.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, Response, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from common.db import without_transaction
from common.errors import ApiError, InvalidRequest
from common.inputs import int32_problem

AUTHENTICATORS = "cardcoop.authenticators"


def register_authenticator(app: Flask, scheme: str, authenticate: Callable[[], object]) -> None:
    """``authenticate`` raises ``Unauthorized`` or returns; ``@endpoint(auth=scheme)`` calls it."""
    app.extensions.setdefault(AUTHENTICATORS, {})[scheme] = authenticate


class Schema(BaseModel):
    """Request/response bodies: strict types, unknown fields refused, aliases on the wire, and
    every integer within the 32-bit columns it may end in (a larger one is a 400, never a
    database error: issue #8)."""

    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True,
                              str_strip_whitespace=False)

    @field_validator("*", mode="after")
    @classmethod
    def _integers_fit_the_columns(cls, value: Any) -> Any:
        for number in _integers(value):
            if problem := int32_problem(number):
                raise ValueError(problem)
        return value


def _integers(value: Any) -> Iterator[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _integers(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _integers(item)


class FieldProblem(Schema):
    field: str
    problem: str


class ErrorBody(Schema):
    error: str
    message: str
    details: list[FieldProblem] | None = None


@dataclass(frozen=True)
class Operation:
    summary: str
    tags: tuple[str, ...]
    body: type[BaseModel] | None
    responses: Mapping[int, type[BaseModel] | None]
    auth: str | None  # name of the security scheme, None for public endpoints
    description: str = ""
    errors: tuple[int, ...] = field(default=())


def endpoint(*, summary: str, tags: tuple[str, ...], body: type[BaseModel] | None = None,
             responses: Mapping[int, type[BaseModel] | None], auth: str | None = None,
             errors: tuple[int, ...] = (400, 413, 429), description: str = "",
             reads_only: bool = False
             ) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Declare a JSON endpoint. The view gets ``body=<model>`` when a body model is given and
    returns a model, ``(model, status)``, or a ``Response``.

    ``reads_only``: the request's database session runs outside a transaction (each statement
    on its own, no BEGIN and no ROLLBACK: two round trips fewer, issue #10). Only for views
    that read, or write one statement at a time (the session touch of the bearer check)."""
    op = Operation(summary, tags, body, responses, auth, description, errors)

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            if reads_only:
                without_transaction()
            if auth is not None:
                # Authenticate before reading the body: a caller without credentials learns
                # nothing about what the endpoint would accept.
                current_app.extensions[AUTHENTICATORS][auth]()
            if body is not None:
                kwargs["body"] = parse_body(body)
            return to_response(view(*args, **kwargs))

        wrapper.__openapi__ = op  # type: ignore[attr-defined]
        return wrapper

    return decorate


M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M]) -> M:
    if not request.is_json:
        raise InvalidRequest("The body must be JSON (Content-Type: application/json).",
                             code="invalid_json")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # "[[[[…": the json module gives up before the size limit does
        data = None
    if data is None:
        raise InvalidRequest("The body is not valid JSON.", code="invalid_json")
    if not isinstance(data, dict):
        raise InvalidRequest("The body must be a JSON object.", code="invalid_json")
    try:
        # Only the wire names (aliases) from clients; snake_case names are for Python code.
        return model.model_validate(data, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise InvalidRequest("Some fields are missing or invalid.", code="invalid_request",
                             details=validation_details(exc)) from None


def validation_details(exc: ValidationError) -> list[dict[str, str]]:
    """Field paths and messages only: pydantic's ``input`` would echo secrets back."""
    return [{"field": ".".join(str(p) for p in err["loc"]), "problem": _problem(err)}
            for err in exc.errors(include_url=False, include_input=False)]


def _problem(err: Any) -> str:
    # Some parsers quote the offending character ("found `s` at 0"): keep input out entirely.
    return "Input should be a valid UUID" if err["type"] == "uuid_parsing" else str(err["msg"])


def to_response(result: Any) -> Response:
    status = 200
    if isinstance(result, tuple):
        result, status = result
    if isinstance(result, Response):
        return result
    if isinstance(result, BaseModel):
        response = jsonify(result.model_dump(mode="json", by_alias=True))
    elif result is None:
        return Response(status=204)
    else:
        response = jsonify(result)
    response.status_code = status
    return response


def require(condition: bool, error: ApiError) -> None:
    if not condition:
        raise error
