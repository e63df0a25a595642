"""one active signing key per algorithm, enforced by the database (issue #8)

Workers starting together each made a first key; a partial unique index makes the second insert
fail, and the loser loads the winner's key instead.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # Duplicates made before the index: the newest active key of each algorithm keeps signing,
    # the others retire now (they keep verifying until their tokens expire, as after a rotation).
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT kid, alg FROM idp_signing_keys WHERE retired_at IS NULL "
        "ORDER BY alg, created_at DESC, kid")).fetchall()
    seen = set()
    for kid, alg in rows:
        if alg in seen:
            bind.execute(sa.text("UPDATE idp_signing_keys SET retired_at = CURRENT_TIMESTAMP "
                                 "WHERE kid = :kid"), {"kid": kid})
        seen.add(alg)
    op.create_index('uq_idp_signing_keys_active_alg', 'idp_signing_keys', ['alg'], unique=True,
                    postgresql_where=sa.text('retired_at IS NULL'),
                    sqlite_where=sa.text('retired_at IS NULL'))


def downgrade():
    op.drop_index('uq_idp_signing_keys_active_alg', table_name='idp_signing_keys')
