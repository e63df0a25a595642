"""Each purge rule's selection as PostgreSQL plans it with sequential scans off: a ``Seq Scan``
left in such a plan means no index can serve it (common/retention.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from common.db import db
from common.retention import BATCH, Rule


def scanned_whole(rules: Iterable[Rule], cutoff: datetime) -> dict[str, str]:
    """The plans, by rule, of the selections that read a table whole."""
    scans = {}
    with db.engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        for rule in rules:
            compiled = rule.selection(cutoff, BATCH).compile(
                dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
            plan = "\n".join(row[0] for row in connection.exec_driver_sql(
                f"EXPLAIN {compiled}", compiled.params))
            if "Seq Scan" in plan:
                scans[rule.name] = plan
    return scans
