"""The specification's load (issue #10): 10,000 open keep-alive connections, a mixed profile.

``make bench-load``: idp behind the production front (deploy/front.py) on a throw-away
PostgreSQL database (or --database NAME, kept), members with cards, accounts and consents
(bench/share_bench.py's seeding), then wrk holds 10,000 connections (2 threads,
bench/wrk/mixed.lua) that each send a request now and then (delay(): a pause around
connections / rate), so that the total is the stated rate. The mix is what members and
cooperatives do: refresh, card read, consent + share, ticket exchange (of the tickets those
shares return), the cooperative's fetch of the shared data, userinfo; sign-ins (Argon2id)
run alongside at a small steady rate from aiohttp. The rate steps up (--rates); each step
reports the achieved rate, p50/p95/p99 and errors, and the summary names the highest rate with
p95 < 200 ms and no errors. Writes JSON to bench/results/; everything is cleaned up also after
an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import psutil

if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import auth_bench as ab
from bench import cpu, signins, wrk_run
from bench import share_bench as sb
from bench.side_by_side import DB_PROGRAMS, coop_tokens, form, refresh_members
from cardcoop.coop import new_pkce
from deploy.front import FrontConfig

GOAL_P95_MS = 200.0  # the specification: 95% of API answers under 200 ms
# Reads dominate; a consent is rare next to them (and costs idp the most: the share's checks).
MIX = "userinfo=25,fetch=25,card=20,refresh=20,share=5,exchange=5"
# nginx closes a connection that sends nothing for client_header_timeout (30 s) after it opens,
# or keepalive_timeout (75 s) between requests: by design, not an error, but wrk would count the
# close as a read error. So a step's pause (connections / rate) stays under 30 s: at 10,000
# connections the rates start at 400/s.
MAX_PAUSE_S = 30.0


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--connections", type=int, default=10_000)
    p.add_argument("--rates", default="400,800,1200,1600,2400",
                   help="total requests per second, one step each, comma-separated")
    p.add_argument("--step-seconds", type=float, default=30.0)
    p.add_argument("--mix", default=MIX, help=f"operation weights (default {MIX})")
    p.add_argument("--signins-per-second", type=float, default=2.0)
    p.add_argument("--members", type=int, default=200, help="half read, half share")
    p.add_argument("--keep-going", action="store_true", help="run every step, even after one fails")
    p.add_argument("--workers", type=int, default=FrontConfig.workers, help="granian processes")
    p.add_argument("--threads", type=int, default=FrontConfig.threads,
                   help="WSGI threads per granian process")
    p.add_argument("--database", default=None, metavar="NAME",
                   help="an existing (e.g. seeded) database instead of a throw-away one; kept")
    p.add_argument("--database-url-base", default="postgresql://postgres@127.0.0.1:5432")
    args = p.parse_args()
    args.rates = [int(x) for x in args.rates.split(",")]
    if min(args.members, args.connections, *args.rates) < 2:
        p.error("--members, --connections and --rates must be at least 2")
    if args.connections / min(args.rates) > MAX_PAUSE_S:
        p.error(f"--rates: below connections / {MAX_PAUSE_S:g} s the front closes idle "
                "connections (client_header_timeout), which wrk counts as errors")
    return args


def raise_fd_limit(connections: int) -> None:
    """wrk holds one descriptor per connection (nginx raises its own: worker_rlimit_nofile)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = connections + 1024
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            sys.exit(f"RLIMIT_NOFILE hard limit {hard} < {want}: raise it (ulimit -Hn)")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


# --- the load's credentials -------------------------------------------------------------------

@dataclass
class Load:
    base: str
    coop: sb.Coop
    sharing: list[sb.Sharer]  # card reads and consents; their tickets are exchanged
    readers: Path  # "coop token<TAB>username": userinfo and the cooperative's fetch
    refresh: Path  # refresh tokens (rotated, written back by each step)
    members: Path  # "access token<TAB>share body", rewritten before each step
    verifier: str  # every share's PKCE verifier
    database: str  # its PostgreSQL backends count in a step's CPU, other databases' do not


