"""Load benchmark of sharing: a member's consent, the cooperative's ticket exchange and data fetch.

``make bench-share``: starts idp behind the production front (deploy/front.py: nginx in front of
granian) on a throw-away PostgreSQL database with the sandbox ВОСХОД registry, registers the
cooperative «voskhod» as an OAuth client (the CLI) and members with a card and an account there
(the real HTTP flow), then measures

- share-flow: POST /access/share-data (the member, Bearer) → POST /access/exchange-ticket
  (the cooperative, client_secret_post) → GET /access/get-encrypted-data/{username}/{coopname};
- token-endpoint: POST /access/exchange-ticket alone, on tickets issued in bulk just before
  (single use, 5 minutes: they are made per run, untimed).

Prints a Markdown table and writes JSON to bench/results/. The server setup, the seeding and the
clean-up (also after an error or Ctrl-C) are those of bench/auth_bench.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import secrets
import signal
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import redis
from psycopg import sql
from psycopg.types.json import Jsonb

from cardcoop import crypto
from cardcoop.coop import new_pkce

if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import auth_bench as ab
from deploy.front import Front, FrontConfig

COOP, REDIRECT, ORIGIN = "voskhod", "https://coop.example/callback", "https://coop.example"
SCOPE = "openid share"
SCHEMA = "card.coop/schema/v1"
SCENARIOS = ("share-flow", "token-endpoint")
STEPS = ("share-data", "exchange-ticket", "get-encrypted-data")
FLOW = "share-flow: whole flow"
ISSUE_BUDGET = 150.0  # seconds of ticket issuing at most: the first ticket must outlive the run


@dataclass
class Sharer:
    """A member with a card, an account in COOP and a ready /access/share-data body."""

    login: ab.Member
    access_token: str = ""
    verifier: str = ""
    username: str = ""
    body: dict[str, Any] = field(default_factory=dict)


@dataclass
class Coop:
    client_id: str
    secret: str


class StepError(RuntimeError):
    """A request that did not get its expected answer; the message is the error's label."""


class PoolEmpty(Exception):
    """token-endpoint: every pre-issued ticket is used."""


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=15.0, help="measured seconds per run")
    p.add_argument("--levels", default="10,50", help="concurrent clients, comma-separated")
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    p.add_argument("--workers", type=int, default=FrontConfig.workers,
                   help="granian processes")
    p.add_argument("--threads", type=int, default=FrontConfig.threads,
                   help="WSGI threads per granian process")
    p.add_argument("--members", type=int, default=None, help="default: the largest level")
    p.add_argument("--tickets", type=int, default=None,
                   help="token-endpoint tickets per run (default: estimated from share-flow)")
    p.add_argument("--database-url-base", default="postgresql://postgres@127.0.0.1:5432")
    args = p.parse_args()
    args.levels = [int(x) for x in args.levels.split(",")]
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    if set(args.scenarios) - set(SCENARIOS):
        p.error(f"--scenarios: choose from {', '.join(SCENARIOS)}")
    if min(args.workers, args.threads, *args.levels) < 1 or args.duration <= 0:
        p.error("--workers, --threads, --levels and --duration must be positive")
    # A share-flow client owns one member: its consents must not race each other.
    args.members = max(args.members or 0, max(args.levels))
    return args


# --- the server ------------------------------------------------------------------------------

