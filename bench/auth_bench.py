"""Load benchmark of idp's hottest auth endpoints: /auth/refresh-token and /auth/initiate-login.

``python bench/auth_bench.py``: starts idp behind the production front (deploy/front.py: nginx
in front of granian) on a throw-away PostgreSQL database, registers members through the real
HTTP flow, measures each scenario at each concurrency level, prints a Markdown
table and writes JSON to bench/results/. The database, the server and Redis DB 12 are cleaned
up at the end, also after an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from base64 import urlsafe_b64encode
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import redis
from psycopg import sql

if __package__ in (None, ""):  # run as a script: make `deploy` (and `bench`) importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from deploy.front import Front, FrontConfig

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin: flask lives next to python
RESULTS = ROOT / "bench" / "results"
REDIS_URL = "redis://127.0.0.1:6379/12"  # a DB of its own, so that flushing it harms nobody
WARMUP = 3.0  # seconds per run not counted: connections open, caches and pools fill
TIMEOUT = aiohttp.ClientTimeout(total=10)  # a stuck request counts as an error, not a hang
SCENARIOS = ("refresh-token", "initiate-login")
# The app's logging writes "... ERROR cardcoop...: " (common/logs.py); nginx "[error]"/"[crit]"
# (deploy/front.py puts both in one log).
ERROR_MARKERS = ("Traceback", "ERROR", "CRITICAL", "WARNING", "[error]", "[crit]", "[alert]",
                 "[emerg]")


@dataclass
class Member:
    email: str
    hash_key: str
    refresh_token: str = ""


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=15.0, help="measured seconds per run")
    p.add_argument("--levels", default="50,200", help="concurrent clients, comma-separated")
    p.add_argument("--workers", type=int, default=FrontConfig.workers, help="granian processes")
    p.add_argument("--threads", type=int, default=FrontConfig.threads,
                   help="WSGI threads per granian process")
    p.add_argument("--members", type=int, default=None, help="default: the largest level")
    p.add_argument("--database-url-base", default="postgresql://postgres@127.0.0.1:5432")
    args = p.parse_args()
    args.levels = [int(x) for x in args.levels.split(",")]
    if min(args.workers, args.threads, *args.levels) < 1 or args.duration <= 0:
        p.error("--workers, --threads, --levels and --duration must be positive")
    # Each refresh-token client owns one member's token chain, so there must be enough members.
    args.members = max(args.members or 0, max(args.levels))
    return args


# --- the services around idp ----------------------------------------------------------------

def service_versions(base: str) -> tuple[str, str]:
    """PostgreSQL and Redis versions; also the early, clear failure when either is down."""
    try:
        with psycopg.connect(f"{base}/postgres", connect_timeout=5) as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    except psycopg.OperationalError as exc:
        sys.exit(f"PostgreSQL is not reachable at {base} ({exc}).\n"
                 "Start it or pass --database-url-base postgresql://user@host:port")
    try:
        info: dict[str, Any] = redis.Redis.from_url(REDIS_URL, socket_timeout=5).info("server")  # type: ignore[assignment]
        rd = str(info["redis_version"])
    except redis.RedisError as exc:
        sys.exit(f"Redis is not reachable at {REDIS_URL} ({exc}).")
    return pg, rd


def admin_sql(base: str, statement: sql.Composed) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction, hence autocommit.
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)


def server_env(db_url: str, instance: str) -> dict[str, str]:
    # Inherited CARDCOOP_* variables (an SMTP URL, say) would change what is measured: drop them.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARDCOOP_")}
    return env | {
        "CARDCOOP_DATABASE_URL": db_url, "CARDCOOP_REDIS_URL": REDIS_URL,
        "CARDCOOP_SECRET_KEY": secrets.token_urlsafe(36),  # 48 characters
        "CARDCOOP_KDF_ITERATIONS": "100000", "CARDCOOP_DEV_MAILBOX": "true",
        # All traffic comes from 127.0.0.1: per-IP limits would measure the limiter, not idp.
        "CARDCOOP_RATELIMIT_ENABLED": "false", "CARDCOOP_INSTANCE_PATH": instance,
    }


def flask_cli(env: dict[str, str], *args: str) -> str:
    argv = [str(BIN / "flask"), "--app", "wsgi:idp", *args]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True,  # noqa: S603 (fixed argv from the venv, no shell)
                          timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str], port: int, workers: int, threads: int, log: Path
                 ) -> Front:
    """The production front (deploy/front.py), healthy on return; stopped again on failure."""
    front = Front(FrontConfig(app="idp", port=port, workers=workers, threads=threads), env, log)
    try:
        return front.start()
    except BaseException:
        front.stop()
        raise


def server_errors(log: Path) -> list[str]:
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return [line for line in lines if any(m in line for m in ERROR_MARKERS)]


# What a benchmark run can fail with: reported with the server log's tail, never a traceback.
RUN_ERRORS = (RuntimeError, psycopg.Error, aiohttp.ClientError, TimeoutError,
              subprocess.TimeoutExpired)


def report_failure(exc: BaseException, log: Path) -> int:
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    print(f"benchmark failed: {type(exc).__name__}: {exc}\nserver log (tail):\n{tail}",
          file=sys.stderr)
    return 1


def keep_log(log: Path, kept: Path, tmp: Path, *, shown: int = 20) -> list[str]:
    """Copy the server log to bench/results/, drop the run's temporary folder, and print (and
    return) the log's error and warning lines."""
    log_errors = server_errors(log)
    if log.exists():
        RESULTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, kept)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nServer log: {len(log_errors)} error/warning lines "
          f"({kept.relative_to(ROOT)})" + "".join(f"\n  {e}" for e in log_errors[:shown]))
    return log_errors


