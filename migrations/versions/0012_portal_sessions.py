"""the portal's server-side sessions (issue #12): an opaque cookie id, idp's tokens encrypted

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 19:50:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table(
        'portal_sessions',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('data', JSON, nullable=False),
        sa.Column('sub', sa.String(length=64), nullable=True),
        sa.Column('sid', sa.String(length=64), nullable=True),
        sa.Column('tokens_encrypted', sa.LargeBinary(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_portal_sessions')),
    )
    op.create_index('ix_portal_sessions_sid', 'portal_sessions', ['sid'], unique=False)
    op.create_index('ix_portal_sessions_sub', 'portal_sessions', ['sub'], unique=False)
    op.create_index('ix_portal_sessions_expires_at', 'portal_sessions', ['expires_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_portal_sessions_expires_at', table_name='portal_sessions')
    op.drop_index('ix_portal_sessions_sub', table_name='portal_sessions')
    op.drop_index('ix_portal_sessions_sid', table_name='portal_sessions')
    op.drop_table('portal_sessions')
