"""Real HTTP servers on 127.0.0.1: an app in a thread (SDK and browser tests), and the production
server command with several worker processes (races, slow clients, fuzzing)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from deploy.front import Front, FrontConfig

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def serving(app: Flask, port: int = 0) -> Iterator[str]:
    """Serve ``app`` in a background thread; yields its base URL. ``port`` 0 picks a free one."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-app", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def free_port() -> int:
    """A port nothing listens on now (for a server to start on, or a "chain down" URL)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A production-style server started by ``production_server``: its URL and its log."""

    url: str
    log_path: Path
    pids: list[int]  # the front's processes (nginx, each granian); their workers are children

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def settings_env(settings: dict[str, Any]) -> dict[str, str]:
    """Settings as the ``CARDCOOP_*`` environment variables the server process reads."""
    env = {}
    for name, value in settings.items():
        if value is None:
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        env["CARDCOOP_" + name.upper()] = text
    return env


@contextmanager
def production_server(settings: dict[str, Any], log_dir: Path, *, workers: int = 2,
                      app: str = "idp", port: int | None = None) -> Iterator[Server]:
    """The production front (deploy/front.py: nginx in front of granian's worker processes) on
    a free port with these settings: for what only a multi-process server shows (races between
    workers, slow clients). The schema must already be migrated."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARDCOOP_")}
    env |= settings_env(settings)  # and no PYTHONPATH: the installed venv, as in production
    cfg = FrontConfig(app=app, port=port or free_port(), workers=workers, use_nginx=True)
    log_path = log_dir / f"{app}-{cfg.port}.log"
    with Front(cfg, env, log_path) as front:
        yield Server(front.url, log_path, front.pids())
