"""card.coop's own apps as clients (portal, business): a first-party flag on the client, a
cooperative's site and third-party-initiated login URI, and
refresh tokens that belong to such a client rather than to the member's own pages, and
the member's history read a page at a time

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 19:20:00

"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_idp_audit_events_member_history', 'idp_audit_events',
                    ['member_id', 'id'], unique=False)
    with op.batch_alter_table('idp_oauth_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_uri', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('initiate_login_uri', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('first_party', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table('idp_refresh_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.String(length=13), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_idp_refresh_tokens_client_id_idp_oauth_clients'),
            'idp_oauth_clients', ['client_id'], ['client_id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_idp_refresh_tokens_client_id'), ['client_id'],
                              unique=False)


def downgrade():
    op.drop_index('ix_idp_audit_events_member_history', table_name='idp_audit_events')
    with op.batch_alter_table('idp_refresh_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idp_refresh_tokens_client_id'))
        batch_op.drop_constraint(batch_op.f('fk_idp_refresh_tokens_client_id_idp_oauth_clients'),
                                 type_='foreignkey')
        batch_op.drop_column('client_id')
    with op.batch_alter_table('idp_oauth_clients', schema=None) as batch_op:
        batch_op.drop_column('first_party')
        batch_op.drop_column('initiate_login_uri')
        batch_op.drop_column('client_uri')
