"""the append-only audit table lets a deleted account's rows be erased (issue #9)

The trigger of 0001 refuses every UPDATE, DELETE and TRUNCATE of ``idp_audit_events``. Deleting an
account must erase the member's rows but the few the law keeps (and strip those of IP and
email), and the yearly purge must drop the kept ones at the end of their retention
(docs/security.md). Both ask the trigger's leave in their own transaction only, with
``SET LOCAL cardcoop.audit_erasure = 'member'`` (``idp.audit.erase_member`` / ``purge_retained``);
anything else is still refused, and TRUNCATE always is. PostgreSQL only: SQLite has no trigger.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 11:00:00

"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

ERASABLE = """
CREATE OR REPLACE FUNCTION idp_audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE')
            AND current_setting('cardcoop.audit_erasure', true) = 'member' THEN
        RETURN NULL;  -- a statement-level trigger: the statement goes ahead
    END IF;
    RAISE EXCEPTION 'idp_audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
"""

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION idp_audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'idp_audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
"""


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(ERASABLE)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY)
