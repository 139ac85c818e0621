"""linking: features, keys, networks, evidence, events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 07:03:17.860814
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('detect_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_version_id', sa.BigInteger(), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('last_run_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('network',
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('ads', sa.Integer(), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=True),
    sa.Column('last_seen', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('network_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('data_date', sa.DateTime(), nullable=True),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('network_id', sa.String(length=24), nullable=False),
    sa.Column('others', sa.Text(), nullable=False),
    sa.Column('cause', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('network_event', schema=None) as batch_op:
        batch_op.create_index('ix_network_event_network', ['network_id'], unique=False)

    op.create_table('ad_network',
    sa.Column('ad_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('network_id', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['ad_pk'], ['ad.id'], ),
    sa.ForeignKeyConstraint(['network_id'], ['network.id'], ),
    sa.PrimaryKeyConstraint('ad_pk')
    )
    with op.batch_alter_table('ad_network', schema=None) as batch_op:
        batch_op.create_index('ix_ad_network_network', ['network_id'], unique=False)

    op.create_table('network_evidence',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('network_id', sa.String(length=24), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('ads', sa.Text(), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['network_id'], ['network.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('network_evidence', schema=None) as batch_op:
        batch_op.create_index('ix_network_evidence_network', ['network_id'], unique=False)

    op.create_table('link_features',
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ad_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text_signature', sa.LargeBinary(), nullable=True),
    sa.Column('persona', sa.BigInteger(), nullable=True),
    sa.Column('commune', sa.String(length=8), nullable=True),
    sa.ForeignKeyConstraint(['ad_pk'], ['ad.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['ad_version.id'], ),
    sa.PrimaryKeyConstraint('version_id')
    )
    with op.batch_alter_table('link_features', schema=None) as batch_op:
        batch_op.create_index('ix_link_features_ad', ['ad_pk'], unique=False)

    op.create_table('link_key',
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ad_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['ad_pk'], ['ad.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['ad_version.id'], )
    )
    with op.batch_alter_table('link_key', schema=None) as batch_op:
        batch_op.create_index('ix_link_key_version', ['version_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('link_key', schema=None) as batch_op:
        batch_op.drop_index('ix_link_key_version')

    op.drop_table('link_key')
    with op.batch_alter_table('link_features', schema=None) as batch_op:
        batch_op.drop_index('ix_link_features_ad')

    op.drop_table('link_features')
    with op.batch_alter_table('network_evidence', schema=None) as batch_op:
        batch_op.drop_index('ix_network_evidence_network')

    op.drop_table('network_evidence')
    with op.batch_alter_table('ad_network', schema=None) as batch_op:
        batch_op.drop_index('ix_ad_network_network')

    op.drop_table('ad_network')
    with op.batch_alter_table('network_event', schema=None) as batch_op:
        batch_op.drop_index('ix_network_event_network')

    op.drop_table('network_event')
    op.drop_table('network')
    op.drop_table('detect_state')
