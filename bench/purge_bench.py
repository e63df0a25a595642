"""How long the purge of ended rows takes (idp/retention.py, issue #10): ``make bench-purge``.

A throw-away database gets ``--members`` members from bench/seed.py, which leaves what years of
use would: each member's closed session (revoked up to three years ago) and open one, their
refresh tokens, a spent ticket and an expired cooperative token. Then ``flask --app wsgi:idp
purge`` runs twice, in this process as the worker runs it: the first deletes that backlog, the
second is the steady cost of a purge with nothing to delete (what the worker pays every hour).
Printed: the seconds of each, the rows deleted per table, and the tables' rows and size before
and after (PostgreSQL keeps a table's pages after a DELETE: autovacuum makes the space over to new
rows, so the files stop growing rather than shrink).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask
from psycopg import sql

if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import auth_bench as ab
from bench.seed import TABLES, seed
from common.db import db, utcnow
from common.retention import summary
from idp import create_app
from idp.retention import purge_expired


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--members", type=int, default=100_000)
    p.add_argument("--database-url-base", default="postgresql://postgres@127.0.0.1:5432")
    return p.parse_args()


def timed_purge(app: Flask) -> tuple[float, dict[str, int]]:
    with app.app_context():
        started = time.monotonic()
        purged = purge_expired(utcnow())
        return time.monotonic() - started, purged


def idp_app(env: dict[str, str]) -> Flask:
    os.environ.update({k: v for k, v in env.items() if k.startswith("CARDCOOP_")})
    return create_app()


def main() -> int:
    args = parse_args()
    base, name = args.database_url_base, f"cardcoop_purge_bench_{os.getpid()}"
    ab.admin_sql(base, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        env = ab.server_env(f"{base}/{name}", tempfile.mkdtemp(prefix="cardcoop-purge-"))
        ab.flask_cli(env, "db", "upgrade")
        before = seed(f"{base}/{name}", args.members,
                      progress=lambda line: print(line, file=sys.stderr, flush=True))
        print(f"{args.members:,} members seeded in {before['seconds']} s")
        app = idp_app(env)
        backlog_seconds, backlog = timed_purge(app)
        idle_seconds, idle = timed_purge(app)
        with app.app_context():
            db.engine.dispose()
        after = seed(f"{base}/{name}", 0)  # sizes only
    finally:
        ab.admin_sql(base, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                     .format(sql.Identifier(name)))
    rows = sum(backlog.values())
    print(f"first purge (the backlog): {backlog_seconds:.2f} s, {rows:,} rows "
          f"({rows / backlog_seconds:,.0f}/s): "
          f"{summary(backlog)}")
    print(f"second purge (nothing ended since): {1000 * idle_seconds:.0f} ms: {summary(idle)}")
    print("\n| table | rows before | rows after | MiB before | MiB after |")
    print("|---|---:|---:|---:|---:|")
    for table in TABLES:
        b, a = before["tables"][table], after["tables"][table]
        print(f"| {table} | {b['rows']:,} | {a['rows']:,} | {b['bytes'] / 2**20:.1f} | "
              f"{a['bytes'] / 2**20:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
