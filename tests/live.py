"""Real HTTP servers on 127.0.0.1: an app in a thread (SDK and browser tests), and the production
server command with several worker processes (races, slow clients, fuzzing)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from werkzeug.serving import make_server

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
                      app: str = "idp") -> Iterator[Server]:
    """The production command (Hypercorn, hypercorn_config.py, several worker processes) on a
    free port with these settings: for what only a multi-process server shows (races between
    workers, slow clients). The schema must already be migrated."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARDCOOP_")}
    env |= settings_env(settings)  # and no PYTHONPATH: the installed venv, as in production
    log_path = log_dir / f"{app}-{port}.log"
    argv = [str(Path(sys.executable).parent / "hypercorn"), "--config",
            "file:hypercorn_config.py", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            f"wsgi:create_{app}()"]
    with log_path.open("w") as out:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out,  # noqa: S603
                                stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_until_healthy(server, proc, workers)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def _wait_until_healthy(server: Server, proc: subprocess.Popen[bytes], workers: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited during start-up:\n" + server.log()[-3000:])
        # Every worker says it is running before the first request: a burst should meet them all.
        if server.log().count("Running on") >= workers:
            try:
                if requests.get(server.url + "/health", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
        time.sleep(0.2)
    raise RuntimeError("the server did not become healthy:\n" + server.log()[-3000:])
