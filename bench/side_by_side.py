"""card.coop side by side with panva's oidc-provider (issue #10's proof): ``make bench``.

One run on one machine, both servers up at once, A B A B interleaved (ours, peer, ours, peer)
for every scenario at every concurrency level; each run is wrk (2 threads, bench/wrk/*.lua) for
a warm-up and then a measured window:

- userinfo: ours GET /oauth/userinfo with cooperative tokens (scope openid share) vs the
  peer's GET /me;
- get-encrypted-data: ours GET /access/get-encrypted-data/{username}/{coopname} vs the peer's
  userinfo (the nearest protected resource it has);
- token-endpoint: ours POST /oauth/token (grant_type=authorization_code, a single-use ticket
  and its PKCE verifier, client_secret_post) vs the peer's authorization_code grant with codes
  it minted;
- refresh: ours POST /auth/refresh-token vs the peer's refresh_token grant, both rotating; each
  wrk thread keeps a pool of tokens and puts back the new one of every answer.

card.coop: idp behind the production front (deploy/front.py: nginx + granian), a throw-away
migrated PostgreSQL database (or --database NAME, kept; --seed N fills it first with
bench/seed.py), Redis DB 12, rate limits off; members registered through the HTTP flow
(bench/auth_bench.py), a cooperative client with members holding cards and accounts
(bench/share_bench.py). The peer: bench/peer (a locked npm package, in-memory store, one node
process). CPU per request: psutil CPU-time deltas over the measured window of the front's
processes + the PostgreSQL processes (but other databases' client backends) + Redis (ours), of
the node process (peer).

Then sign-ins against the Argon2id ceiling (bench/signins.py), measured just before and just
after them, with their CPU by program and the cores they kept busy. Prints one Markdown table and
writes JSON to bench/results/; the database, the servers and Redis DB 12 are cleaned up also
after an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import math
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import auth_bench as ab
from bench import cpu, oidc_peer, profile, signins, wrk_run
from bench import share_bench as sb
from bench.wrk_run import Request
from deploy.front import FrontConfig

SCENARIOS = ("userinfo", "get-encrypted-data", "token-endpoint", "refresh")
LABELS = {"userinfo": "userinfo", "get-encrypted-data": "get-encrypted-data (vs peer userinfo)",
          "token-endpoint": "token endpoint (ticket vs code)",
          "refresh": "refresh-token (vs peer refresh grant)"}
REPEATS = 2  # A B A B
DB_PROGRAMS = ("postgres", "redis-server")  # every process of these serves ours
COOP_TOKENS = 64  # cooperative access tokens for the read scenarios, used in turn
# Codes the peer mints per run and second: above its token endpoint's ~2,500/s in issue #10
# (a run that spends them all ends early, and says so).
PEER_CODES_PER_SECOND = 4000
TICKETS_PER_SECOND = 2000  # ours: what a run's ticket issuing aims at, within its budget
CEILING_SECONDS = 3.0  # each of the two Argon2id ceiling measurements around the sign-ins


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--levels", default="50", help="concurrent connections, comma-separated")
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    p.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each")
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    p.add_argument("--workers", type=int, default=FrontConfig.workers, help="granian processes")
    p.add_argument("--threads", type=int, default=FrontConfig.threads,
                   help="WSGI threads per granian process")
    p.add_argument("--members", type=int, default=None,
                   help="registered through the HTTP flow (default: the largest level)")
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="bulk members from bench/seed.py before the server starts")
    p.add_argument("--database", default=None, metavar="NAME",
                   help="an existing database (e.g. seed1m) instead of a throw-away one; kept")
    p.add_argument("--tickets-budget", type=float, default=20.0,
                   help="seconds of ticket issuing per token-endpoint run at most")
    p.add_argument("--signin-seconds", type=float, default=8.0)
    p.add_argument("--signin-concurrency", type=int, default=16)
    p.add_argument("--database-url-base", default="postgresql://postgres@127.0.0.1:5432")
    p.add_argument("--profile", action="store_true",
                   help="after each scenario, one more (unmeasured) run of ours under py-spy")
    args = p.parse_args()
    args.levels = [int(x) for x in args.levels.split(",")]
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    if set(args.scenarios) - set(SCENARIOS):
        p.error(f"--scenarios: choose from {', '.join(SCENARIOS)}")
    if min(args.workers, args.threads, *args.levels) < 1 or args.duration <= 0:
        p.error("--workers, --threads, --levels and --duration must be positive")
    if args.seed and args.database:
        p.error("--seed fills a throw-away database; --database reuses a seeded one")
    args.members = max(args.members or 0, max(args.levels))
    return args


# --- the two sides of one scenario -----------------------------------------------------------

@dataclass
class Side:
    """One server's part of a scenario: where, what, and the pool file its runs draw from."""

    name: str  # "ours" or "peer"
    url: str
    request: Request
    pool: Path
    cpu_roots: list[int]
    cpu_names: tuple[str, ...] = ()
    database: str | None = None  # ours: PostgreSQL backends of other databases do not count
    # Single-use credentials: a fresh pool for each repeat (warm-up + measured run), so that
    # the second repeat does not start on what the first left.
    refill: Callable[[], list[str]] | None = None

    @property
    def spends(self) -> bool:  # single-use or rotating: each run rewrites the pool
        return self.request.script != "bearer.lua"

    def run(self, conns: int, seconds: float, *, measured: bool) -> dict[str, Any]:
        out = self.pool.with_suffix(".next") if self.spends else None
        before = (cpu.snapshot(self.cpu_roots, self.cpu_names, self.database) if measured
                  else {})
        result = wrk_run.run(self.url, self.request, conns=conns, seconds=seconds,
                             pool=self.pool, pool_out=out)
        if measured:
            used = cpu.by_program(before, cpu.snapshot(self.cpu_roots, self.cpu_names,
                                                       self.database))
            result["cpu_s"] = round(sum(used.values()), 3)
            result["cpu_s_by_program"] = {name: round(s, 3) for name, s in used.items()}
        if out is not None:
            out.replace(self.pool)
        return result


