"""indexes for the purge of ended rows (issue #10, idp/retention.py)

Sessions (with their tickets, found by ``ix_idp_oauth_codes_session_id``), cooperatives'
tokens and recovery attempts that ended a week ago, and registrations never finished, are
deleted by the notification worker; each of these columns finds them without reading the
table. ``idp_sessions.last_used_at`` is left unindexed on purpose: every use of a session
updates it, and an index on it would end those HOT updates.

Each index is built in one pass (seconds for a million rows); writes to its table wait for it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 19:00:00

"""
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

INDEXES = (
    ('idp_recovery_attempts', 'ix_idp_recovery_attempts_expires_at', 'expires_at'),
    ('idp_registrations', 'ix_idp_registrations_created_at', 'created_at'),
    ('idp_sessions', 'ix_idp_sessions_expires_at', 'expires_at'),
    ('idp_sessions', 'ix_idp_sessions_revoked_at', 'revoked_at'),
    ('idp_oauth_tokens', 'ix_idp_oauth_tokens_expires_at', 'expires_at'),
)


def upgrade():
    for table, name, column in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, [column], unique=False)


def downgrade():
    for table, name, _ in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