@contextlib.contextmanager
def idp_server(args: argparse.Namespace, tmp: Path, log: Path, *, existing: str | None = None,
               before_start: Callable[[str], None] | None = None
               ) -> Iterator[tuple[dict[str, str], str, Coop, Front]]:
    """A database of its own (or `existing`, kept), the cooperative's client, the front; all
    undone on the way out. `before_start(database_url)` runs on the migrated database."""
    base = args.database_url_base
    name = existing or f"cardcoop_share_bench_{os.getpid()}"
    with contextlib.ExitStack() as undo:  # callbacks run last-in first-out
        undo.callback(ab.cleanup, "flush Redis DB 12",
                      lambda: redis.Redis.from_url(ab.REDIS_URL).flushdb())
        if existing is None:
            ab.admin_sql(base, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name))
            undo.callback(ab.cleanup, f"drop database {name}", lambda: ab.admin_sql(base, drop))
        # No CARDCOOP_VOSKHOD_CHAIN_URL (server_env drops CARDCOOP_*): the sandbox registry,
        # kept in the instance folder so that the CLI and every worker share its keys.
        env = ab.server_env(f"{base}/{name}", str(tmp / "instance"))
        ab.flask_cli(env, "db", "upgrade")
        if existing is not None:
            # Each run has a secret key of its own, and the last run's signing keys are
            # encrypted with its key: this run makes new ones (the bench owns the database).
            with psycopg.connect(env["CARDCOOP_DATABASE_URL"], autocommit=True) as conn:
                conn.execute("DELETE FROM idp_signing_keys")
        if before_start is not None:
            before_start(f"{base}/{name}")
        coop = Coop(COOP, client_secret(env))
        front = ab.start_server(env, ab.free_port(), args.workers, args.threads, log)
        undo.callback(ab.cleanup, "stop the server", front.stop)
        yield env, front.url, coop, front


def client_secret(env: dict[str, str]) -> str:
    """COOP's client, registered with the CLI; a kept database may hold it already: then a new
    secret for it."""
    try:
        printed = ab.flask_cli(env, "clients", "create", COOP, "--redirect-uri", REDIRECT,
                               "--iframe-origin", ORIGIN)
    except RuntimeError:
        printed = ab.flask_cli(env, "clients", "rotate-secret", COOP)
        # A seeded database (bench/seed.py) made the client with its own addresses; the CLI
        # has no command to change them, so the bench sets its own on its own client.
        with psycopg.connect(env["CARDCOOP_DATABASE_URL"], autocommit=True) as conn:
            conn.execute("UPDATE idp_oauth_clients SET redirect_uris = %s, iframe_origins = %s"
                         " WHERE client_id = %s", (Jsonb([REDIRECT]), Jsonb([ORIGIN]), COOP))
    found = re.search(r"client_secret:\s*(\S+)", printed)
    if found is None:
        raise RuntimeError(f"no client_secret in the CLI's answer:\n{printed}")
    return found[1]


# --- requests --------------------------------------------------------------------------------

