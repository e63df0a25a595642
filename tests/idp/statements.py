"""Statements sent past SQLAlchemy: ``common.db.HotStatement`` runs its one statement on psycopg's
connection itself (SQLAlchemy runs statements on cursors), so SQLAlchemy's events do not see it.
Tests that count or plan every statement watch the driver too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg


@contextmanager
def driver_statements(record: Callable[[str, Any], None]) -> Iterator[None]:
    """``record(sql, params)`` for every ``psycopg.Connection.execute`` while the block runs."""
    driver_execute = psycopg.Connection.execute

    def watched(conn: Any, query: Any, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        record(str(query), params)
        return driver_execute(conn, query, params, *args, **kwargs)

    psycopg.Connection.execute = watched  # type: ignore[method-assign]
    try:
        yield
    finally:
        psycopg.Connection.execute = driver_execute  # type: ignore[method-assign]
