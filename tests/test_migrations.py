"""The Alembic migrations and the SQLAlchemy models describe the same schema (DESIGN.md §4:
``alembic check`` clean), and on PostgreSQL the audit log is append-only at the database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

import portal.models  # noqa: F401 (the portal's tables are in the metadata too)
from common.db import db
from common.security import ClientInfo
from idp import audit
from idp.models import AuditEvent


def schema_diff(app, metadata: sa.MetaData | None = None) -> list:
    with app.app_context(), db.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), metadata or db.metadata)


def test_migrations_match_the_models(make_app):
    app = make_app()
    diff = schema_diff(app)
    assert diff == [], "\n".join(map(str, diff))


def test_the_comparison_sees_a_difference(make_app):
    """The check above can fail: a column the migrations never made shows up (on a copy of
    the metadata, so that the models stay as they are)."""
    app = make_app()
    copy = sa.MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.sorted_tables:
        table.to_metadata(copy)
    copy.tables["idp_audit_events"].append_column(
        sa.Column("h4_not_migrated", sa.String(10), nullable=True))
    diff = schema_diff(app, copy)
    assert any("h4_not_migrated" in str(change) for change in diff), diff


def test_every_model_table_exists_after_the_migrations(make_app):
    app = make_app()
    with app.app_context():
        existing = set(sa.inspect(db.engine).get_table_names())
    assert {t for t in db.metadata.tables if t.startswith("idp_")} <= existing
    assert "alembic_version" in existing


@pytest.fixture
def one_event(make_app):
    app = make_app()
    with app.app_context():
        audit.record("h4_probe", client=ClientInfo(ip="198.51.100.7", user_agent="pytest"),
                     actor="h4@example.com", note="migration test")
        db.session.commit()
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the append-only trigger exists on PostgreSQL only")
    return app


def count_events(conn) -> int:
    return conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


@pytest.mark.parametrize("statement", [
    "UPDATE idp_audit_events SET event = 'x'",
    "UPDATE idp_audit_events SET actor = 'someone-else' WHERE event = 'h4_probe'",
    "DELETE FROM idp_audit_events",
    "DELETE FROM idp_audit_events WHERE event = 'h4_probe'",
    "TRUNCATE idp_audit_events",
])
def test_postgres_refuses_to_change_audit_events(one_event, statement):
    with one_event.app_context(), db.engine.connect() as conn:
        before = count_events(conn)
        assert before >= 1
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))
        conn.rollback()
        assert count_events(conn) == before
        events = conn.execute(select(AuditEvent.event)).scalars().all()
        assert "h4_probe" in events and "x" not in events


def test_postgres_still_accepts_new_audit_events(one_event):
    with one_event.app_context(), db.engine.connect() as conn:
        before = count_events(conn)
        conn.execute(sa.insert(AuditEvent).values(
            event="h4_second", actor="h4@example.com", ip="", details={},
            at=sa.func.now()))
        assert count_events(conn) == before + 1
        conn.rollback()
        assert count_events(conn) == before
