"""the ВОСХОД network: admitted and connected cooperatives, their membership attestations, and
the connect documents already taken (a replay inside their freshness window is refused), and the
outbox of webhooks to them, the disclosures one cooperative asks another for, and the sign-ins at a cooperative's
CoopID on the way to a card

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 17:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table(
        'idp_network_cooperatives',
        sa.Column('coopname', sa.String(length=12), nullable=False),
        sa.Column('display_name', sa.String(length=200), nullable=False),
        sa.Column('admitted_by', sa.String(length=12), nullable=False),
        sa.Column('admitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('connected_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('oidc_issuer', sa.Text(), nullable=True),
        sa.Column('oidc_client_id', sa.String(length=200), nullable=True),
        sa.Column('oidc_client_secret_encrypted', sa.LargeBinary(), nullable=True),
        sa.Column('attestation_callback_url', sa.Text(), nullable=True),
        sa.Column('disclosure_url', sa.Text(), nullable=True),
        sa.Column('entry_callback_url', sa.Text(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('coopname', name=op.f('pk_idp_network_cooperatives')),
    )
    op.create_table(
        'idp_network_attestations',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('coopname', sa.String(length=12), nullable=False),
        sa.Column('card_id', sa.Uuid(), nullable=False),
        sa.Column('member_since', sa.Date(), nullable=False),
        sa.Column('identity', JSON, nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['card_id'], ['idp_cards.id'], ondelete='CASCADE',
                                name=op.f('fk_idp_network_attestations_card_id_idp_cards')),
        sa.ForeignKeyConstraint(
            ['coopname'], ['idp_network_cooperatives.coopname'], ondelete='CASCADE',
            name=op.f('fk_idp_network_attestations_coopname_idp_network_cooperatives')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idp_network_attestations')),
        sa.UniqueConstraint('coopname', 'card_id',
                            name=op.f('uq_idp_network_attestations_coopname')),
    )
    with op.batch_alter_table('idp_network_attestations', schema=None) as batch_op:
        batch_op.create_index('ix_idp_network_attestations_card_id', ['card_id'], unique=False)
    op.create_table(
        'idp_network_used_documents',
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('digest', name=op.f('pk_idp_network_used_documents')),
    )
    with op.batch_alter_table('idp_network_used_documents', schema=None) as batch_op:
        batch_op.create_index('ix_idp_network_used_documents_used_at', ['used_at'],
                              unique=False)


    op.create_table(
        'idp_network_webhooks',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('coopname', sa.String(length=12), nullable=False),
        sa.Column('event', sa.String(length=40), nullable=False),
        sa.Column('body', JSON, nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ['coopname'], ['idp_network_cooperatives.coopname'], ondelete='CASCADE',
            name=op.f('fk_idp_network_webhooks_coopname_idp_network_cooperatives')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idp_network_webhooks')),
    )
    with op.batch_alter_table('idp_network_webhooks', schema=None) as batch_op:
        batch_op.create_index('ix_idp_network_webhooks_queue', ['coopname', 'status', 'id'],
                              unique=False)
    op.create_table(
        'idp_network_disclosures',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('card_id', sa.Uuid(), nullable=False),
        sa.Column('requester', sa.String(length=12), nullable=False),
        sa.Column('source', sa.String(length=12), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['card_id'], ['idp_cards.id'], ondelete='CASCADE',
                                name=op.f('fk_idp_network_disclosures_card_id_idp_cards')),
        sa.ForeignKeyConstraint(
            ['requester'], ['idp_network_cooperatives.coopname'], ondelete='CASCADE',
            name=op.f('fk_idp_network_disclosures_requester_idp_network_cooperatives')),
        sa.ForeignKeyConstraint(
            ['source'], ['idp_network_cooperatives.coopname'], ondelete='CASCADE',
            name=op.f('fk_idp_network_disclosures_source_idp_network_cooperatives')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idp_network_disclosures')),
    )
    with op.batch_alter_table('idp_network_disclosures', schema=None) as batch_op:
        batch_op.create_index('ix_idp_network_disclosures_card_status', ['card_id', 'status'],
                              unique=False)
        batch_op.create_index('ix_idp_network_disclosures_source', ['source'], unique=False)
        batch_op.create_index('ix_idp_network_disclosures_requester', ['requester'],
                              unique=False)
    op.create_table(
        'idp_network_entries',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('coopname', sa.String(length=12), nullable=False),
        sa.Column('external_subject', sa.String(length=255), nullable=False),
        sa.Column('card_id', sa.Uuid(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['card_id'], ['idp_cards.id'], ondelete='CASCADE',
                                name=op.f('fk_idp_network_entries_card_id_idp_cards')),
        sa.ForeignKeyConstraint(
            ['coopname'], ['idp_network_cooperatives.coopname'], ondelete='CASCADE',
            name=op.f('fk_idp_network_entries_coopname_idp_network_cooperatives')),
        sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_idp_network_entries')),
    )
    with op.batch_alter_table('idp_network_entries', schema=None) as batch_op:
        batch_op.create_index('ix_idp_network_entries_coopname', ['coopname'], unique=False)
        batch_op.create_index('ix_idp_network_entries_card_id', ['card_id'], unique=False)


def downgrade():
    op.drop_table('idp_network_entries')
    op.drop_table('idp_network_disclosures')
    op.drop_table('idp_network_webhooks')
    op.drop_table('idp_network_used_documents')
    with op.batch_alter_table('idp_network_attestations', schema=None) as batch_op:
        batch_op.drop_index('ix_idp_network_attestations_card_id')
    op.drop_table('idp_network_attestations')
    op.drop_table('idp_network_cooperatives')
