"""One wrk run with a bench/wrk script, and the numbers its done() hook prints.

The scripts take their configuration from BENCH_* environment variables (bench/wrk/common.lua)
and print one line ``BENCH {json}``; a script that failed to load leaves wrk sending plain
``GET /``, so a missing line is an error here, never a silent result.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WRK_DIR = Path(__file__).resolve().parent / "wrk"
THREADS = 2


@dataclass
class Request:
    """What the script sends: `{1}`, `{2}`, ... are the fields of a pool line."""

    script: str  # bearer.lua, single_use.lua or rotate.lua
    path: str
    method: str = "GET"
    auth: str | None = None
    body: str | None = None
    content_type: str = "application/json"
    extract: str | None = None  # rotate.lua: the Lua pattern of the new token in the answer


def write_pool(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def run(url: str, req: Request, *, conns: int, seconds: float, pool: Path,
        pool_out: Path | None = None, extra_env: dict[str, str] | None = None
        ) -> dict[str, Any]:
    """wrk -t2 -c`conns` for `seconds`; the done() line as a dict (latencies in ms)."""
    env = os.environ | (extra_env or {}) | {
        "BENCH_POOL": str(pool), "BENCH_THREADS": str(THREADS), "BENCH_CONNS": str(conns),
        "BENCH_METHOD": req.method, "BENCH_PATH": req.path,
    }
    for name, value in (("BENCH_AUTH", req.auth), ("BENCH_BODY", req.body),
                        ("BENCH_CONTENT_TYPE", req.content_type),
                        ("BENCH_EXTRACT", req.extract),
                        ("BENCH_POOL_OUT", str(pool_out) if pool_out else None)):
        if value is not None:
            env[name] = value
    threads = min(THREADS, conns)
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds:g}s", "--timeout", "10s",
            "-s", str(WRK_DIR / req.script), url]
    with tempfile.TemporaryDirectory(prefix="bench-dry-") as dry_dir:
        env["BENCH_DRY_DIR"] = dry_dir
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,  # noqa: S603 (fixed argv)
                                stderr=subprocess.PIPE, text=True)
        try:
            # wrk's main thread sleeps -d whatever its threads do: once every thread's pool
            # is dry, SIGINT ends the sleep, and the duration wrk reports is the true one.
            while proc.poll() is None and len(os.listdir(dry_dir)) < threads:
                time.sleep(0.02)
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=seconds + 60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    done = subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None or ".lua:" in done.stderr + done.stdout:
        raise RuntimeError(f"wrk {req.script} {url}{req.path} failed ({done.returncode}):\n"
                           f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    raw: dict[str, Any] = json.loads(line.removeprefix("BENCH "))
    duration = raw["duration_us"] / 1e6
    http_errors = max(raw["status_errors"], raw["bad"])  # bad (scripts' hooks) ⊇ status ≥ 400
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    ok = max(0, raw["requests"] - http_errors)
    return {"requests": raw["requests"], "ok": ok, "seconds": round(duration, 3),
            "rps": ok / duration if duration else 0.0,
            "p50_ms": raw["p50_us"] / 1000, "p95_ms": raw["p95_us"] / 1000,
            "p99_ms": raw["p99_us"] / 1000, "max_ms": raw["max_us"] / 1000,
            "http_errors": http_errors, "socket_errors": socket_errors,
            "socket_error_kinds": {k: raw[k] for k in ("connect", "read", "write", "timeout")},
            "pool_ran_dry": raw["dry_threads"] > 0, "pool_left": raw["pool_left"]}
