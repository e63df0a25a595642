"""The SQLAlchemy handle shared by the apps; each app owns its own tables (DESIGN.md §4)."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, has_app_context
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    TypeDecorator,
    event,
    exc,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

# Stable constraint names, so that Alembic migrations look the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL (document-shaped data, DESIGN.md §4), plain JSON on SQLite.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)

# What functions outside a request accept: a plain Session or Flask-SQLAlchemy's scoped one.
DbSession = Session | scoped_session[Any]


# SQLite (the embedded default) under several worker processes: every transaction takes the
# write lock when it begins (BEGIN IMMEDIATE), so a read-then-write never meets a concurrent
# writer half-way (SQLite would answer "database is locked" at once instead of waiting), and
# a waiting writer waits up to the busy timeout. PostgreSQL needs none of this: row locks and
# atomic UPDATE ... RETURNING do the same there.
# A reader that must not wait for its own thread's open transaction (the signing-key cache,
# reloaded in the middle of a request) asks for a deferred one: READ_ONLY_OPTIONS.
SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY_OPTIONS = {"sqlite_begin": "DEFERRED"}


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None  # the driver's own BEGIN would be DEFERRED
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Any) -> None:
    if connection.dialect.name == "sqlite":
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # one statement, atomic on its own (autocommit_connection)
        mode = options.get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql("BEGIN DEFERRED" if mode == "DEFERRED" else "BEGIN IMMEDIATE")


# -- the connection pool (issue #10) ---------------------------------------------------------
# ``pool_pre_ping`` cost a round trip on every checkout: a quarter of a protected read's trips.
# Instead a connection is pinged only when it comes back from a rest long enough for the server
# or a proxy to have dropped it, and recycled after half an hour. A connection that dies while
# in use (the server restarted under load) fails that one request; SQLAlchemy then invalidates
# the whole pool, so the next requests get fresh connections.
PING_AFTER_IDLE_SECONDS = 10.0
ENGINE_OPTIONS: dict[str, Any] = {"pool_recycle": 1800, "pool_pre_ping": False}


def engine_options(url: str) -> dict[str, Any]:
    """``ENGINE_OPTIONS`` for the database at ``url``. PostgreSQL sessions run in UTC: psycopg
    hands a timestamptz back in the session's TimeZone, and HotStatement's rows skip
    ``UtcDateTime``'s conversion, so they are UTC only if the session is, whatever the server's
    default."""
    if url.startswith("postgresql"):
        return ENGINE_OPTIONS | {"connect_args": {"options": "-c TimeZone=UTC"}}
    return ENGINE_OPTIONS


@event.listens_for(Engine, "checkin")
def _note_rest(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


@event.listens_for(Engine, "checkout")
def _ping_after_rest(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    rested = time.monotonic() - record.info.get("checked_in_at", time.monotonic())
    if rested < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        # The driver opened a transaction for the ping: close it, or the connection cannot be
        # switched to autocommit (autocommit_connection) and the request fails.
        dbapi_connection.rollback()
    except Exception as error:
        # The pool discards this connection and checks out another (up to three times).
        raise exc.DisconnectionError(f"connection dropped while idle: {error}") from error


# A second engine over the same pool per app engine, in autocommit: a statement on it is its own
# transaction, with no BEGIN and no COMMIT or ROLLBACK round trips.
_autocommit_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


def without_transaction() -> None:
    """Bind the request's session, before its first statement, to an autocommit connection:
    its reads then cost one round trip each. A commit ends this; what follows is transactional
    again. A session already in a transaction (a test's app context around several requests)
    stays in it."""
    session = db.session()  # the request's Session behind the scoped proxy
    if not session.in_transaction():
        session.connection(execution_options=AUTOCOMMIT)


@contextmanager
def autocommit_connection() -> Iterator[Connection]:
    """A connection outside any transaction, for the hot paths that need exactly one statement
    (a token read, a ticket claim, a refresh rotation): each statement commits on its own, so it
    must be atomic by itself. It does not see the request session's uncommitted writes.

    Inside an app context (a request) the statements share one connection, checked out at the
    first and returned when the context ends (``init_autocommit``): a checkout and its return
    were a fifth of a ticket exchange's CPU, which runs three such statements (issue #10)."""
    if has_app_context():
        connection = g.get(_HELD)
        if connection is None or connection.closed:
            connection = _autocommit_engine().connect()
            setattr(g, _HELD, connection)
        yield connection
        return
    with _autocommit_engine().connect() as connection:
        yield connection


_HELD = "_cardcoop_autocommit_connection"


def _autocommit_engine() -> Engine:
    engine = db.engine
    autocommit = _autocommit_engines.get(engine)
    if autocommit is None:
        autocommit = _autocommit_engines[engine] = engine.execution_options(**AUTOCOMMIT)
    return autocommit


def init_autocommit(app: Flask) -> None:
    """Return the app context's autocommit connection to the pool when the context ends."""

    @app.teardown_appcontext
    def _return_autocommit_connection(_error: BaseException | None) -> None:
        connection = g.pop(_HELD, None)
        if connection is not None:
            connection.close()


class HotStatement:
    """One statement on the hottest paths (a cooperative's token on every protected read, the
    ticket exchange, a refresh rotation, a sign-in's single-statement steps, the member's card
    read), run on an autocommit connection: it is its own transaction, so it must be atomic by
    itself.

    On PostgreSQL it is compiled once and run prepared on the pool's own psycopg connection,
    past SQLAlchemy's execute and result machinery (measured in issue #10: 305 µs of CPU per
    lookup that way, about 100 µs this one). The values go through the columns' own bind
    processors (JSONB, aware UTC datetimes), and the row comes back in psycopg's native types,
    which are the ones the columns' SQLAlchemy types give (tested). Python-side column defaults
    do not run here: an INSERT names every such column among its values (checked). Other
    databases (SQLite, the embedded default) take SQLAlchemy's path; both give the same row."""

    def __init__(self, statement: Any = None, *,
                 upsert: Callable[[Any], Any] | None = None) -> None:
        """``statement``; or ``upsert``, a function of the dialect's ``insert`` that builds an
        ``INSERT ... ON CONFLICT`` (each dialect spells that clause its own way), run once per
        dialect."""
        if (statement is None) == (upsert is None):
            raise TypeError("HotStatement takes a statement or an upsert, one of the two")
        self._build = upsert or (lambda _insert: statement)
        self._statements: dict[str, Any] = {}  # per dialect name
        # The row's keys, from the statement: psycopg's cursor.description builds a Column
        # object per column and call (40 µs for a row of 13).
        self.keys = tuple(self.statement_for("postgresql").exported_columns.keys())
        self._compiled: dict[int, _Compiled] = {}  # per engine dialect instance

    def statement_for(self, dialect: str) -> Any:
        """The statement as the dialect named ``dialect`` runs it."""
        statement = self._statements.get(dialect)
        if statement is None:
            statement = self._statements[dialect] = self._build(_INSERTS[dialect])
        return statement

    def first(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """The first row as a dict, or None (a SELECT, or a write with RETURNING)."""
        rows = self._fetch(params, only_first=True)
        return rows[0] if rows else None

    def all(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every row, each as a dict (a SELECT)."""
        return self._fetch(params, only_first=False)

    def _fetch(self, params: dict[str, Any], *, only_first: bool) -> list[dict[str, Any]]:
        with autocommit_connection() as connection:
            if connection.dialect.name != "postgresql":
                result = connection.execute(self.statement_for(connection.dialect.name),
                                            params).mappings()
                return [dict(row) for row in ([result.first()] if only_first else result)
                        if row is not None]
            cursor = self._run(connection, params)
            rows = [cursor.fetchone()] if only_first else cursor.fetchall()
            return [dict(zip(self.keys, row, strict=True)) for row in rows if row is not None]

    def run(self, params: dict[str, Any]) -> None:
        """A write whose rows nobody reads."""
        with autocommit_connection() as connection:
            if connection.dialect.name != "postgresql":
                connection.execute(self.statement_for(connection.dialect.name), params)
                return
            self._run(connection, params)

    def _run(self, connection: Connection, params: dict[str, Any]) -> Any:
        compiled = self._compiled.get(id(connection.dialect))
        if compiled is None:
            compiled = self._compiled[id(connection.dialect)] = _Compiled(
                self.statement_for("postgresql"), connection.dialect)
        # One cursor per pooled connection, made at its first hot statement and kept with it
        # (the pool record's info lives and dies with the driver's connection): psycopg's
        # Connection.execute builds a new cursor per call, 22 µs of a 93 µs read (issue #10).
        # A connection serves one request, and so one thread, at a time; each statement's rows
        # are read before the next one runs on the same cursor.
        fairy = connection.connection
        driver = fairy.driver_connection
        cursor = fairy.info.get(_CURSOR)
        if cursor is None or cursor.connection is not driver:
            cursor = fairy.info[_CURSOR] = driver.cursor()  # type: ignore[union-attr]
        return cursor.execute(compiled.sql, compiled.values(params), prepare=True)


_CURSOR = "cardcoop_hot_cursor"


class _Compiled:
    """A statement's SQL text for one dialect, and how a call's values become the driver's."""

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        if compiled.escaped_bind_names:  # the text's names would differ from the values' keys
            raise ValueError(f"rename the parameters {sorted(compiled.escaped_bind_names)}")
        # Columns whose Python-side default SQLAlchemy would compute at execution: the caller's.
        defaulted = {column.key for column in (*compiled.insert_prefetch,
                                               *compiled.update_prefetch)}
        # Values the statement carries itself (a LIMIT, a literal in an expression).
        self.fixed = {name: bind.value for name, bind in compiled.binds.items()
                      if not bind.required and bind.callable is None and name not in defaulted}
        self.needed = set(compiled.binds) - set(self.fixed)
        self.processors = {name: processor for name, bind in compiled.binds.items()
                           if (processor := bind.type.dialect_impl(dialect)
                               .bind_processor(dialect)) is not None}

    def values(self, params: dict[str, Any]) -> dict[str, Any]:
        missing = self.needed - params.keys()
        if missing:  # a column default SQLAlchemy would have filled in, or a forgotten value
            raise ValueError(f"values missing for {sorted(missing)}")
        values = {**self.fixed, **params}
        for name, process in self.processors.items():
            values[name] = process(values[name])
        return values


def compare_and_set(model: type[Any], *conditions: Any, **values: Any) -> bool:
    """``UPDATE model SET values WHERE conditions RETURNING``: True when this request changed the
    row. The one way a counter is taken or a one-time value spent under parallel requests:
    PostgreSQL re-checks the conditions on the row another transaction just committed, SQLite
    runs one writer at a time, so exactly as many requests succeed as the conditions allow."""
    key = model.__mapper__.primary_key[0]
    changed = db.session.execute(update(model).where(*conditions).values(**values)
                                 .returning(key)).first()
    return changed is not None


def rows_affected(result: Any) -> int:
    """How many rows a plain UPDATE or DELETE changed (0 where the driver does not say)."""
    return int(getattr(result, "rowcount", 0) or 0)


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def dialect_insert(model: type[Any]) -> Any:
    """``INSERT`` with the ``ON CONFLICT`` clauses PostgreSQL and SQLite share."""
    dialect = db.session.get_bind().dialect.name
    if dialect not in _INSERTS:
        raise RuntimeError(f"unsupported database {dialect}")
    return _INSERTS[dialect](model)


def insert_ignoring_conflict(model: type[Any], **values: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite: make a row exist when
    several requests may be making it at once, without an IntegrityError for the losers."""
    return dialect_insert(model).values(**values).on_conflict_do_nothing()


def inserted_if_absent(model: type[Any], **values: Any) -> bool:
    """``insert_ignoring_conflict`` in the request's session, and whether it inserted: told by
    RETURNING, as the ORM's rowcount is not reliable for it on every driver (psycopg answered
    1 for a row that was already there)."""
    primary_key = list(model.__table__.primary_key.columns)
    statement = insert_ignoring_conflict(model, **values).returning(*primary_key)
    return db.session.execute(statement).first() is not None


def utcnow() -> datetime:
    """Timezone-aware now; every timestamp is stored in UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out on every database. SQLite keeps no offset and hands back
    naive values; they were written as UTC, so they are read as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: use common.db.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
