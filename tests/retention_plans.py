"""Each purge rule's statements as PostgreSQL plans them with sequential scans off: a ``Seq
Scan`` left in such a plan means no index can serve it (common/retention.py). Planned, not
run: the selection of ended rows, and the deletion of their dependents' rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete

from common.db import db
from common.retention import BATCH, Rule


def scanned_whole(rules: Iterable[Rule], cutoff: datetime) -> dict[str, str]:
    """The plans, by rule and dependent table, of the statements that read a table whole."""
    scans = {}
    with db.engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        for rule in rules:
            selection = rule.selection(cutoff, BATCH)
            statements = {rule.name: selection} | {
                f"{rule.name} → {key.class_.__tablename__}":
                    delete(key.class_).where(key.in_(selection)) for key in rule.dependents}
            for name, statement in statements.items():
                plan = _plan(connection, statement)
                if "Seq Scan" in plan:
                    scans[name] = plan
    return scans


def _plan(connection: Connection, statement: Any) -> str:
    compiled = statement.compile(dialect=connection.dialect,
                                 compile_kwargs={"render_postcompile": True})
    return "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}",
                                                                  compiled.params))
