"""where a member joins a cooperative from the portal: a join URI registered per client
(issue #12, "add an account in a new cooperative")

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 23:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('idp_oauth_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('join_uri', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('idp_oauth_clients', schema=None) as batch_op:
        batch_op.drop_column('join_uri')
