"""Domain errors and their one mapping onto HTTP (DESIGN.md §6.3, §6.6).

Services raise ``ApiError`` subclasses; nothing else in the apps builds error responses. Every
error body is ``{"error": <stable code>, "message": <human text>}``; no stack trace ever leaves.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from common.logs import request_id

log = logging.getLogger("cardcoop.errors")


class ApiError(Exception):
    status = 400
    code = "bad_request"
    message = "The request is not valid."

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: Any = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.code = code or self.code
        self.details = details

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class InvalidRequest(ApiError):
    code = "invalid_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"
    message = "Authentication is required."


class Forbidden(ApiError):
    status = 403
    code = "forbidden"
    message = "This is not allowed."


class NotFound(ApiError):
    status = 404
    code = "not_found"
    message = "Not found."


class Conflict(ApiError):
    status = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class Gone(ApiError):
    status = 410
    code = "gone"
    message = "This is no longer valid."


class TooManyRequests(ApiError):
    status = 429
    code = "too_many_requests"
    message = "Too many requests; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None,
                 code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class ServiceUnavailable(ApiError):
    status = 503
    code = "service_unavailable"
    message = "A service this request needs is unavailable; try again later."


RFC6750_ERRORS = {"invalid_token", "insufficient_scope"}


def error_response(error: ApiError) -> Response:
    response = jsonify(error.body())
    response.status_code = error.status
    if isinstance(error, TooManyRequests) and error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    if error.status == 401:
        challenge = 'Bearer realm="card.coop"'
        if error.code in RFC6750_ERRORS:  # tells an OAuth client what went wrong (RFC 6750 §3)
            challenge += f', error="{error.code}"'
        response.headers["WWW-Authenticate"] = challenge
    return response


def http_error_response(error: HTTPException) -> Response:
    code = {
        404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
        415: "unsupported_media_type", 429: "too_many_requests",
    }.get(error.code or 500, "http_error")
    response = jsonify({"error": code, "message": error.description or error.name})
    response.status_code = error.code or 500
    # Keep what the exception says besides its HTML body, e.g. Allow on a 405 (RFC 9110).
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    if error.code == 429:
        retry = getattr(error, "retry_after", None)
        if retry:
            response.headers["Retry-After"] = str(int(retry))
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error)

    app.register_error_handler(HTTPException, http_error_response)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.error("unhandled %s: %s | %s %s (route %s) rid=%s | %s", type(error).__name__,
                  redacted_message(error), request.method, request.path,
                  request.url_rule.rule if request.url_rule else "-", request_id(),
                  " < ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}"
                             for f in reversed(traceback.extract_tb(error.__traceback__))))
        response = jsonify({"error": "server_error",
                            "message": "Something went wrong on our side."})
        response.status_code = 500
        return response


# What may quote a secret or an address in an exception message is masked before it is logged.
_LONG_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=.]{20,}")
_EMAIL = re.compile(r"[^\s@'\"()<>]+@[^\s@'\"()<>]+")


def redacted_message(error: BaseException) -> str:
    """The first line of what the exception says, for an operator: a database error by its
    driver's primary message (never the statement's parameters or PostgreSQL's DETAIL, which
    quote the values), tokens and emails masked, cut short."""
    orig = getattr(error, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's error
    text = str(orig if isinstance(orig, BaseException) else error)
    first = text.strip().splitlines()[0] if text.strip() else ""
    first = _EMAIL.sub("<email>", _LONG_TOKEN.sub("<…>", first))
    return first[:200]
