"""Fill a migrated idp database with members in production shape (issue #10).

Usage (the database must exist and be migrated; the app need not run):

    CARDCOOP_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/seed1m \\
        .venv/bin/flask --app wsgi:idp db upgrade
    .venv/bin/python bench/seed.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/seed1m --members 1000000

Each member gets what the real flows leave behind: a canonical email, salt and Argon2id-shaped
verifier (random: nobody logs in with them), a card (Luhn-valid number, a wrapped key and an
encrypted personal-data envelope of 1–2 KB), an account at one of a handful of cooperatives, a
grant to it with a shared JWE, its used ticket and access token, a closed and an open session
with a rotated pair of refresh tokens each, and the audit rows of all that. Ciphertext is random
base64url, so it compresses no better than the real thing.

Rows are written by set-based SQL (``INSERT ... SELECT`` over a batch table), one transaction
per batch, so 1,000,000 members take minutes. Every constraint, foreign key and the audit
table's append-only trigger hold (it only inserts). ``seed()`` is the same for tests.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text

COOPERATIVES = ("voskhod", "zelenyisad", "narodnyhleb", "solnechny", "rodnik")
TABLES = ("idp_members", "idp_cards", "idp_coop_accounts", "idp_oauth_clients", "idp_grants",
          "idp_oauth_codes", "idp_oauth_tokens", "idp_sessions", "idp_refresh_tokens",
          "idp_audit_events")
PRIVACY_VERSION = "2026-11-01"  # idp/privacy.py VERSION, kept literal: no app import needed
KDF_ITERATIONS = 600_000  # the production default (common/settings.py)
SCHEMA = "card.coop/schema/v1"
# A multiplier coprime with 10**14: (n * M) mod 10**14 is a bijection, so numbers are unique
# without a lookup, and look random.
NUMBER_MULTIPLIER = 73_244_475_451
POOL_CHARS = 32 * 1024

# The real JWE headers (base64url of their JSON), so envelopes start as the browser's do.
HEADER_CARD_KEY = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwiY3R5IjoiY2FyZC1rZXkiLCJ2IjoxfQ"
HEADER_PERSONAL = ("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwiY3R5IjoicGVyc29uYWwtZGF0YStqc29uIiwid"
                   "iI6MSwic2NoZW1hIjoiY2FyZC5jb29wL3NjaGVtYS92MSJ9")
HEADER_ACCOUNT = ("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwiY3R5IjoiY29vcC1hY2NvdW50K2pzb24iLCJ2"
                  "IjoxfQ")
HEADER_SHARE = "eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIsImVuYyI6IkEyNTZHQ00iLCJraWQiOiJzZWVkIn0"

# pg_temp helpers, gone with the connection. rnd(n): n random base64url characters, cut at a
# random place from a pool made per run. The pool is a bytea constant in the function's text:
# the function is inlined, and a bytea slice is O(1) where a text one walks the characters
# (40x slower). A value is random within itself, which is all TOAST compression sees.
# luhn(body): the check digit of idp/card/numbers.py.
HELPERS = """
CREATE OR REPLACE FUNCTION pg_temp.rnd(n int) RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT encode(substring('{pool}'::bytea from 1 + floor(random() * ({pool_len} - n))::int
                            for n), 'escape')
$$;
CREATE OR REPLACE FUNCTION pg_temp.hex64() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
$$;
CREATE OR REPLACE FUNCTION pg_temp.jwe(header text, key_len int, body_len int) RETURNS text
    LANGUAGE sql VOLATILE AS $$
    SELECT header || '.' || pg_temp.rnd(key_len) || '.' || pg_temp.rnd(16) || '.'
        || pg_temp.rnd(body_len) || '.' || pg_temp.rnd(22)
