"""Logging set-up. Request lines carry method, path, status, time and the request id, never
bodies or headers: bodies hold hashKeys, codes and ciphertext, headers hold tokens (DESIGN.md §7).

One record is one line: every control character in a record (a ``%0A`` decoded into a path, an
ESC from a user agent, a CR in an exception message) is written escaped, so nobody can forge a
log line or a terminal sequence through a request (issue #8).
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
REQUEST_ID_HEADER = "X-Request-ID"
# A request id from a proxy in front is kept if it is plainly an id; anything else is replaced.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def escape_controls(text: str) -> str:
    r"""``\n`` → ``\\n``, ESC → ``\\x1b``: printable, and never a line break."""
    return CONTROL.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in named:
        return named[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


class OneLineFormatter(logging.Formatter):
    """The standard format with the whole record, traceback included, on one escaped line."""

    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(super().format(record))


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(OneLineFormatter(FORMAT))
        root.addHandler(handler)
        root.setLevel(level)


def request_id() -> str:
    """This request's id: the one a trusted front sent, or a new one. Logged with every line
    about the request and sent back in X-Request-ID, so an operator can match the two."""
    if "request_id" not in g:
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = sent if SANE_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
    return str(g.request_id)


def init_request_log(app: Flask) -> None:
    log = logging.getLogger(f"cardcoop.{app.name}.access")

    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()
        request_id()

    @app.after_request
    def _line(response: Response) -> Response:
        took = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        response.headers[REQUEST_ID_HEADER] = request_id()
        # request.path, not full_path: query strings can carry codes and tokens.
        log.info("%s %s %s %.1fms rid=%s", request.method, request.path, response.status_code,
                 took, request_id())
        return response