def interleaved(pair: tuple[Side, Side], conns: int, args: argparse.Namespace
                ) -> list[dict[str, Any]]:
    """A B A B: each side warm-up + measured run, twice; the measured runs."""
    measured = []
    for rep in range(REPEATS):
        for side in pair:
            if side.refill is not None:
                wrk_run.write_pool(side.pool, side.refill())
            warm = side.run(conns, args.warmup, measured=False)
            result = side.run(conns, args.duration, measured=True)
            result |= {"side": side.name, "repeat": rep + 1,
                       "warmup_errors": warm["http_errors"] + warm["socket_errors"]}
            measured.append(result)
            print(f"    {side.name:4} #{rep + 1}: {result['rps']:8.0f} req/s  p95 "
                  f"{result['p95_ms']:7.1f} ms  errors {result['http_errors']}+"
                  f"{result['socket_errors']} (warm-up {result['warmup_errors']})"
                  + ("  (pool ran dry)" if result["pool_ran_dry"] else ""),
                  flush=True)
    return measured


def summarize(scenario: str, conns: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per side: mean req/s of the runs, the worse p95, CPU ms per successful request."""
    row: dict[str, Any] = {"scenario": scenario, "label": LABELS[scenario], "c": conns,
                           "runs": runs}
    for name in ("ours", "peer"):
        mine = [r for r in runs if r["side"] == name]
        ok = sum(r["ok"] for r in mine)
        row[name] = {
            "rps": sum(r["rps"] for r in mine) / len(mine),
            "p95_ms": max(r["p95_ms"] for r in mine),
            "p99_ms": max(r["p99_ms"] for r in mine),
            "cpu_ms_per_req": 1000 * sum(r["cpu_s"] for r in mine) / ok if ok else math.nan,
            "cpu_ms_per_req_by_program": per_request(mine, ok),
            "errors": sum(r["http_errors"] + r["socket_errors"] for r in mine),
            "warmup_errors": sum(r["warmup_errors"] for r in mine),
            "pool_ran_dry": any(r["pool_ran_dry"] for r in mine)}
    row["ratio"] = row["ours"]["rps"] / row["peer"]["rps"] if row["peer"]["rps"] else math.nan
    return row


def per_request(runs: list[dict[str, Any]], ok: int) -> dict[str, float]:
    """CPU ms per successful request by program, over the runs."""
    total: dict[str, float] = {}
    for run in runs:
        for name, seconds in run["cpu_s_by_program"].items():
            total[name] = total.get(name, 0.0) + seconds
    return cpu.ms_per(total, ok)


# --- card.coop's credentials ------------------------------------------------------------------

@dataclass
class Ours:
    base: str
    coop: sb.Coop
    sharers: list[sb.Sharer]
    refresh_tokens: list[str]
    signin: dict[str, Any]
    database: str


async def refresh_members(http: aiohttp.ClientSession, base: str, sharers: list[sb.Sharer]
                          ) -> None:
    """share_bench.refresh (fresh member access tokens), retrying a 500 twice: idp's pool
    currently fails the first requests after a rest (issue #10's notes: the checkout ping leaves
    the connection in a transaction), and the setup must not die of it. The measured runs
    retry nothing: there such an answer counts as an error."""
    async def one(s: sb.Sharer) -> None:
        for attempt in range(3):
            try:
                done = await sb.call(http, "POST", f"{base}/auth/refresh-token", 200,
                                     body={"refreshToken": s.login.refresh_token})
            except sb.StepError as exc:
                if " 500" not in str(exc) or attempt == 2:
                    raise
                continue
            s.login.refresh_token, s.access_token = done["refreshToken"], done["accessToken"]
            return

    await asyncio.gather(*(one(s) for s in sharers))


async def coop_tokens(base: str, coop: sb.Coop, sharers: list[sb.Sharer]) -> list[str]:
    """Cooperative access tokens ("token<TAB>username") through the share flow (share-data →
    exchange-ticket), one per member: a member's new consent revokes the tokens of the old
    one, so these are minted again after the token-endpoint runs' consents."""
    async def one(s: sb.Sharer) -> str:
        token = await sb.exchange(http, base, coop, s, await sb.share(http, base, s))
        return f"{token}\t{s.username}"

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as http:
        await refresh_members(http, base, sharers)  # member access tokens live 15 minutes
        return list(await asyncio.gather(*(one(s) for s in sharers[:COOP_TOKENS])))


async def issue_tickets(base: str, sharers: list[sb.Sharer], count: int, budget: float
                        ) -> list[str]:
    """Single-use tickets ("ticket<TAB>verifier"), every member consenting again and again."""
    lines: list[str] = []
    failed: dict[str, int] = {}
    give_up = time.perf_counter() + budget
    connector = aiohttp.TCPConnector(limit=len(sharers), keepalive_timeout=1.0)
    async with aiohttp.ClientSession(connector=connector) as http:
        await refresh_members(http, base, sharers)  # member access tokens live 15 minutes

        async def producer(s: sb.Sharer) -> None:
            while len(lines) < count and time.perf_counter() < give_up:
                try:
                    lines.append(f"{await sb.share(http, base, s)}\t{s.verifier}")
                except sb.StepError as exc:
                    failed[str(exc)] = failed.get(str(exc), 0) + 1
                    if sum(failed.values()) > 100:
                        raise RuntimeError(f"ticket issuing fails: {failed}") from None

        began = time.perf_counter()
        await asyncio.gather(*(producer(s) for s in sharers))
    print(f"    {len(lines)} tickets issued in {time.perf_counter() - began:.0f} s"
          + (f"; failed: {failed}" if failed else ""), flush=True)
    return lines


def refresh_tokens_needed(levels: list[int]) -> int:
    """A rotating run loses the tokens in flight when it stops (up to c), and each thread needs
    one per connection: 2 repeats x (warm-up + measured) per level, plus slack."""
    return sum(2 * REPEATS * c for c in levels) + 2 * max(levels)


async def prepare_ours(args: argparse.Namespace, env: dict[str, str], base: str,
                       coop: sb.Coop) -> Ours:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as http:
        print(f"ours: {args.members} members with a card and a {sb.COOP} account…", flush=True)
        sharers = await sb.seed(http, base, env, args.members)
    print("ours: sign-ins…", flush=True)
    database = env["CARDCOOP_DATABASE_URL"].rsplit("/", 1)[1]
    members = [(s.login.email, s.login.hash_key) for s in sharers]
    # The ceiling just before and just after: what the cores hash drifts on a shared machine
    # (a neighbour's memory traffic slows a memory-hard hash), and the mean is what the
    # sign-ins are held to.
    ceilings = [signins.argon2_ceiling(CEILING_SECONDS)]
    # This process (the client) and its children (the front) and the databases: where a
    # sign-in's CPU goes, over every sign-in of the call (the untimed ones too).
    before, began = cpu.snapshot([os.getpid()], DB_PROGRAMS, database), time.perf_counter()
    signin, refresh = await signins.sign_ins(
        base, members, concurrency=args.signin_concurrency, warmup=2.0,
        seconds=args.signin_seconds, want_tokens=refresh_tokens_needed(args.levels))
    elapsed = time.perf_counter() - began
    used = cpu.by_program(before, cpu.snapshot([os.getpid()], DB_PROGRAMS, database))
    ceilings.append(signins.argon2_ceiling(CEILING_SECONDS))
    signin |= {
        "argon2_ceilings_per_s": ceilings, "argon2_ceiling_per_s": sum(ceilings) / 2,
        # Below the core count while sign-ins queue: they wait on something else (a disk
        # slow to fsync, say), not on the CPU.
        "cores_busy": sum(used.values()) / elapsed,
        "cpu_ms_per_signin_by_program": cpu.ms_per(used, len(refresh))}
    return Ours(base, coop, sharers, refresh, signin, database)


# --- the scenarios' sides ---------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{\d+\}")  # {1}, {2}: a pool line's fields, filled in by wrk


def form(**fields: str) -> str:
    """A form body; the placeholders are kept as they are, the rest URL-encoded."""
    return "&".join(f"{k}={v if PLACEHOLDER.fullmatch(v) else quote(v, safe='')}"
                    for k, v in fields.items())


def sides(scenario: str, ours: Ours, front_pids: list[int], the_peer: oidc_peer.Peer,
          tmp: Path, args: argparse.Namespace) -> tuple[Side, Side]:
    minted = the_peer.minted
    p_client = {"client_id": minted["client_id"], "client_secret": minted["client_secret"]}
    o_client = {"client_id": ours.coop.client_id, "client_secret": ours.coop.secret}
    form_type = "application/x-www-form-urlencoded"
    o_refill: Callable[[], list[str]] | None = None
    p_refill: Callable[[], list[str]] | None = None
    o_pool: list[str] = []
    p_pool: list[str] = []
    if scenario in ("userinfo", "get-encrypted-data"):
        path = ("/oauth/userinfo" if scenario == "userinfo"
                else f"/access/get-encrypted-data/{{2}}/{ours.coop.client_id}")
        o_req = Request("bearer.lua", path, auth="Bearer {1}")
        p_req = Request("bearer.lua", "/me", auth="Bearer {1}")
        o_pool = asyncio.run(coop_tokens(ours.base, ours.coop, ours.sharers))
        p_pool = minted["access_tokens"]
    elif scenario == "token-endpoint":
        o_req = Request("single_use.lua", "/oauth/token", "POST", content_type=form_type,
                        body=form(grant_type="authorization_code", code="{1}",
                                  code_verifier="{2}", redirect_uri=sb.REDIRECT, **o_client))
        p_req = Request("single_use.lua", "/token", "POST", content_type=form_type,
                        body=form(grant_type="authorization_code", code="{1}",
                                  code_verifier=minted["code_verifier"],
                                  redirect_uri=minted["redirect_uri"], **p_client))
        want = TICKETS_PER_SECOND * math.ceil(args.warmup + args.duration)
        per_run = PEER_CODES_PER_SECOND * math.ceil(args.warmup + args.duration)

        def o_refill() -> list[str]:
            return asyncio.run(issue_tickets(ours.base, ours.sharers, want,
                                             args.tickets_budget))

        def p_refill() -> list[str]:
            codes: list[str] = minted["codes"]
            taken = codes[:per_run]
            del codes[:per_run]  # every run spends codes of its own
            return taken
    else:
        o_req = Request("rotate.lua", "/auth/refresh-token", "POST",
                        body='{"refreshToken":"{1}"}',
                        extract='"refreshToken"%s*:%s*"([^"]+)"')
        p_req = Request("rotate.lua", "/token", "POST", content_type=form_type,
                        body=form(grant_type="refresh_token", refresh_token="{1}",  # noqa: S106
                                  **p_client),
                        extract='"refresh_token"%s*:%s*"([^"]+)"')
        o_pool, p_pool = ours.refresh_tokens, minted["refresh_tokens"]
    return (Side("ours", ours.base, o_req, wrk_run.write_pool(tmp / f"ours-{scenario}", o_pool),
                 front_pids, DB_PROGRAMS, ours.database, o_refill),
            Side("peer", the_peer.url, p_req,
                 wrk_run.write_pool(tmp / f"peer-{scenario}", p_pool), [the_peer.pid()],
                 refill=p_refill))


def run_scenarios(args: argparse.Namespace, ours: Ours, front_pids: list[int],
                  the_peer: oidc_peer.Peer, tmp: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    pairs: dict[str, tuple[Side, Side]] = {}
    for conns in args.levels:
        for scenario in args.scenarios:
            print(f"  {scenario} × {conns} ({args.warmup:g} s warm-up + {args.duration:g} s,"
                  " A B A B)", flush=True)
            if scenario == "refresh" and scenario in pairs:
                pair = pairs[scenario]  # the rotated tokens carry over to the next level
            else:
                pair = sides(scenario, ours, front_pids, the_peer, tmp, args)
                pairs[scenario] = pair
            rows.append(summarize(scenario, conns, interleaved(pair, conns, args)))
            if args.profile:
                rows[-1]["profile"] = profiled_run(pair[0], conns, args, scenario)
    return rows


def profiled_run(ours: Side, conns: int, args: argparse.Namespace, scenario: str) -> str:
    """One more run of ours with py-spy on its workers; the summary, printed and returned."""
    if ours.refill is not None:
        wrk_run.write_pool(ours.pool, ours.refill())
    out_dir = ab.RESULTS / f"profile-{args.stamp}-{scenario}-{conns}"
    spies = profile.start(ours.cpu_roots, args.duration, out_dir)
    ours.run(conns, args.duration, measured=False)
    profile.finish(spies)
    text = profile.summary(out_dir) if spies else "(not profiled)"
    print(f"    profile of ours ({out_dir.relative_to(ab.ROOT)}):\n" + text, flush=True)
    return text


# --- reporting --------------------------------------------------------------------------------

def fmt(value: float, digits: int = 0) -> str:
    return "–" if math.isnan(value) else f"{value:,.{digits}f}"


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| scenario | c | card.coop req/s | p95 ms | oidc-provider req/s | p95 ms "
             "| req/s ratio | CPU ms/req app+db card.coop / peer | errors card.coop / peer |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        o, p = r["ours"], r["peer"]
        dry = " (pool ran dry)" if o["pool_ran_dry"] or p["pool_ran_dry"] else ""
        warm = o["warmup_errors"] + p["warmup_errors"]
        if warm:
            dry += f" (warm-up: {o['warmup_errors']} / {p['warmup_errors']})"
        lines.append(
            f"| {r['label']} | {r['c']} | {fmt(o['rps'])} | {fmt(o['p95_ms'], 1)} "
            f"| {fmt(p['rps'])} | {fmt(p['p95_ms'], 1)} | {fmt(r['ratio'], 2)} "
            f"| {fmt(o['cpu_ms_per_req'], 2)} / {fmt(p['cpu_ms_per_req'], 2)} "
            f"| {o['errors']} / {p['errors']}{dry} |")
    lines.append("\nCPU ms per request of card.coop by program:")
    for r in rows:
        lines.append(f"- {r['label']}, c={r['c']}: "
                     + cpu.describe(r["ours"]["cpu_ms_per_req_by_program"]))
    return "\n".join(lines)


def program_version(argv: list[str], pattern: str) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
    except OSError:
        return "?"
    found = re.search(pattern, done.stdout + done.stderr)
    return found[1] if found else "?"


def environment(args: argparse.Namespace, pg: str, rd: str) -> dict[str, str]:
    node, provider = oidc_peer.versions()
    return {"cores": str(os.cpu_count()), "python": platform.python_version(),
            "postgresql": pg, "redis": rd,
            "nginx": program_version(["nginx", "-v"], r"nginx/(\S+)"),
            "granian": program_version([str(ab.BIN / "granian"), "--version"], r"(\d\S*)"),
            "node": node, "oidc-provider": provider,
            "front": f"nginx + granian {args.workers} workers × {args.threads} threads",
            "database": args.database or (f"throw-away + {args.seed:,} seeded members"
                                          if args.seed else "throw-away")}


def report(args: argparse.Namespace, env_info: dict[str, str], rows: list[dict[str, Any]],
           signin: dict[str, Any], stamp: str, log_errors: list[str]) -> None:
    params = signins.argon2_parameters()
    ceiling = signin["argon2_ceiling_per_s"]
    fraction = signin["rps"] / ceiling if ceiling else math.nan
    before, after = signin["argon2_ceilings_per_s"]
    env_line = ", ".join(f"{k} {v}" for k, v in env_info.items())
    print(f"\nEnvironment: {env_line}")
    print(f"Runs: wrk 2 threads, {args.warmup:g} s warm-up + {args.duration:g} s measured, A B A"
          " B interleaved; req/s = successful (2xx) requests per second, the mean of the two"
          " runs; p95 = the worse run's; errors = non-2xx + socket errors of the measured runs;"
          " CPU = ours: front (nginx + granian, all processes) + every postgres and redis-server"
          " process, peer: the node process. Rate limits off; the load generator shares the"
          f" {os.cpu_count()} cores.\n")
    print(markdown_table(rows))
    print(f"\nSign-ins (initiate-login + complete-login, {signin['concurrency']} clients, "
          f"{args.signin_seconds:g} s): {signin['rps']:.1f}/s, p95 {signin['p95_ms']:.0f} ms, "
          f"errors {sum(signin['errors'].values())} = {100 * fraction:.0f}% of the Argon2id "
          f"ceiling {ceiling:.1f} hashes/s ({before:.1f} before, {after:.1f} after; "
          f"m={params['memory_kib']} KiB, t="
          f"{params['time_cost']}, p={params['parallelism']}, {os.cpu_count()} processes); "
          "goal ≥ 80%")
    print("CPU ms per sign-in by program (python: the load generator): "
          + cpu.describe(signin["cpu_ms_per_signin_by_program"])
          + f"; cores busy {signin['cores_busy']:.2f} of {os.cpu_count()}")
    ab.RESULTS.mkdir(parents=True, exist_ok=True)
    out = ab.RESULTS / f"{stamp}-side-by-side.json"
    out.write_text(json.dumps({
        "environment": env_info, "levels": args.levels, "warmup_s": args.warmup,
        "duration_s": args.duration, "members": args.members, "rows": rows,
        "signin": signin | {"fraction": fraction, "argon2": params},
        "server_log_errors": log_errors}, indent=2))
    print(f"\nJSON: {out.relative_to(ab.ROOT)}")


# --- the whole run ----------------------------------------------------------------------------

def seed_bulk(count: int) -> Callable[[str], None] | None:
    """bench/seed.py's seed(url, members) on the migrated database, when the module is there."""
    def run(url: str) -> None:
        try:
            module = importlib.import_module("bench.seed")
        except ImportError:
            raise RuntimeError("--seed: bench/seed.py is not there") from None
        print(f"seeding {count:,} bulk members (bench/seed.py)…", flush=True)
        began = time.perf_counter()
        module.seed(url, count)
        print(f"  seeded in {time.perf_counter() - began:.0f} s", flush=True)
    return run if count else None


def main() -> int:
    args = parse_args()
    pg_version, redis_version = ab.service_versions(args.database_url_base)
    signal.signal(signal.SIGTERM, ab.interrupt)
    stamp = args.stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    tmp = Path(tempfile.mkdtemp(prefix="cardcoop-side-by-side-"))
    log, kept = tmp / "server.log", ab.RESULTS / f"{stamp}-side-by-side-server.log"
    try:
        oidc_peer.ensure_installed()
        env_info = environment(args, pg_version, redis_version)
        with contextlib.ExitStack() as undo:
            env, base, coop, front = undo.enter_context(sb.idp_server(
                args, tmp, log, existing=args.database, before_start=seed_bulk(args.seed)))
            front_pids = front.pids()
            ours = asyncio.run(prepare_ours(args, env, base, coop))
            per_run = PEER_CODES_PER_SECOND * math.ceil(args.warmup + args.duration)
            runs = REPEATS * len(args.levels) if "token-endpoint" in args.scenarios else 0
            print("peer: minting…", flush=True)
            the_peer = oidc_peer.Peer(ab.free_port(), tmp, tmp / "peer.log")
            undo.callback(ab.cleanup, "stop the peer", the_peer.stop)
            the_peer.start(access=COOP_TOKENS, codes=runs * per_run,
                           refresh=2 * refresh_tokens_needed(args.levels))
            rows = run_scenarios(args, ours, front_pids, the_peer, tmp)
    except KeyboardInterrupt:
        print("\ninterrupted; cleaned up", file=sys.stderr)
        return 130
    except ab.RUN_ERRORS as exc:
        return ab.report_failure(exc, log)
    finally:
        log_errors = ab.keep_log(log, kept, tmp)
    report(args, env_info, rows, ours.signin, stamp, log_errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
