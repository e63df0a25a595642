"""The production front (issue #10): nginx holds the connections, granian runs the app.

Why two servers (measured in issue #10's note):

- granian (Rust HTTP, the WSGI app on its own blocking threads) answers the discovery document
  at about 6,000 req/s on two cores where Hypercorn managed 900: Hypercorn parses HTTP in Python.
- But granian hands a request to a WSGI thread before its body has arrived, so fifty clients that
  send their bodies slowly hold every thread (the slow-client attack of issue #8). nginx in front
  reads each request whole (``proxy_request_buffering``, with body and header timeouts) before
  the app sees it, holds ten thousand idle keep-alive connections in a few megabytes, and spreads
  requests over the app's workers through a pool of upstream connections.
- Each worker is its own granian process on its own Unix socket, and nginx sends a request to
  the one with the fewest in flight (``least_conn``). Workers sharing one socket took nginx's
  kept-alive connections as the kernel handed them out: at eight connections one did 2.3 times
  the other's work while that one idled, and sign-ins reached 55 % of the Argon2id ceiling
  instead of 67 % (the mean of three bench runs each).

``Front`` starts nginx and a granian per worker as child processes with one log file (the app's
own access lines, nginx's errors); ``make run``, the tests' live servers and the benchmarks use
it. Without nginx on the machine (``make run`` on a bare laptop) granian listens alone and a
warning says what is lost.
Production runs the same commands under a supervisor: ``python -m deploy.front --print-nginx``
prints the nginx configuration for the workers' sockets (docs/operations.md).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import pwd
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # granian is installed beside the interpreter
NGINX_TEMPLATE = Path(__file__).with_name("nginx.conf.template")
# What nginx buffers beyond the app's own limit, so that the app answers its own JSON 413 for a
# declared length just over it, while no request makes nginx hold much more.
BODY_SLACK = 64 * 1024


@dataclass
class FrontConfig:
    app: str = "idp"  # wsgi:create_<app>
    port: int = 8000
    host: str = "127.0.0.1"
    workers: int = 2  # granian processes, one worker and one socket each
    threads: int = 4  # WSGI threads per process: they overlap the waits on PostgreSQL
    max_body_bytes: int = 1024 * 1024
    nginx_workers: int = 1
    max_connections: int = 16_384  # per nginx worker: the specification's 10,000 users fit
    keepalive_timeout: int = 75  # seconds an idle client connection stays open
    use_nginx: bool | None = None  # None: when nginx is installed
    target: str | None = None  # a WSGI target other than wsgi:create_<app> (the demo site)


def worker_sockets(directory: Path, name: str, workers: int) -> list[Path]:
    """Where each of an app's granian processes listens: one socket per worker."""
    return [directory / f"{name}-{n}.sock" for n in range(workers)]


def nginx_config(cfg: FrontConfig, *, sockets: list[Path], run_dir: Path) -> str:
    """The configuration from ``deploy/nginx.conf.template`` for this front, whose workers
    listen on ``sockets``."""
    user = ""
    if os.geteuid() == 0:  # nginx's workers would drop to nobody and not reach the socket
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};"
    # A client connection and, while it is served, an upstream one; never above the hard limit
    # (a container may forbid raising it).
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nofile = cfg.max_connections * 2 + 1024
    if hard != resource.RLIM_INFINITY:
        nofile = min(nofile, hard)
    return Template(NGINX_TEMPLATE.read_text()).substitute(
        user=user, nginx_workers=cfg.nginx_workers,
        max_connections=min(cfg.max_connections, nofile - 256),
        nofile=nofile, run_dir=run_dir,
        servers="\n        ".join(f"server unix:{path};" for path in sockets),
        listen=f"{cfg.host}:{cfg.port}", keepalive_timeout=cfg.keepalive_timeout,
        max_body=cfg.max_body_bytes + BODY_SLACK)


def granian_argv(cfg: FrontConfig, *, bind: list[str]) -> list[str]:
    target = cfg.target or f"wsgi:create_{cfg.app}"
    return [str(BIN / "granian"), "--interface", "wsgi", "--http", "1",
            "--workers", str(cfg.workers), "--blocking-threads", str(cfg.threads),
            "--backlog", "2048", "--no-access-log",  # the app writes its own, escaped
            "--respawn-failed-workers", "--workers-kill-timeout", "10",
            *bind, *(["--factory"] if cfg.target is None else []), target]


