"""Looking for secrets where they must never be: a full database dump and every log line.

Used after real flows (the browser e2e run, the SDK run) to prove the zero-knowledge claim: no
password, no plaintext personal datum, no private key reaches the server's storage or logs.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy.engine import make_url

from common.db import db


def database_dump(app: Flask) -> str:
    """Everything the database holds, as text: ``pg_dump`` on PostgreSQL (every table, every
    row, whatever the models say), ``iterdump`` on SQLite."""
    with app.app_context():
        url = make_url(str(db.engine.url.render_as_string(hide_password=False)))
    if url.get_backend_name() == "postgresql":
        pg_dump = shutil.which("pg_dump")
        assert pg_dump, "pg_dump is needed to scan a PostgreSQL database"
        target = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return subprocess.run([pg_dump, "--data-only", "--no-owner", target],  # noqa: S603
                              check=True, capture_output=True, text=True).stdout
    assert url.database
    with sqlite3.connect(url.database) as conn:
        return "\n".join(conn.iterdump())


class LogRecorder(logging.Handler):
    """Keeps every record of every logger, formatted as a handler would write it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def recording_logs() -> Iterator[LogRecorder]:
    recorder = LogRecorder()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(recorder)
    root.setLevel(logging.DEBUG)
    try:
        yield recorder
    finally:
        root.removeHandler(recorder)
        root.setLevel(previous)


def find_leaks(haystack: str, secrets: Iterable[str]) -> list[str]:
    """The secrets that occur in the text, as they are or JSON-escaped (a JSON column on SQLite
    stores Cyrillic as \\uXXXX). A secret must be able to mean something: at least 4 characters,
    and a number at least 6 digits — a short one like a passport series "4512" turns up by
    chance in hex digests, ids and card numbers (about once in 65 000 hex positions)."""
    return [s for s in secrets if meaningful(s)
            and (s in haystack or json.dumps(s)[1:-1] in haystack)]


def meaningful(secret: str) -> bool:
    return len(secret) >= (6 if secret.isdigit() else 4)
