"""What the app's outermost WSGI layer guarantees whatever server runs it (issue #8).

A request is acted on only once its whole body has arrived.

nginx in front (deploy/front.py) passes on only complete bodies, but granian alone (``make run``
without nginx) hands the app what did arrive when a client goes away half-way. A body shorter
than its Content-Length is a request that was never completed: it is answered 400 here, before
any view can act on a prefix that happens to parse (``{"email": "a@b.c"}`` followed by bytes
that never came).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
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

