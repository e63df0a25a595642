"""Statements sent past SQLAlchemy: ``common.db.HotStatement`` runs its one statement prepared on
a psycopg cursor of its own (kept with the pooled connection), so SQLAlchemy's events do not see
it. Tests that count or plan every statement watch the driver too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg


@contextmanager
def prepared_statements(record: Callable[[Any, str, Any], None]) -> Iterator[None]:
    """``record(cursor, sql, params)`` for every statement a ``HotStatement`` sends while the
    block runs: the prepared ones (SQLAlchemy runs its statements on cursors too, unprepared,
    and its events already see those)."""
    cursor_execute = psycopg.Cursor.execute

    def watched(cursor: Any, query: Any, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("prepare"):
            record(cursor, str(query), params)
        return cursor_execute(cursor, query, params, *args, **kwargs)

    psycopg.Cursor.execute = watched  # type: ignore[method-assign]
    try:
        yield
    finally:
        psycopg.Cursor.execute = cursor_execute  # type: ignore[method-assign]


def driver_statements(record: Callable[[str, Any], None]) -> AbstractContextManager[None]:
    """``record(sql, params)`` for every statement a ``HotStatement`` sends while the block runs."""
    return prepared_statements(lambda _cursor, sql, params: record(sql, params))
