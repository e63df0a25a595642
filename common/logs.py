"""Logging set-up. Request lines carry method, path, status and time, never bodies or headers:
bodies hold hashKeys, codes and ciphertext, headers hold tokens (DESIGN.md §7)."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def init_request_log(app: Flask) -> None:
    log = logging.getLogger(f"cardcoop.{app.name}.access")

    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _line(response: Response) -> Response:
        took = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        # request.path, not full_path: query strings can carry codes and tokens.
        log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, took)
        return response