async def call(http: aiohttp.ClientSession, method: str, url: str, want: int, *,
               body: dict[str, Any] | None = None, token: str | None = None,
               what: str | None = None) -> Any:
    """One request; StepError (labelled `what`, else the URL) unless the status is `want`."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    label = what or f"{method} {url}"
    try:
        async with http.request(method, url, json=body, headers=headers,
                                timeout=ab.TIMEOUT) as resp:
            data = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise StepError(f"{label}: {type(exc).__name__}") from None
    if resp.status != want:
        code = (data.get("code") or data.get("error") or "") if isinstance(data, dict) else ""
        raise StepError(f"{label}: {resp.status} {code}".strip())
    return data


def authorization_request(challenge: str) -> dict[str, str]:
    return {"response_type": "code", "client_id": COOP, "redirect_uri": REDIRECT,
            "scope": SCOPE, "state": secrets.token_urlsafe(8), "code_challenge": challenge,
            "code_challenge_method": "S256"}


async def refresh(http: aiohttp.ClientSession, base: str, sharers: list[Sharer]) -> None:
    """Fresh access tokens (they live 15 minutes): before every run."""
    async def one(s: Sharer) -> None:
        done = await call(http, "POST", f"{base}/auth/refresh-token", 200,
                          body={"refreshToken": s.login.refresh_token})
        s.login.refresh_token, s.access_token = done["refreshToken"], done["accessToken"]

    await asyncio.gather(*(one(s) for s in sharers))


async def seed(http: aiohttp.ClientSession, base: str, env: dict[str, str], count: int
               ) -> list[Sharer]:
    """Members (auth_bench's registration), each with a card, an account in COOP and the share
    body its page would post: the JWE made once, to the key /access/prepare-share-data names."""
    sharers = [Sharer(m) for m in await ab.seed(http, base, env, count)]
    await refresh(http, base, sharers)
    gate = asyncio.Semaphore(16)

    async def card(s: Sharer) -> crypto.CoopAccount:
        card_key, account = crypto.generate_card_key(), crypto.new_coop_account(COOP)
        personal = {"person_type": "individual", "last_name": "Иванов", "first_name": "Иван",
                    "email": s.login.email}
        async with gate:
            await call(http, "POST", f"{base}/card/issue", 201, token=s.access_token, body={
                "wrapped_card_key": crypto.wrap_card_key(crypto.generate_card_key(), card_key),
                "encrypted_personal_data": crypto.encrypt_personal_data(card_key, personal,
                                                                        SCHEMA),
                "meta": {"version": 1, "schema": SCHEMA}})
            await call(http, "POST", f"{base}/card/add-account", 201, token=s.access_token,
                       body={"coopname": COOP, "username": account.username,
                             "public_key": account.public_key,
                             "encrypted_account": crypto.encrypt_account(card_key, account)})
        return account

    accounts = await asyncio.gather(*(card(s) for s in sharers))
    recipient: Any = None
    for s, account in zip(sharers, accounts, strict=True):
        s.verifier, challenge = new_pkce()
        request = {"coopname": COOP, **authorization_request(challenge)}
        if recipient is None:
            prepared = await call(http, "POST", f"{base}/access/prepare-share-data", 200,
                                  body=request, token=s.access_token)
            recipient = prepared["public_key"] or prepared["encryption_jwk"]
        shared = {"last_name": "Иванов"}
        plaintext = json.dumps({"v": 1, "coopname": COOP, "username": account.username,
                                "public_key": account.public_key, "schema": SCHEMA,
                                "data": shared, "issued_at": datetime.now(UTC).isoformat()})
        s.username = account.username
        s.body = request | {"username": account.username, "public_key": account.public_key,
                            "encrypted_data": crypto.encrypt_share(recipient, plaintext.encode()),
                            "shared_fields": sorted(shared)}
    return sharers


async def share(http: aiohttp.ClientSession, base: str, s: Sharer) -> str:
    answer = await call(http, "POST", f"{base}/access/share-data", 200, body=s.body,
                        token=s.access_token, what="share-data")
    return str(answer["ticket"])


async def exchange(http: aiohttp.ClientSession, base: str, coop: Coop, s: Sharer,
                   ticket: str) -> str:
    body = {"ticket": ticket, "code_verifier": s.verifier, "redirect_uri": REDIRECT,
            "client_id": coop.client_id, "client_secret": coop.secret}
    answer = await call(http, "POST", f"{base}/access/exchange-ticket", 200, body=body,
                        what="exchange-ticket")
    return str(answer["access_token"])


async def flow(http: aiohttp.ClientSession, base: str, coop: Coop, s: Sharer) -> list[float]:
    """One share-flow iteration; the milliseconds of each step."""
    marks = [time.perf_counter()]
    ticket = await share(http, base, s)
    marks.append(time.perf_counter())
    token = await exchange(http, base, coop, s, ticket)
    marks.append(time.perf_counter())
    got = await call(http, "GET", f"{base}/access/get-encrypted-data/{s.username}/{COOP}", 200,
                     token=token, what="get-encrypted-data")
    marks.append(time.perf_counter())
    if got.get("encrypted_data") != s.body["encrypted_data"]:
        raise StepError("get-encrypted-data: not the shared JWE")
    return [(b - a) * 1000 for a, b in pairwise(marks)]


async def issue_tickets(http: aiohttp.ClientSession, base: str, sharers: list[Sharer],
                        count: int) -> tuple[deque[tuple[Sharer, str]], Counter[str]]:
    """Tickets for token-endpoint, every member consenting again and again (untimed)."""
    pool: deque[tuple[Sharer, str]] = deque()
    give_up = time.perf_counter() + ISSUE_BUDGET

    async def producer(s: Sharer) -> None:
        while len(pool) < count and time.perf_counter() < give_up:
            try:
                pool.append((s, await share(http, base, s)))
            except StepError as exc:  # not what is measured; reported, then skipped
                failed[str(exc)] += 1

    failed: Counter[str] = Counter()
    await asyncio.gather(*(producer(s) for s in sharers))
    return pool, failed


# --- measuring -------------------------------------------------------------------------------

async def drive(level: int, duration: float, action: Callable[[int], Awaitable[list[float]]]
                ) -> tuple[list[list[float]], Counter[str], float]:
    """`level` clients repeating `action` (client number -> step ms) for warm-up + duration.
    Returns the step times of the actions inside the measured window, the errors of the whole
    run, and the window's length (shorter when the action ran out of work: PoolEmpty)."""
    samples: list[list[float]] = []
    errors: Counter[str] = Counter()
    measure_from = time.perf_counter() + ab.WARMUP
    stop_at = measure_from + duration
    ran_dry = False

    async def client(me: int) -> None:
        nonlocal ran_dry
        while time.perf_counter() < stop_at and not ran_dry:
            started = time.perf_counter()
            try:
                steps = await action(me)
            except PoolEmpty:
                ran_dry = True
                return
            except StepError as exc:
                errors[str(exc)] += 1
                continue
            if started >= measure_from and time.perf_counter() <= stop_at:
                samples.append(steps)

    await asyncio.gather(*(client(i) for i in range(level)))
    window = (min(time.perf_counter(), stop_at) if ran_dry else stop_at) - measure_from
    if window <= 0:
        raise RuntimeError("the ticket pool ran dry during the warm-up; raise --tickets")
    return samples, errors, window


def row(label: str, level: int, values_ms: list[float], window: float, errors: int
        ) -> dict[str, Any]:
    values = sorted(values_ms)
    return {"scenario": label, "clients": level, "requests": len(values),
            "rps": len(values) / window, "p50_ms": ab.percentile(values, 50),
            "p95_ms": ab.percentile(values, 95), "p99_ms": ab.percentile(values, 99),
            "mean_ms": sum(values) / len(values) if values else math.nan, "errors": errors,
            "window_s": round(window, 2)}


async def share_flow(http: aiohttp.ClientSession, base: str, coop: Coop, sharers: list[Sharer],
                     level: int, duration: float) -> list[dict[str, Any]]:
    samples, errors, window = await drive(
        level, duration, lambda me: flow(http, base, coop, sharers[me]))
    rows = [row(FLOW, level, [sum(s) for s in samples], window, sum(errors.values()))]
    rows[0]["error_kinds"] = dict(errors)
    rows += [row(f"share-flow: {step}", level, [s[i] for s in samples], window,
                 sum(n for kind, n in errors.items() if kind.startswith(step)))
             for i, step in enumerate(STEPS)]
    return rows


def tickets_needed(args: argparse.Namespace, level: int, done: list[dict[str, Any]]) -> int:
    """Enough tickets for warm-up + duration: exchange-only throughput guessed from share-flow
    (flows/s × flow time / exchange time), doubled for safety."""
    if args.tickets:
        return int(args.tickets)
    by = {r["scenario"]: r for r in done if r["clients"] == level}
    whole, alone = by.get(FLOW), by.get("share-flow: exchange-ticket")
    if not whole or not alone or not alone["requests"]:
        return 5000
    rate = float(whole["rps"] * whole["mean_ms"] / alone["mean_ms"])
    return max(500, math.ceil(2 * rate * (ab.WARMUP + float(args.duration))))


async def token_endpoint(http: aiohttp.ClientSession, base: str, coop: Coop,
                         sharers: list[Sharer], level: int, duration: float, count: int
                         ) -> dict[str, Any]:
    began = time.perf_counter()
    pool, failed = await issue_tickets(http, base, sharers, count)
    issued = len(pool)
    print(f"    {issued} tickets issued in {time.perf_counter() - began:.0f} s"
          + (f"; failed: {dict(failed)}" if failed else ""), flush=True)

    async def one(_me: int) -> list[float]:
        if not pool:
            raise PoolEmpty
        s, ticket = pool.popleft()
        started = time.perf_counter()
        await exchange(http, base, coop, s, ticket)
        return [(time.perf_counter() - started) * 1000]

    samples, errors, window = await drive(level, duration, one)
    result = row("token-endpoint: exchange-ticket", level, [s[0] for s in samples], window,
                 sum(errors.values()))
    result |= {"error_kinds": dict(errors), "tickets": issued,
               "tickets_left": len(pool), "issue_errors": dict(failed)}
    return result


async def benchmark(args: argparse.Namespace, env: dict[str, str], base: str, coop: Coop
                    ) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as http:
        print(f"seeding {args.members} members with a card and a {COOP} account…", flush=True)
        sharers = await seed(http, base, env, args.members)
    results: list[dict[str, Any]] = []
    for scenario in (s for s in SCENARIOS if s in args.scenarios):
        for level in args.levels:
            print(f"  {scenario} × {level} clients ({ab.WARMUP:g} s warm-up + "
                  f"{args.duration:g} s)", flush=True)
            # Idle connections are dropped before the front's keep-alive closes them: a request
            # sent on a connection the server is closing would fail as an error.
            connector = aiohttp.TCPConnector(limit=max(level, 32), keepalive_timeout=1.0)
            async with aiohttp.ClientSession(connector=connector) as http:
                await refresh(http, base, sharers)
                if scenario == "share-flow":
                    results += await share_flow(http, base, coop, sharers, level, args.duration)
                else:
                    count = tickets_needed(args, level, results)
                    results.append(await token_endpoint(http, base, coop, sharers, level,
                                                        args.duration, count))
    return results


# --- the whole run ---------------------------------------------------------------------------

def report(args: argparse.Namespace, results: list[dict[str, Any]], env_line: str,
           log_errors: list[str], stamp: str) -> None:
    print(f"\nEnvironment: {env_line}")
    print(f"Notes: sandbox ВОСХОД registry; rate limits OFF (one client IP); the load generator "
          f"runs on the same {os.cpu_count()} cores as the server, so both compete for CPU. "
          f"'{FLOW}' rows count complete flows (req/s = flows/s, latency = the 3 steps); the "
          "step rows are the steps of those flows. token-endpoint exchanges tickets issued "
          f"(untimed) just before its run. After a {ab.WARMUP:g} s warm-up; errors count the "
          "whole run.\n")
    print(ab.markdown_table(results))
    for r in results:
        if r.get("error_kinds"):
            print(f"  {r['scenario']} × {r['clients']}: errors {r['error_kinds']}")
        if r["window_s"] < args.duration - 0.05:
            print(f"  {r['scenario']} × {r['clients']}: the ticket pool ran dry; measured "
                  f"{r['window_s']:g} s, not {args.duration:g} s")
    ab.RESULTS.mkdir(parents=True, exist_ok=True)
    out = ab.RESULTS / f"{stamp}-share.json"
    out.write_text(json.dumps({"environment": env_line, "duration_s": args.duration,
                               "warmup_s": ab.WARMUP, "members": args.members,
                               "ratelimit_enabled": False, "server_log_errors": log_errors,
                               "results": results}, indent=2))
    print(f"\nJSON: {out.relative_to(ab.ROOT)}")


def main() -> int:
    args = parse_args()
    pg_version, redis_version = ab.service_versions(args.database_url_base)
    signal.signal(signal.SIGTERM, ab.interrupt)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    tmp = Path(tempfile.mkdtemp(prefix="cardcoop-share-bench-"))
    log, kept = tmp / "server.log", ab.RESULTS / f"{stamp}-share-server.log"
    env_line = (f"{os.cpu_count()} cores, nginx + granian {args.workers} workers × "
                f"{args.threads} threads, Python {platform.python_version()}, PostgreSQL "
                f"{pg_version}, Redis {redis_version}")
    try:
        with idp_server(args, tmp, log) as (env, base, coop, _front):
            results = asyncio.run(benchmark(args, env, base, coop))
    except KeyboardInterrupt:
        print("\ninterrupted; cleaned up", file=sys.stderr)
        return 130
    except ab.RUN_ERRORS as exc:
        return ab.report_failure(exc, log)
    finally:
        log_errors = ab.keep_log(log, kept, tmp)
    report(args, results, env_line, log_errors, stamp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
