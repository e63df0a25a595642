"""The one place where every incoming string is checked before any view, service, database or
protocol library sees it (issue #8).

A string from a request may reach PostgreSQL (which refuses NUL in text and cannot encode a
lone surrogate), a log line, an HTTP header or an OAuth error description. Rather than each of
those failing with a 500 of its own, a request carrying such a string is refused here with one
clear 400: the query string, form fields, path parameters, the JSON body (keys and values, at any
depth) and HTTP Basic credentials alike. Lengths of query, form and path values are bounded here
too; JSON fields are bounded by their schemas (common/api.py), integers by the column types.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, request

from common.errors import InvalidRequest

# Query, form and path values: protocol parameters, URIs, names. No control characters at all.
PARAM_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# JSON strings: tab and newlines are data; NUL, other controls and lone surrogates are not.
JSON_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
MAX_PARAM_LENGTH = 4096  # a redirect URI or an ID token hint fits; a 1 MB "state" does not
MAX_NAME_LENGTH = 100  # names are echoed in the error's details: short and clean only
INT32 = (-(2**31), 2**31 - 1)  # idp's integer columns are 32-bit (BigInteger ids never come in)


class UnacceptableInput(InvalidRequest):
    code = "invalid_request"
    message = "The request contains characters or values this service does not accept."


def init_input_checks(app: Flask) -> None:
    @app.before_request
    def _check_inputs() -> None:
        problems = [{"field": where, "problem": problem} for where, problem in _problems()]
        if problems:
            raise UnacceptableInput(details=problems[:10])


def param_problem(value: str, max_length: int = MAX_PARAM_LENGTH) -> str | None:
    if PARAM_FORBIDDEN.search(value):
        return "contains a control character or an invalid code point"
    if len(value) > max_length:
        return f"is longer than {max_length} characters"
    return None


def int32_problem(value: int) -> str | None:
    low, high = INT32
    return None if low <= value <= high else f"must be between {low} and {high}"


def _problems() -> Iterator[tuple[str, str]]:
    yield from _params("query", request.args.items(multi=True))
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        yield from _params("form", request.form.items(multi=True))
    yield from _params("path", ((k, v) for k, v in (request.view_args or {}).items()
                                if isinstance(v, str)))
    yield from _basic_credentials()
    if request.is_json:
        try:
            data = request.get_json(silent=True)
        except RecursionError:
            data = None  # too deep: the endpoint's parser answers that
        yield from _json("body", data)


def _params(kind: str, items: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    for name, value in items:
        if problem := param_problem(name, MAX_NAME_LENGTH):
            yield kind, f"has a parameter name that {problem}"
        elif problem := param_problem(value):
            yield f"{kind}.{name}", problem


def _json(where: str, value: Any, depth: int = 0) -> Iterator[tuple[str, str]]:
    if depth > 64:
        return  # the parser's own depth limit answers deeper bodies
    if isinstance(value, str):
        if JSON_FORBIDDEN.search(value):
            yield where, "contains a control character or an invalid code point"
    elif isinstance(value, dict):
        for key, item in value.items():
            if JSON_FORBIDDEN.search(key) or len(key) > MAX_NAME_LENGTH:
                yield where, "has a key with a control character, an invalid code point or " \
                             "too many characters"
            else:
                yield from _json(f"{where}.{key}", item, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json(f"{where}[{index}]", item, depth + 1)


def _basic_credentials() -> Iterator[tuple[str, str]]:
    """HTTP Basic's client_id and secret, as the OAuth library will decode them."""
    header = request.headers.get("Authorization", "")
    if header[:6].lower() != "basic ":
        return
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return  # no credentials at all: whoever authenticates the request refuses them (401)
    client_id, _, secret = decoded.partition(":")
    yield from _params("basic", (("client_id", client_id), ("client_secret", secret)))
