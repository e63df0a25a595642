"""Every hot query on an index (issue #10): the same cost with 1,000 and 1,000,000 members.

The hot flows run through the test client while every SQL statement is captured with its
parameters; then the tables get a bulk of members (``bench/seed.py``), and each captured read or
write runs again, with its own parameters, under ``EXPLAIN ANALYZE`` with sequential scans
switched off, in a savepoint rolled back at once. A ``Seq Scan`` left in such a plan means no
index can serve the statement at all; an index scan that read many rows to return a few (one
member's row found among a cooperative's thousands) does not select. Either fails the test,
naming the statement and its plan.

A foreign key's cascade never shows in a plan, so a second test asks the catalog that every
foreign key leads an index: deleting an account (or a grant) must not scan the tables that
point at it.

PostgreSQL only: SQLite's planner says nothing about PostgreSQL's (CI sets
CARDCOOP_DATABASE_URL).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DBAPIError

from bench.seed import TABLES, seed
from common.db import db
from idp.card.numbers import is_valid_card_number
from tests.conftest import DATABASE_URL
from tests.idp.conftest import login
from tests.idp.oauth_flow import (
    COOP,
    REDIRECT,
    auth_request,
    card_holder,
    exchange,
    make_client,
    pkce,
    query_of,
    receive_backchannel_logouts,
    share_body,
)
from tests.idp.statements import driver_statements

pytestmark = pytest.mark.skipif(
    not DATABASE_URL.startswith("postgresql"),
    reason="query plans are PostgreSQL's: set CARDCOOP_DATABASE_URL=postgresql://... (CI does)")

# Enough rows that reading a table whole is never the cheap plan, few enough to seed in seconds.
BULK_MEMBERS = 20_000

# Tables read whole on purpose, each tiny by nature, so a scan is the right plan for them:
# - idp_signing_keys: a handful of keys (one active per algorithm, plus the retired ones still
#   verifying); the JWKS and the token verifier read them all.
# - idp_oauth_clients: one row per cooperative, never per member.
SMALL_TABLES = frozenset({"idp_signing_keys", "idp_oauth_clients"})

# An index scan that reads more rows than this (and than this share of its table), kept or
# filtered out, does not select: a member's own rows are a handful, whatever their number.
SELECTIVE_ROWS = 100
SELECTIVE_SHARE = 0.01

# Foreign keys that may go without an index: the rows they point at are only ever deleted by
# an operator, never by a member's action (a cooperative's client record).
UNINDEXED_FOREIGN_KEYS = frozenset({"fk_idp_grants_client_id_idp_oauth_clients"})


@dataclass(frozen=True)
class Statement:
    sql: str
    params: Any

    @property
    def planned(self) -> bool:
        """Reads or changes rows found by a condition; a plain INSERT ... VALUES finds none."""
        head = " ".join(self.sql.split()).lower()
        if head.startswith(("select", "update", "delete", "with")):
            return True
        return head.startswith("insert") and (" select " in head or " on conflict " in head)


@contextmanager
def captured(engine: Engine) -> Iterator[list[Statement]]:
    seen: list[Statement] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        if not executemany:  # executemany is a bulk INSERT ... VALUES: nothing to plan
            seen.append(Statement(statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with driver_statements(lambda sql, params: seen.append(Statement(sql, params))):
            yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(answer: Any, status: int = 200) -> Any:
    # A step that failed would leave its queries out of the check: each one must work.
    assert answer.status_code == status, answer.json
    return answer.json


def run_hot_flows(app: Flask, client: FlaskClient, httpserver: HTTPServer) -> list[str]:
    """What members and cooperatives do all day, as a browser and a cooperative's backend.
    Returns the back-channel logout tokens the cooperative received."""
    coop = make_client(app)
    logouts = receive_backchannel_logouts(app, coop, httpserver)  # who signs in must be told
    holder = card_holder(app, client, COOP, browser=True)
    member = holder.member
    logged = ok(login(client, member.email, member.hash_key, browser=True))
    member.tokens = ok(client.post("/auth/refresh-token",
                                   json={"refreshToken": logged["refreshToken"]}))
    for path in ("/card", "/card/accounts", "/auth/account", "/auth/sessions", "/access/list"):
        ok(client.get(path, headers=member.bearer))
    ok(client.post("/auth/session"))  # a reload: the cookie alone

    # Sharing: the consent page, the share, the cooperative's token and its reads.
    verifier, challenge = pkce()
    params = auth_request(challenge=challenge, scope="openid email share", fields="last_name")
    ok(client.post("/access/prepare-share-data", headers=member.bearer,
                   json={"coopname": COOP, **params}))
    shared = ok(client.post("/access/share-data", headers=member.bearer,
                            json=share_body(app, holder, params)))
    access = ok(exchange(client, coop, shared["ticket"], verifier))["access_token"]
    username = holder.accounts[COOP].username
    ok(client.get(f"/access/get-encrypted-data/{username}/{COOP}", headers=bearer(access)))
    ok(client.get("/oauth/userinfo", headers=bearer(access)))
    assert ok(client.post("/oauth/introspect", headers=coop.basic,
                          data={"token": access}))["active"] is True

    # Single sign-on: the consented cooperative signs the member in again without a page.
    verifier, challenge = pkce()
    again = client.get("/oauth/authorize", query_string=auth_request(
        challenge=challenge, scope="openid email"))
    assert again.status_code == 302 and again.headers["Location"].startswith(REDIRECT), again.data
    ok(exchange(client, coop, query_of(again.headers["Location"])["code"], verifier))

    ok(client.post("/auth/logout", headers=member.bearer, json={}), 204)

    # Not hot, but a member's own action: it must not scan what every other member left.
    member.tokens = ok(login(client, member.email, member.hash_key))
    ok(client.post("/auth/delete-account", headers=member.bearer,
                   json={"hashKey": member.hash_key}))
    return logouts


def scans(node: dict[str, Any], table_rows: dict[str, float]) -> Iterator[str]:
    """The plan's nodes that read a table whole, or a good part of it through an index that
    does not select (all of a cooperative's rows, say, to find one member's)."""
    relation = node.get("Relation Name", "")
    if relation and relation not in SMALL_TABLES:
        kind, total = node["Node Type"], table_rows.get(relation, 0.0)
        # (a plan made without running the statement has no row counts: only its scans show)
        read = node.get("Actual Loops", 0) * (node.get("Actual Rows", 0)
                                              + node.get("Rows Removed by Filter", 0)
                                              + node.get("Rows Removed by Index Recheck", 0))
        if kind == "Seq Scan":
            yield f"Seq Scan on {relation}"
        elif read > max(SELECTIVE_ROWS, total * SELECTIVE_SHARE):
            using = f" using {node['Index Name']}" if "Index Name" in node else ""
            yield f"{kind} on {relation}{using} read {read:,.0f} of its {total:,.0f} rows"
    for child in node.get("Plans", ()):
        yield from scans(child, table_rows)


def plan_problems(conn: Connection, statement: Statement, table_rows: dict[str, float], *,
                  analyze: bool = True) -> list[str]:
    """The statement run again with its parameters under EXPLAIN ANALYZE (which counts the rows
    each node read), in a savepoint rolled back at once; a message per whole scan."""
    options = "ANALYZE, TIMING OFF, FORMAT JSON" if analyze else "FORMAT JSON"
    try:
        with conn.begin_nested() as savepoint:
            rows: Any = conn.exec_driver_sql(f"EXPLAIN ({options}) {statement.sql}",
                                             statement.params).scalar_one()
            savepoint.rollback()
    except DBAPIError as error:  # reported with the statement, like a bad plan
        if analyze and isinstance(error.orig, psycopg.errors.ForeignKeyViolation):
            # A write of a row whose parent the flow deleted since (the account deletion at
            # its end) cannot run again: its plan, made without running it, must scan nothing.
            return plan_problems(conn, statement, table_rows, analyze=False)
        return [f"could not plan: {error}\n{statement.sql}"]
    plan = (rows if isinstance(rows, list) else json.loads(rows))[0]["Plan"]
    found = list(scans(plan, table_rows))
    if not found:
        return []
    return [f"{'; '.join(found)}\n  {' '.join(statement.sql.split())}\n"
            f"  params: {statement.params!r}\n  plan: {json.dumps(plan, indent=1)}"]


TABLE_ROWS = """
SELECT relname, reltuples FROM pg_class
WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace
"""


def test_every_hot_query_runs_on_an_index(make_app: Callable[..., Flask],
                                          httpserver: HTTPServer) -> None:
    app = make_app()
    client = app.test_client()
    with app.app_context():
        with captured(db.engine) as statements:
            logouts = run_hot_flows(app, client, httpserver)
        assert logouts, "the logout reached no cooperative: its lookup went unchecked"
        unique = {s.sql: s for s in statements if s.planned}
        assert any("grant_found" in sql for sql in unique), "the HotStatement token lookup"
        assert len(unique) > 30, "the flows ran too few queries to mean anything"
        with db.engine.connect() as conn:
            seed(conn, BULK_MEMBERS, batch=BULK_MEMBERS)
            table_rows: dict[str, float] = {
                row.relname: float(row.reltuples) for row in conn.execute(text(TABLE_ROWS))}
            # For the whole check: a seq scan left in a plan is one no index could replace.
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            # The account deletion's audit erasure ran with the trigger's leave (migration
            # 0008); its replay needs it too, and is rolled back like every other.
            conn.execute(text("SET LOCAL cardcoop.audit_erasure = 'member'"))
            problems = [p for s in unique.values() for p in plan_problems(conn, s, table_rows)]
            conn.rollback()
    assert not problems, (f"{len(problems)} of {len(unique)} hot statements scan a whole "
                          "table or index:\n\n" + "\n\n".join(problems))


FOREIGN_KEYS_WITHOUT_INDEX = """
SELECT c.conname, c.conrelid::regclass::text,
       array_to_string(ARRAY(SELECT a.attname FROM unnest(c.conkey) AS k
                             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k),
                       ', ')
