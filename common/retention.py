"""Deleting what has ended, in short batches (issue #10: the cost of a request must not grow
with the days the platform has run). Each app lists its own rules (idp/retention.py,
portal/retention.py) and its worker runs them every ``purge_interval`` seconds.

Rows go ``BATCH`` at a time, each batch its own short transaction, so a purge after a long pause
never holds locks on a hot table for long.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.exc import SQLAlchemyError

from common.db import DbSession, db, rows_affected, utcnow

log = logging.getLogger("cardcoop.retention")

BATCH = 1000


@dataclass(frozen=True)
class Rule:
    """A table's rows that ended before ``cutoff`` (the moment the app keeps them until)."""

    model: type[Any]
    ended: Callable[[datetime], ColumnElement[bool]]
    # Foreign keys (or, where the schema has none, columns) of other tables naming these rows:
    # their rows go with them, first (SQLite enforces no foreign keys).
    dependents: tuple[Any, ...] = ()

    @property
    def name(self) -> str:
        return str(self.model.__tablename__)

    @property
    def key(self) -> Any:
        return self.model.__mapper__.primary_key[0]

    def selection(self, cutoff: datetime, limit: int) -> Any:
        return select(self.key).where(self.ended(cutoff)).limit(limit)


class PurgeFailed(RuntimeError):
    """The database refused the purge of these tables (the others went on; each is logged)."""

    def __init__(self, tables: list[str]) -> None:
        super().__init__(f"could not purge {', '.join(tables)}")
        self.tables = tables


def purge(session: DbSession, rules: Iterable[Rule], cutoff: datetime, *,
          batch: int = BATCH) -> dict[str, int]:
    """Delete the rows each rule finds ended before ``cutoff``, in order, and their dependents'
    rows; how many went, by table. Commits after every batch. A rule the database refuses (a
    lock timeout, a deadlock with another worker's purge, a lost connection) does not stop the
    others: they run, then ``PurgeFailed`` names it."""
    purged: dict[str, int] = {}
    failed = []
    for rule in rules:
        purged[rule.name] = 0
        for foreign_key in rule.dependents:
            purged[foreign_key.class_.__tablename__] = 0
        try:
            _purge(session, rule, cutoff, batch, purged)
        except SQLAlchemyError as error:
            session.rollback()
            log.warning("purge of %s failed (%s); the next tables go on", rule.name,
                        type(error).__name__)
            failed.append(rule.name)
    if any(purged.values()):
        log.info("purged ended rows: %s", summary(purged))
    if failed:
        raise PurgeFailed(failed)
    return purged


def summary(purged: dict[str, int]) -> str:
    return ", ".join(f"{name}: {count}" for name, count in purged.items())


def _purge(session: DbSession, rule: Rule, cutoff: datetime, batch: int,
           purged: dict[str, int]) -> None:
    while True:
        ids: list[Any] = list(session.scalars(rule.selection(cutoff, batch)))
        if ids:
            for foreign_key in rule.dependents:
                gone = session.execute(delete(foreign_key.class_).where(foreign_key.in_(ids)))
                purged[foreign_key.class_.__tablename__] += rows_affected(gone)
            session.execute(delete(rule.model).where(rule.key.in_(ids)))
        session.commit()
        purged[rule.name] += len(ids)
        if len(ids) < batch:
            return


def ended_rows_command(purge_expired: Callable[[datetime], dict[str, int]],
                       help: str) -> click.Command:
    """An app's ``flask purge``: its rules once; the counts, or a failing exit naming the
    tables the database refused."""

    @click.command("purge", help=help)
    @with_appcontext
    def command() -> None:
        try:
            purged = purge_expired(utcnow())
        except PurgeFailed as failed:
            raise click.ClickException(str(failed)) from None
        click.echo(summary(purged))

    return command


class Schedule:
    """A worker's purge: due at once, then every ``seconds`` (monotonic clock). A table the
    database refused is logged by ``purge`` and tried again next time."""

    def __init__(self, purge_expired: Callable[[datetime], dict[str, int]],
                 seconds: float) -> None:
        self.purge_expired = purge_expired
        self.seconds = seconds
        self._next = time.monotonic()

    def run_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.seconds
        with contextlib.suppress(PurgeFailed):
            self.purge_expired(utcnow())
        db.session.remove()
