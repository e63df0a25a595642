"""What the app's outermost WSGI layer guarantees whatever server runs it (issue #8).

Requests: a request is acted on only once its whole body has arrived.

The server buffers the body before the app runs (hypercorn_config.py); when a client goes away
half-way it still hands the app what did arrive. A body shorter than its Content-Length is a
request that was never completed: it is answered 400 here, before any view can act on a prefix
that happens to parse (``{"email": "a@b.c"}`` followed by bytes that never came).

Responses: Hypercorn 0.18 sends the status line together with the first body chunk, so a
response with no chunk at all (a 302, a 204, an answer to HEAD or OPTIONS) never started and the
client got a bare 500 (pgjones/hypercorn#331). One empty chunk makes every response start.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

INCOMPLETE = json.dumps({"error": "incomplete_body",
                         "message": "The request body did not arrive in full."}).encode()


class CompleteBodies:
    def __init__(self, app: WsgiApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            declared = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # werkzeug answers a malformed length itself
        if 0 < declared <= self.max_body_bytes:
            body = environ["wsgi.input"].read(declared)
            if len(body) < declared:
                start_response("400 Bad Request", [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(INCOMPLETE)))])
                return [INCOMPLETE]
            environ["wsgi.input"] = io.BytesIO(body)
        # Larger declared bodies are refused by the app's own 413, unread.
        return self.app(environ, start_response)


class StartedResponses:
    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return _at_least_one_chunk(self.app(environ, start_response))


def _at_least_one_chunk(body: Iterable[bytes]) -> Iterator[bytes]:
    try:
        empty = True
        for chunk in body:
            empty = False
            yield chunk
        if empty:
            yield b""
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()  # WSGI: the server closes what the app returned (teardown runs here)