FROM pg_constraint c
WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
  AND NOT EXISTS (
      SELECT 1 FROM pg_index i
      WHERE i.indrelid = c.conrelid
        AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
        AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)
ORDER BY 1
"""


def test_every_foreign_key_leads_an_index(make_app: Callable[..., Flask]) -> None:
    """ON DELETE CASCADE / SET NULL find the referencing rows by the key's columns: without an
    index that leads with them, each deleted member scans the whole referencing table."""
    app = make_app()
    with app.app_context(), db.engine.connect() as conn:
        missing = [f"{table} ({columns}): {name}"
                   for name, table, columns in conn.execute(text(FOREIGN_KEYS_WITHOUT_INDEX))
                   if name not in UNINDEXED_FOREIGN_KEYS]
    assert not missing, "foreign keys with no index leading with their columns:\n" + \
        "\n".join(missing)


def test_seed_fills_every_table_in_shape(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    with app.app_context(), db.engine.connect() as conn:
        result = seed(conn, 40, batch=15)  # three batches, the last one short
        counts: dict[str, int] = {
            table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
            for table in TABLES}  # (our own table names)
        numbers: list[str] = list(conn.execute(text("SELECT number FROM idp_cards")).scalars())
        sizes = conn.execute(text(
            "SELECT min(length(encrypted_personal_data)), max(length(encrypted_personal_data)) "
            "FROM idp_cards")).one()
        open_sessions: int = conn.execute(text(
            "SELECT count(*) FROM idp_sessions WHERE revoked_at IS NULL "
            "AND cookie_hash IS NOT NULL")).scalar_one()
    assert result["members"] == 40 and set(result["tables"]) == set(TABLES)
    per_member = {"idp_members": 1, "idp_cards": 1, "idp_coop_accounts": 1, "idp_grants": 1,
                  "idp_oauth_codes": 1, "idp_oauth_tokens": 1, "idp_sessions": 2,
                  "idp_refresh_tokens": 4, "idp_audit_events": 6}
    assert {t: counts[t] for t in per_member} == {t: 40 * n for t, n in per_member.items()}
    assert open_sessions == 40
    assert all(is_valid_card_number(n) for n in numbers) and len(set(numbers)) == 40
    assert sizes[0] > 1000 and sizes[1] < 2200  # envelopes of 1–2 KB
