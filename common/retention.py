"""Deleting what has ended, in short batches (issue #10: the cost of a request must not grow
with the days the platform has run). Each app lists its own rules (idp/retention.py,
portal/retention.py) and its worker runs them every ``purge_interval`` seconds.

Rows go ``BATCH`` at a time, each batch its own short transaction, so a purge after a long pause
never holds locks on a hot table for long.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.exc import SQLAlchemyError

from common.db import DbSession

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

    def selection(self, cutoff: datetime, limit: int) -> Any:
        return select(self.model.__mapper__.primary_key[0]).where(self.ended(cutoff)) \
            .limit(limit)


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
    key = rule.model.__mapper__.primary_key[0]
    while True:
        ids: list[Any] = list(session.scalars(rule.selection(cutoff, batch)))
        if ids:
            for foreign_key in rule.dependents:
                gone = session.execute(delete(foreign_key.class_).where(foreign_key.in_(ids)))
                purged[foreign_key.class_.__tablename__] += _rowcount(gone)
            session.execute(delete(rule.model).where(key.in_(ids)))
        session.commit()
        purged[rule.name] += len(ids)
        if len(ids) < batch:
            return


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class Every:
    """A worker's periodic job: due at once, then every ``seconds`` (monotonic clock)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._next = time.monotonic()

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.seconds
        return True
