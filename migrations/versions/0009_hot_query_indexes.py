"""indexes for the queries that scanned a whole table (issue #10, tests/idp/test_query_plans.py)

- ``idp_oauth_codes.session_id``: every logout and every replaced session looks up the
  tickets of the ending sessions, to tell their clients (back-channel logout). Tickets are
  kept after use (to recognise a replay), so the table grows with every sign-in; without the
  index the lookup read all of a cooperative's tickets.
- ``idp_oauth_codes.grant_id``: the foreign key's ON DELETE CASCADE looks tickets up by grant
  when a grant or a member goes.
- ``idp_login_attempts.email``, ``idp_recovery_attempts.member_id``, ``idp_outbox.to_email``
  and ``idp_outbox.subscriber_id``: deleting an account erases the member's rows there by
  those columns; login attempts and outbox rows accumulate with every login and every email.

Each index is built in one pass (seconds for a million rows); writes to its table wait for it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 12:00:00

"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

INDEXES = (
    ('idp_oauth_codes', 'ix_idp_oauth_codes_session_id', 'session_id'),
    ('idp_oauth_codes', 'ix_idp_oauth_codes_grant_id', 'grant_id'),
    ('idp_login_attempts', 'ix_idp_login_attempts_email', 'email'),
    ('idp_recovery_attempts', 'ix_idp_recovery_attempts_member_id', 'member_id'),
    ('idp_outbox', 'ix_idp_outbox_to_email', 'to_email'),
    ('idp_outbox', 'ix_idp_outbox_subscriber_id', 'subscriber_id'),
)


def upgrade():
    for table, name, column in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, [column], unique=False)


def downgrade():
    for table, name, _ in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