# --- seeding through the real registration flow ---------------------------------------------

async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any], want: int) -> Any:
    async with http.post(url, json=body, timeout=TIMEOUT) as resp:
        data = await resp.json(content_type=None)
        if resp.status != want:
            raise RuntimeError(f"POST {url}: {resp.status} {data}")
        return data


def deliver_all_mail(env: dict[str, str]) -> None:
    # `worker --once` delivers one batch (20 rows), so repeat until a run sends nothing.
    while int(re.search(r"sent (\d+)", flask_cli(env, "worker", "--once"))[1]):  # type: ignore[index]
        pass


async def seed(http: aiohttp.ClientSession, base: str, env: dict[str, str], count: int
               ) -> list[Member]:
    members = [Member(f"bench-{secrets.token_hex(6)}@example.com",
                      urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode())
               for _ in range(count)]
    gate = asyncio.Semaphore(16)  # Argon2id in complete-registration: don't queue 200 at once

    async def initiate(m: Member) -> str:
        async with gate:
            body = {"email": m.email, "privacy_accepted": True}
            return str((await post(http, f"{base}/auth/initiate-registration", body, 200))["uuid"])

    async def finish(m: Member, attempt: str) -> None:
        async with gate:
            async with http.get(f"{base}/dev/mailbox.json", params={"to": m.email},
                                timeout=TIMEOUT) as resp:
                subjects = [msg["subject"] for msg in (await resp.json())["messages"]]
            code = next((c[1] for s in subjects if (c := re.search(r"\b(\d{6})\b", s))), None)
            if code is None:
                raise RuntimeError(f"no code in the dev mailbox for {m.email}")
            await post(http, f"{base}/auth/verify-email",
                       {"email": m.email, "code": code, "uuid": attempt}, 200)
            done = await post(http, f"{base}/auth/complete-registration",
                              {"email": m.email, "hashKey": m.hash_key, "uuid": attempt}, 201)
            m.refresh_token = done["refreshToken"]

    attempts = await asyncio.gather(*(initiate(m) for m in members))
    await asyncio.to_thread(deliver_all_mail, env)
    await asyncio.gather(*(finish(m, a) for m, a in zip(members, attempts, strict=True)))
    return members


async def relogin(http: aiohttp.ClientSession, base: str, m: Member) -> None:
    """A failed refresh may have rotated the token server-side; start a new chain."""
    started = await post(http, f"{base}/auth/initiate-login", {"email": m.email}, 200)
    done = await post(http, f"{base}/auth/complete-login",
                      {"email": m.email, "hashKey": m.hash_key, "uuid": started["uuid"]}, 200)
    m.refresh_token = done["refreshToken"]


# --- measuring ------------------------------------------------------------------------------

async def one_request(http: aiohttp.ClientSession, base: str, scenario: str, me: Member,
                      pool: list[Member]) -> str | None:
    """Send one request of the scenario; None when it succeeded, else a short error label."""
    if scenario == "refresh-token":
        url, body = f"{base}/auth/refresh-token", {"refreshToken": me.refresh_token}
    else:  # half known members, half unknown emails (which get a decoy salt)
        email = (secrets.choice(pool).email if secrets.randbelow(2)
                 else f"nobody-{secrets.token_hex(6)}@example.com")
        url, body = f"{base}/auth/initiate-login", {"email": email}
    try:
        async with http.post(url, json=body, timeout=TIMEOUT) as resp:
            data = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return type(exc).__name__
    if resp.status != 200:
        return f"{resp.status} {data.get('code', '') if isinstance(data, dict) else ''}".strip()
    if scenario == "refresh-token":
        me.refresh_token = data["refreshToken"]
    return None


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[max(0, math.ceil(len(sorted_values) * p / 100) - 1)]  # nearest rank