async def prepare(base: str, env: dict[str, str], coop: sb.Coop, members: int, tmp: Path
                  ) -> Load:
    """Half the members read (their cooperative tokens stay valid: they never consent again,
    and a new consent revokes a grant's tokens), half consent again and again."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as http:
        print(f"{members} members with a card and a {sb.COOP} account…", flush=True)
        sharers = await sb.seed(http, base, env, members)
    readers, sharing = sharers[: members // 2], sharers[members // 2:]
    reader_lines = await coop_tokens(base, coop, readers)
    # One PKCE pair for every share: mixed.lua exchanges a ticket without knowing whose it is.
    verifier, challenge = new_pkce()
    for s in sharing:
        s.verifier, s.body = verifier, s.body | {"code_challenge": challenge}
    # A first consent each, untimed, so that every timed consent updates an existing grant
    # (concurrent first consents are safe: tests/idp/test_races.py).
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as http:
        await refresh_members(http, base, sharing)
        await asyncio.gather(*(sb.share(http, base, s) for s in sharing))
    print("sign-ins for the refresh tokens…", flush=True)
    logins = [(s.login.email, s.login.hash_key) for s in sharers]
    _, refresh = await signins.sign_ins(base, logins, concurrency=16, warmup=0, seconds=0,
                                        want_tokens=members)
    return Load(base, coop, sharing, wrk_run.write_pool(tmp / "readers", reader_lines),
                wrk_run.write_pool(tmp / "refresh", refresh), tmp / "members", verifier,
                env["CARDCOOP_DATABASE_URL"].rsplit("/", 1)[1])


async def fresh_members(load: Load) -> None:
    """New member access tokens (they live 15 minutes) for the next step."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as http:
        await refresh_members(http, load.base, load.sharing)
    wrk_run.write_pool(load.members, [f"{s.access_token}\t{json.dumps(s.body)}"
                                      for s in load.sharing])


# --- one step ---------------------------------------------------------------------------------

class SignIns(threading.Thread):
    """Sign-ins at a steady rate beside the wrk load (their own event loop, in a thread)."""

    def __init__(self, base: str, members: list[tuple[str, str]], per_second: float) -> None:
        super().__init__(daemon=True)
        self.base, self.members, self.per_second = base, members, per_second
        self.stopping = threading.Event()
        self.latencies: list[float] = []
        self.errors = 0

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        if self.per_second <= 0:
            return
        tasks: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            turn = 0
            while not self.stopping.is_set():
                email, key = self.members[turn % len(self.members)]
                turn += 1
                task = asyncio.create_task(self._one(http, email, key))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                await asyncio.sleep(1 / self.per_second)
            await asyncio.gather(*tasks)

    async def _one(self, http: aiohttp.ClientSession, email: str, key: str) -> None:
        began = time.perf_counter()
        try:
            await signins.sign_in(http, self.base, email, key)
        except (RuntimeError, aiohttp.ClientError, TimeoutError):
            self.errors += 1
            return
        self.latencies.append((time.perf_counter() - began) * 1000)


def open_connections(port: int) -> int:
    """Established connections to the front (its side of them)."""
    return sum(1 for c in psutil.net_connections("tcp4")
               if c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED)


def step(load: Load, port: int, rate: int, args: argparse.Namespace) -> dict[str, Any]:
    asyncio.run(fresh_members(load))
    interval_ms = args.connections * 1000 / rate
    exchange = form(grant_type="authorization_code", code="{1}", code_verifier=load.verifier,
                    redirect_uri=sb.REDIRECT, client_id=load.coop.client_id,
                    client_secret=load.coop.secret)
    extra = {"BENCH_INTERVAL_MS": f"{interval_ms:.1f}", "BENCH_MIX": args.mix,
             "BENCH_READERS": str(load.readers), "BENCH_MEMBERS": str(load.members),
             "BENCH_COOP": load.coop.client_id, "BENCH_EXCHANGE_BODY": exchange}
    members = [(s.login.email, s.login.hash_key) for s in load.sharing]
    sign_ins = SignIns(load.base, members, args.signins_per_second)
    counted: list[int] = []
    # Halfway through, every connection has been open for a while: count them then.
    counter = threading.Timer(args.step_seconds / 2, lambda: counted.append(open_connections(port)))
    # This process (the sign-ins), its children (the front; wrk too, but it exits before the
    # second snapshot) and the databases: where a step's CPU goes (issue #10: a request of the
    # mix costs the app several times a userinfo).
    before = cpu.snapshot([os.getpid()], DB_PROGRAMS, load.database)
    sign_ins.start()
    counter.start()
    try:
        out = load.refresh.with_suffix(".next")
        result = wrk_run.run(load.base, wrk_run.Request("mixed.lua", "/"), conns=args.connections,
                             seconds=args.step_seconds, pool=load.refresh, pool_out=out,
                             extra_env=extra)
        out.replace(load.refresh)
    finally:
        counter.cancel()
        sign_ins.stopping.set()
        sign_ins.join(timeout=60)
    used = cpu.by_program(before, cpu.snapshot([os.getpid()], DB_PROGRAMS, load.database))
    done = sorted(sign_ins.latencies)
    result |= {"target_rps": rate, "open_connections": counted[0] if counted else None,
               "signins": {"ok": len(done), "errors": sign_ins.errors,
                           "p95_ms": done[int(len(done) * 0.95)] if done else None}}
    result |= {"cpu_ms_per_request": cpu.ms_per(used, result["ok"]),
               "cores_busy": sum(used.values()) / result["seconds"] if result["seconds"] else 0}
    result["errors"] = result["http_errors"] + result["socket_errors"] + sign_ins.errors
    result["passed"] = result["p95_ms"] < GOAL_P95_MS and result["errors"] == 0
    return result


