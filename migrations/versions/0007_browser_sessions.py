"""idp sessions held by a browser cookie; back-channel logout URIs (issue #9)

- ``idp_sessions.cookie_hash``: SHA-256 of the session cookie's secret (unique, NULL for a
  session opened before this revision: it goes on with its refresh tokens, without a cookie).
- ``idp_sessions.auth_time``: the last password proof; existing sessions take their creation.
- ``idp_oauth_clients.backchannel_logout_uri``: OpenID Connect Back-Channel Logout 1.0.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('idp_sessions') as batch:
        batch.add_column(sa.Column('cookie_hash', sa.String(64), nullable=True))
        batch.add_column(sa.Column('auth_time', sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint('uq_idp_sessions_cookie_hash', ['cookie_hash'])
    op.execute('UPDATE idp_sessions SET auth_time = created_at')
    with op.batch_alter_table('idp_sessions') as batch:
        batch.alter_column('auth_time', existing_type=sa.DateTime(timezone=True), nullable=False)
    with op.batch_alter_table('idp_oauth_clients') as batch:
        batch.add_column(sa.Column('backchannel_logout_uri', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('idp_oauth_clients') as batch:
        batch.drop_column('backchannel_logout_uri')
    with op.batch_alter_table('idp_sessions') as batch:
        batch.drop_constraint('uq_idp_sessions_cookie_hash', type_='unique')
        batch.drop_column('auth_time')
        batch.drop_column('cookie_hash')
