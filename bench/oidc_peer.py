"""The peer of the side-by-side benchmark: panva's oidc-provider (bench/peer/server.js).

The package is pinned in bench/peer/package-lock.json; ``npm ci`` runs when node_modules is
missing or older than the lock file. The node process mints the credentials the runs spend and
writes them to a JSON file before it listens (see server.js).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PEER = Path(__file__).resolve().parent / "peer"
STAMP = PEER / "node_modules" / ".installed"  # touched after a successful npm ci


def ensure_installed() -> None:
    lock = PEER / "package-lock.json"
    if STAMP.exists() and STAMP.stat().st_mtime >= lock.stat().st_mtime:
        return
    print("peer: npm ci (bench/peer)…", flush=True)
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],  # noqa: S607 (npm from PATH, as the Makefile's widget step)
                          cwd=PEER, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"npm ci in bench/peer failed:\n{done.stderr[-3000:]}")
    STAMP.touch()


def versions() -> tuple[str, str]:
    """node's version and the installed oidc-provider's."""
    node = subprocess.run(["node", "--version"], capture_output=True, text=True,  # noqa: S607
                          check=True).stdout.strip().lstrip("v")
    package = json.loads((PEER / "node_modules" / "oidc-provider" / "package.json").read_text())
    return node, str(package["version"])


@dataclass
class Peer:
    port: int
    workdir: Path
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    minted: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, access: int, codes: int, refresh: int, timeout: float = 180) -> Peer:
        out = self.workdir / "peer-minted.json"
        argv = ["node", "server.js", "--port", str(self.port), "--out", str(out),
                "--access", str(access), "--codes", str(codes), "--refresh", str(refresh)]
        # production: no development-only checks and warnings on the hot paths
        env = os.environ | {"NODE_ENV": "production"}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(argv, cwd=PEER, env=env, stdout=log,  # noqa: S603 (fixed argv)
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while "READY" not in self.log():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the peer did not start:\n{self.log()[-3000:]}")
            time.sleep(0.1)
        self.minted = json.loads(out.read_text())
        out.unlink()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