# --- the whole run ----------------------------------------------------------------------------

def markdown_table(steps: list[dict[str, Any]]) -> str:
    rows = ["| target req/s | achieved req/s | open connections | p50 ms | p95 ms | p99 ms "
            "| errors (HTTP + socket + sign-in) | sign-ins ok | p95 < 200 ms, no errors |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for s in steps:
        rows.append(
            f"| {s['target_rps']:,} | {s['rps']:,.0f} | {s['open_connections'] or '?'} "
            f"| {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | {s['p99_ms']:.1f} "
            f"| {s['http_errors']} + {s['socket_errors']} + {s['signins']['errors']} "
            f"| {s['signins']['ok']} | {'yes' if s['passed'] else 'no'} |")
    return "\n".join(rows)


def main() -> int:
    args = parse_args()
    raise_fd_limit(args.connections)
    pg_version, redis_version = ab.service_versions(args.database_url_base)
    signal.signal(signal.SIGTERM, ab.interrupt)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    tmp = Path(tempfile.mkdtemp(prefix="cardcoop-load-bench-"))
    log, kept = tmp / "server.log", ab.RESULTS / f"{stamp}-load-server.log"
    steps: list[dict[str, Any]] = []
    try:
        with contextlib.ExitStack() as undo:
            env, base, coop, front = undo.enter_context(
                sb.idp_server(args, tmp, log, existing=args.database))
            load = asyncio.run(prepare(base, env, coop, args.members, tmp))
            for rate in args.rates:
                print(f"  step: {rate:,} req/s over {args.connections:,} connections "
                      f"({args.step_seconds:g} s)…", flush=True)
                result = step(load, front.cfg.port, rate, args)
                steps.append(result)
                print(f"    achieved {result['rps']:,.0f} req/s, p95 {result['p95_ms']:.1f} ms,"
                      f" errors {result['errors']}, open {result['open_connections']}",
                      flush=True)
                if not result["passed"] and not args.keep_going:
                    break
    except KeyboardInterrupt:
        print("\ninterrupted; cleaned up", file=sys.stderr)
        return 130
    except ab.RUN_ERRORS as exc:
        return ab.report_failure(exc, log)
    finally:
        log_errors = ab.keep_log(log, kept, tmp, shown=10)
    passing = [s["target_rps"] for s in steps if s["passed"]]
    env_line = (f"{os.cpu_count()} cores, nginx + granian {args.workers} workers × "
                f"{args.threads} threads, PostgreSQL {pg_version}, Redis {redis_version}, "
                f"database {args.database or 'throw-away'}, {args.members} members")
    print(f"\nEnvironment: {env_line}")
    print(f"Load: wrk 2 threads, {args.connections:,} keep-alive connections, each pausing "
          f"about connections / rate between requests (delay()); mix {args.mix} (a "
          "missing ticket or refresh token makes that request a userinfo); sign-ins "
          f"{args.signins_per_second:g}/s beside it (aiohttp). Latencies: wrk, whole step.\n")
    print(markdown_table(steps))
    print("\nCPU ms per request by program (python: the sign-ins beside the load, whose CPU the "
          "app's includes; wrk is not counted: it exits with the step):")
    for s in steps:
        print(f"- {s['target_rps']:,} req/s: {cpu.describe(s['cpu_ms_per_request'])}; "
              f"cores busy {s['cores_busy']:.2f} of {os.cpu_count()}")
    print(f"\nHighest rate with p95 < {GOAL_P95_MS:g} ms and no errors: "
          + (f"{max(passing):,} req/s" if passing else "none of the steps"))
    ab.RESULTS.mkdir(parents=True, exist_ok=True)
    out = ab.RESULTS / f"{stamp}-load.json"
    out.write_text(json.dumps({"environment": env_line, "connections": args.connections,
                               "mix": args.mix, "step_seconds": args.step_seconds,
                               "steps": steps, "highest_passing_rps": max(passing, default=None),
                               "server_log_errors": log_errors}, indent=2))
    print(f"\nJSON: {out.relative_to(ab.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