$$;
CREATE OR REPLACE FUNCTION pg_temp.luhn(body text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT ((10 - sum(CASE WHEN k % 2 = 0
                      THEN substr(body, length(body) - k, 1)::int * 2
                           - CASE WHEN substr(body, length(body) - k, 1)::int > 4 THEN 9 ELSE 0 END
                      ELSE substr(body, length(body) - k, 1)::int END) % 10) % 10)::text
    FROM generate_series(0, length(body) - 1) AS k
$$;
"""

CLIENTS = """
INSERT INTO idp_oauth_clients (client_id, secret_hash, redirect_uris, iframe_origins,
        post_logout_redirect_uris, id_token_signed_response_alg, created_at, secret_rotated_at)
    SELECT c, pg_temp.hex64(), jsonb_build_array('https://' || c || '.example/callback'),
           jsonb_build_array('https://' || c || '.example'), '[]', 'RS256', now(), now()
    FROM unnest(CAST(:coops AS text[])) AS c
ON CONFLICT (client_id) DO NOTHING
"""

# One row per member of the batch: every id the other tables point at, decided once.
BATCH = """
CREATE TEMP TABLE seed_batch ON COMMIT DROP AS
SELECT n, gen_random_uuid() AS member_id, gen_random_uuid() AS card_id,
       gen_random_uuid() AS account_id, gen_random_uuid() AS grant_id,
       gen_random_uuid() AS old_session, gen_random_uuid() AS session_id,
       gen_random_uuid() AS code_id, gen_random_uuid() AS token_id,
       (CAST(:coops AS text[]))[1 + n % cardinality(CAST(:coops AS text[]))] AS coopname,
       'u' || translate(substr(md5(n::text || :tag), 1, 11), '0123456789', 'klmnopqrst')
           AS username,
       'PUB_K1_' || translate(pg_temp.rnd(50), '-_0OIl', 'abcdef') AS public_key,
       'seed' || n || '.' || :tag || '@' || (ARRAY['example.org', 'mail.example', 'пример.рф',
           'coop.example'])[1 + n % 4] AS email,
       '2' || lpad(((n * CAST(:multiplier AS bigint)) % 100000000000000)::text, 14, '0')
           AS number_body,
       now() - random() * interval '3 years' AS joined,
       now() - random() * interval '20 days' AS seen
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS n
"""

FILL = (
    """
INSERT INTO idp_members (id, email, server_salt, kdf_type, kdf_iterations, verifier,
        privacy_version, privacy_accepted_at, created_at, password_changed_at,
        recovery_verifier, recovery_wrapped_card_key, recovery_created_at)
SELECT member_id, email, pg_temp.rnd(22), 'pbkdf2-sha256', :iterations,
       '$argon2id$v=19$m=19456,t=2,p=1$' || pg_temp.rnd(22) || '$' || pg_temp.rnd(43),
       :privacy, joined, joined,
       CASE WHEN n % 5 = 0 THEN joined + interval '30 days' END,
       CASE WHEN n % 3 = 0 THEN '$argon2id$v=19$m=19456,t=2,p=1$' || pg_temp.rnd(22) || '$'
            || pg_temp.rnd(43) END,
       CASE WHEN n % 3 = 0 THEN pg_temp.jwe(:h_card_key, 0, 59) END,
       CASE WHEN n % 3 = 0 THEN joined END
FROM seed_batch
""",
    """
INSERT INTO idp_cards (id, member_id, number, wrapped_card_key, encrypted_personal_data, meta,
        revision, created_at, updated_at)
SELECT card_id, member_id, number_body || pg_temp.luhn(number_body),
       pg_temp.jwe(:h_card_key, 0, 59),
       pg_temp.jwe(:h_personal, 0, 1000 + floor(random() * 1000)::int),
       jsonb_build_object('version', 1, 'schema', CAST(:schema AS text)), 1 + n % 3, joined, seen
FROM seed_batch
""",
    """
INSERT INTO idp_coop_accounts (id, card_id, coopname, username, public_key, encrypted_account,
        created_at)
SELECT account_id, card_id, coopname, username, public_key,
       pg_temp.jwe(:h_account, 0, 380 + floor(random() * 200)::int), joined
FROM seed_batch
""",
    """
INSERT INTO idp_grants (id, member_id, client_id, scope, username, public_key, encrypted_data,
        recipient_kid, shared_fields, created_at, updated_at)
SELECT grant_id, member_id, coopname, 'openid email share', username, public_key,
       pg_temp.jwe(:h_share, 54, 900 + floor(random() * 800)::int), pg_temp.rnd(43),
       '["first_name", "last_name"]', joined, joined
FROM seed_batch
""",
    """
INSERT INTO idp_sessions (id, member_id, user_agent, ip, created_at, last_used_at, expires_at,
        revoked_at, revoke_reason, cookie_hash, auth_time)
SELECT old_session, member_id, :agent, '198.51.100.' || n % 250, joined, joined,
       joined + interval '30 days', joined + interval '1 hour', 'logout', NULL, joined
FROM seed_batch
UNION ALL
SELECT session_id, member_id, :agent, '203.0.113.' || n % 250, seen, seen,
       seen + interval '30 days', NULL, NULL, pg_temp.hex64(), seen
FROM seed_batch
""",
    """
INSERT INTO idp_refresh_tokens (session_id, token_hash, created_at, rotated_at)
SELECT s, pg_temp.hex64(), at, at + interval '15 minutes'
FROM seed_batch, LATERAL (VALUES (old_session, joined), (session_id, seen)) AS v(s, at)
UNION ALL
SELECT s, pg_temp.hex64(), at + interval '15 minutes', NULL
FROM seed_batch, LATERAL (VALUES (old_session, joined), (session_id, seen)) AS v(s, at)
""",
    """
INSERT INTO idp_oauth_codes (id, code_hash, client_id, member_id, grant_id, session_id,
        redirect_uri, scope, code_challenge, code_challenge_method, claims, auth_time,
        created_at, expires_at, used_at)
SELECT code_id, pg_temp.hex64(), coopname, member_id, grant_id, session_id,
       'https://' || coopname || '.example/callback', 'openid email share', pg_temp.rnd(43),
       'S256', jsonb_build_object('sub', card_id, 'sid', session_id, 'email', email,
                                  'email_verified', true),
       extract(epoch FROM seen)::int, seen, seen + interval '5 minutes',
       seen + interval '2 seconds'
FROM seed_batch
""",
    """
INSERT INTO idp_oauth_tokens (id, token_hash, client_id, member_id, grant_id, code_id, scope,
        claims, issued_at, expires_at)
SELECT token_id, pg_temp.hex64(), coopname, member_id, grant_id, code_id,
       'openid email share', jsonb_build_object('sub', card_id, 'sid', session_id,
                                                'email', email, 'email_verified', true),
       seen, seen + interval '15 minutes'
FROM seed_batch
""",
    """
INSERT INTO idp_audit_events (at, event, member_id, actor, ip, details)
SELECT at, event, member_id, member_id::text, '203.0.113.' || n % 250, details
FROM seed_batch, LATERAL (VALUES
    (joined, 'registered', jsonb_build_object('privacy_version', CAST(:privacy AS text))),
    (joined, 'card_issued', jsonb_build_object('card_id', card_id)),
    (joined, 'account_added', jsonb_build_object('coopname', coopname, 'username', username)),
    (joined, 'access_granted', jsonb_build_object('scope', 'openid email share',
                                                  'coopname', coopname)),
    (joined + interval '1 hour', 'logout', jsonb_build_object('session_id', old_session)),
    (seen, 'login_ok', '{}'::jsonb)) AS e(at, event, details)
""",
)

SIZES = """
SELECT pg_total_relation_size(CAST(:table AS regclass))
"""


def _engine(url: str) -> Engine:
    # postgresql:// means psycopg 3 here, as in common/settings.py.
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url)


def _params(first: int, last: int, tag: str) -> dict[str, Any]:
    return {"first": first, "last": last, "tag": tag, "coops": list(COOPERATIVES),
            "multiplier": NUMBER_MULTIPLIER, "iterations": KDF_ITERATIONS,
            "privacy": PRIVACY_VERSION, "schema": SCHEMA, "agent": "Mozilla/5.0 (seed)",
            "h_card_key": HEADER_CARD_KEY, "h_personal": HEADER_PERSONAL,
            "h_account": HEADER_ACCOUNT, "h_share": HEADER_SHARE}


def _size(conn: Connection, table: str) -> dict[str, int]:
    # Exact counts: after ANALYZE, reltuples is still a sample's guess.
    rows: int = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
    return {"rows": rows, "bytes": conn.execute(text(SIZES), {"table": table}).scalar_one()}


def _seed(conn: Connection, members: int, batch: int,
          progress: Callable[[str], None]) -> dict[str, Any]:
    if conn.dialect.name != "postgresql":
        raise ValueError("seeding is for PostgreSQL")
    started = time.monotonic()
    conn.execute(text("SET synchronous_commit = off"))  # a lost tail on a crash: re-run
    pool = secrets.token_urlsafe(POOL_CHARS)[:POOL_CHARS]
    helpers = HELPERS.replace("{pool_len}", str(POOL_CHARS)).replace("{pool}", pool)
    for statement in helpers.split(";\n"):
        if statement.strip():
            conn.execute(text(statement))
    conn.execute(text(CLIENTS), {"coops": list(COOPERATIVES)})
    # Card numbers come from a counter: continuing after the cards already there keeps them
    # unique across runs (the unique constraint would stop a clash, not pass it).
    offset: int = conn.execute(text("SELECT count(*) FROM idp_cards")).scalar_one()
    tag = secrets.token_hex(3)  # in every email of this run: runs never clash
    conn.commit()
    done = 0
    while done < members:
        size = min(batch, members - done)
        params = _params(offset + done + 1, offset + done + size, tag)
        conn.execute(text(BATCH), params)
        for statement in FILL:
            conn.execute(text(statement), params)
        conn.commit()
        done += size
        elapsed = time.monotonic() - started
        progress(f"{done:>10,} / {members:,} members  {elapsed:7.1f} s")
    conn.execute(text("ANALYZE"))
    conn.commit()
    sizes = {table: _size(conn, table) for table in TABLES}
    return {"members": members, "seconds": round(time.monotonic() - started, 1),
            "tables": sizes}


def seed(conn_or_url: str | Engine | Connection, members: int, *, batch: int = 100_000,
         progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Add ``members`` members (and everything that hangs off them) and ANALYZE. Returns the
    elapsed seconds and each table's rows and total bytes. A Connection is committed per
    batch."""
    report = progress or (lambda line: None)
    if isinstance(conn_or_url, Connection):
        return _seed(conn_or_url, members, batch, report)
    engine = _engine(conn_or_url) if isinstance(conn_or_url, str) else conn_or_url
    try:
        with engine.connect() as conn:
            return _seed(conn, members, batch, report)
    finally:
        if isinstance(conn_or_url, str):
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True, help="postgresql://user@host:port/db")
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--batch", type=int, default=100_000)
    args = parser.parse_args(argv)
    result = seed(args.database_url, args.members, batch=args.batch,
                  progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(f"{result['members']:,} members in {result['seconds']} s")
    total = 0
    for name, row in result["tables"].items():
        total += row["bytes"]
        print(f"  {name:<20} {row['rows']:>12,} rows  {row['bytes'] / 2**20:>10.1f} MiB")
    print(f"  {'total':<20} {'':>12}       {total / 2**20:>10.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