@dataclass
class Front:
    """Both processes of one app's front; a context manager that stops them on exit."""

    cfg: FrontConfig
    env: dict[str, str]
    log_path: Path | None  # None: the terminal's (make run)
    run_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cardcoop-front-")))
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _nginx: subprocess.Popen[bytes] | None = None  # sent SIGQUIT: finish what is in flight

    @property
    def url(self) -> str:
        return f"http://{self.cfg.host}:{self.cfg.port}"

    @property
    def behind_nginx(self) -> bool:
        if self.cfg.use_nginx is None:
            return shutil.which("nginx") is not None
        return self.cfg.use_nginx

    def start(self, *, wait: bool = True) -> Front:
        env = dict(self.env)
        with contextlib.ExitStack() as opened:
            log = opened.enter_context(self.log_path.open("ab")) if self.log_path else None
            if self.behind_nginx:
                sockets = worker_sockets(self.run_dir, "app", self.cfg.workers)
                # The app sees nginx's X-Forwarded-For (set from the peer address, never passed
                # through from the client): one trusted hop.
                env.setdefault("CARDCOOP_TRUSTED_PROXIES", "1")
                one_worker = dataclasses.replace(self.cfg, workers=1)
                for path in sockets:
                    self._spawn(granian_argv(one_worker, bind=["--uds", str(path)]), env, log)
                conf = self.run_dir / "nginx.conf"
                conf.write_text(nginx_config(self.cfg, sockets=sockets, run_dir=self.run_dir))
                for path in sockets:
                    self._wait_for(path)
                self._nginx = self._spawn(["nginx", "-e", "stderr", "-p", str(self.run_dir),
                                           "-c", str(conf), "-g", "daemon off;"], env, log)
            else:
                if self.cfg.use_nginx is None:
                        print(f"deploy.front: nginx is not installed; {self.cfg.app} is served by "
                          "granian alone, without the slow-client defence (apt-get install "
                          "nginx-light)", file=sys.stderr, flush=True)
                self._spawn(granian_argv(self.cfg, bind=["--host", self.cfg.host, "--port",
                                                         str(self.cfg.port)]), env, log)
        if wait:
            self.wait_healthy()
        return self

    def _spawn(self, argv: list[str], env: dict[str, str], log: IO[bytes] | None
               ) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT if log else None,
            start_new_session=True)
        self.procs.append(proc)
        return proc

    def _wait_for(self, path: Path, timeout: float = 60) -> None:
        """Until granian accepts on its socket (the file appears a moment before it listens)."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.cfg.app} did not start:\n{self.log()[-3000:]}")
            with socket.socket(socket.AF_UNIX) as probe:
                try:
                    probe.connect(str(path))
                    return
                except OSError:
                    time.sleep(0.05)

    def _check_alive(self) -> None:
        for proc in self.procs:
            if proc.poll() is not None:
                name = "nginx" if proc is self._nginx else "granian"
                raise RuntimeError(f"{name} exited during start-up:\n"
                                   f"{self.log()[-3000:]}")

    def wait_healthy(self, timeout: float = 60, path: str = "/health") -> None:
        """Until every worker could answer: several health checks in a row succeed."""
        deadline = time.monotonic() + timeout
        ok = 0
        while ok < 2 * self.cfg.workers:
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.cfg.app} did not become healthy:\n"
                                   f"{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=5) as answer:  # noqa: S310
                    ok = ok + 1 if answer.status == 200 else 0
            except OSError:
                ok = 0
                time.sleep(0.1)

    def log(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def pids(self) -> list[int]:
        return [proc.pid for proc in self.procs]

    def running(self) -> bool:
        return all(proc.poll() is None for proc in self.procs)

    def stop(self) -> None:
        for proc in reversed(self.procs):  # nginx first: no request reaches a stopping app
            if proc.poll() is None:
                proc.send_signal(signal.SIGQUIT if proc is self._nginx else signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> Front:
        return self.start() if not self.procs else self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description="Serve one app: nginx in front of granian.")
    parser.add_argument("app", nargs="?", default="idp", choices=("idp", "portal", "business"))
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--print-nginx", action="store_true",
                        help="print the nginx configuration for an app whose workers listen on "
                             "/run/cardcoop/APP-0.sock, APP-1.sock, ...")
    args = parser.parse_args()
    cfg = FrontConfig(app=args.app, port=args.port, workers=args.workers, threads=args.threads)
    if args.print_nginx:
        sockets = worker_sockets(Path("/run/cardcoop"), args.app, cfg.workers)
        print(nginx_config(cfg, sockets=sockets,
                           run_dir=Path(f"/var/lib/cardcoop/nginx-{args.app}")))
        return 0
    front = Front(cfg, dict(os.environ), Path(tempfile.gettempdir()) / f"cardcoop-{args.app}.log")
    with front:
        print(f"{args.app} on {front.url} (log {front.log_path})", flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