async def measure(base: str, scenario: str, members: list[Member], level: int,
                  duration: float) -> dict[str, Any]:
    pool = members[:level]
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=level)
    async with aiohttp.ClientSession(connector=connector) as http:
        measure_from = time.perf_counter() + WARMUP
        stop_at = measure_from + duration

        async def client(me: Member) -> None:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                error = await one_request(http, base, scenario, me, pool)
                ended = time.perf_counter()
                if error:
                    errors[error] += 1  # whole run, warm-up included: no error goes unseen
                    if scenario == "refresh-token":
                        try:
                            await relogin(http, base, me)  # untimed; the chain is broken
                        except (RuntimeError, aiohttp.ClientError, TimeoutError):
                            errors["re-login failed; client stopped"] += 1
                            return
                elif started >= measure_from and ended <= stop_at:
                    latencies.append((ended - started) * 1000)

        await asyncio.gather(*(client(m) for m in pool))
    latencies.sort()
    return {"scenario": scenario, "clients": level, "requests": len(latencies),
            "rps": len(latencies) / duration, "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95), "p99_ms": percentile(latencies, 99),
            "errors": sum(errors.values()), "error_kinds": dict(errors)}


async def benchmark(args: argparse.Namespace, env: dict[str, str], base: str
                    ) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as http:
        print(f"seeding {args.members} members through the registration API…", flush=True)
        members = await seed(http, base, env, args.members)
    results = []
    for scenario in SCENARIOS:
        for level in args.levels:
            print(f"  {scenario} × {level} clients ({WARMUP:g} s warm-up + {args.duration:g} s)",
                  flush=True)
            results.append(await measure(base, scenario, members, level, args.duration))
    return results


# --- reporting and the whole run ------------------------------------------------------------

def markdown_table(results: list[dict[str, Any]]) -> str:
    rows = ["| scenario | clients | ok requests | req/s | p50 ms | p95 ms | p99 ms | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    rows += [f"| {r['scenario']} | {r['clients']} | {r['requests']} | {r['rps']:.1f} "
             f"| {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} |"
             for r in results]
    return "\n".join(rows)


def interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM gets the same clean-up as Ctrl-C


def cleanup(what: str, step: Any) -> None:
    # One failed step (PostgreSQL gone meanwhile, say) must not skip the others.
    try:
        step()
    except Exception as exc:
        print(f"clean-up: could not {what}: {exc}", file=sys.stderr)


def main() -> int:
    args = parse_args()
    pg_version, redis_version = service_versions(args.database_url_base)
    signal.signal(signal.SIGTERM, interrupt)
    name = f"cardcoop_bench_{os.getpid()}"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    tmp = Path(tempfile.mkdtemp(prefix="cardcoop-bench-"))
    log, front, created = tmp / "server.log", None, False
    env_line = (f"{os.cpu_count()} cores, nginx + granian {args.workers} workers × "
                f"{args.threads} threads, "
                f"Python {platform.python_version()}, PostgreSQL {pg_version}, "
                f"Redis {redis_version}")
    try:
        admin_sql(args.database_url_base,
                  sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created = True
        env = server_env(f"{args.database_url_base}/{name}", str(tmp / "instance"))
        flask_cli(env, "db", "upgrade")
        port = free_port()
        front = start_server(env, port, args.workers, args.threads, log)
        results = asyncio.run(benchmark(args, env, front.url))
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    except (RuntimeError, psycopg.Error, aiohttp.ClientError, TimeoutError,
            subprocess.TimeoutExpired) as exc:
        print(f"benchmark failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        if log.exists():
            print("server log (tail):\n" + log.read_text(errors="replace")[-3000:],
                  file=sys.stderr)
        return 1
    finally:
        if front:
            cleanup("stop the server", front.stop)
        if created:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            cleanup(f"drop database {name}", lambda: admin_sql(args.database_url_base, drop))
        cleanup("flush Redis DB 12", lambda: redis.Redis.from_url(REDIS_URL).flushdb())
        errors = server_errors(log)
        if log.exists():  # kept for reading afterwards; bench/results/ is gitignored
            RESULTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, RESULTS / f"{stamp}-server.log")
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"\nServer log: {len(errors)} error/warning lines "
              f"(bench/results/{stamp}-server.log)" + "".join(f"\n  {e}" for e in errors[:20]))

    print(f"\nEnvironment: {env_line}")
    print("Notes: rate limits OFF (CARDCOOP_RATELIMIT_ENABLED=false; all load comes from one IP);"
          f" the load generator runs on the same {os.cpu_count()} cores as the server, so both"
          " compete for CPU; latencies and req/s cover successful requests after a"
          f" {WARMUP:g} s warm-up; errors count the whole run.\n")
    print(markdown_table(results))
    for r in results:
        if r["error_kinds"]:
            print(f"  {r['scenario']} × {r['clients']}: errors {r['error_kinds']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{stamp}.json"
    out.write_text(json.dumps({"environment": env_line, "duration_s": args.duration,
                               "warmup_s": WARMUP, "members": args.members,
                               "ratelimit_enabled": False, "server_log_errors": errors,
                               "results": results}, indent=2))
    print(f"\nJSON: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
