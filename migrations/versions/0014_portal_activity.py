"""what the portal saw members do, per day (counts for the operators' analytics, issue #12)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 20:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'portal_activity_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('sub', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint('day', 'sub', 'kind', name=op.f('pk_portal_activity_days')),
    )


def downgrade():
    op.drop_table('portal_activity_days')
