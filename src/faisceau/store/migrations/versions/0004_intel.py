"""intel: case-file statements, entities, entity resolution (candidates, append-only judgements), leads

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 11:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from faisceau.store.migrations.guards import drop_append_only, make_append_only

# Judgements on pairs and decisions on leads are records of what analysts (and the model)
# decided: the store refuses to change them, as for review decisions.
_APPEND_ONLY = ("intel_judgement", "intel_lead_decision")


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intel_candidate',
    sa.Column('left_id', sa.String(length=128), nullable=False),
    sa.Column('right_id', sa.String(length=128), nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('left_id', 'right_id')
    )
    op.create_table('intel_entity',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('schema', sa.String(length=32), nullable=False),
    sa.Column('caption', sa.Text(), nullable=True),
    sa.Column('category', sa.String(length=16), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('minor', sa.Boolean(), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=True),
    sa.Column('unit', sa.String(length=32), nullable=True),
    sa.Column('departement', sa.String(length=3), nullable=True),
    sa.Column('first_date', sa.String(length=10), nullable=True),
    sa.Column('last_date', sa.String(length=10), nullable=True),
    sa.Column('canonical_id', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('intel_entity', schema=None) as batch_op:
        batch_op.create_index('ix_intel_entity_canonical', ['canonical_id'], unique=False)
        batch_op.create_index('ix_intel_entity_case', ['case_id'], unique=False)
        batch_op.create_index('ix_intel_entity_schema', ['schema', 'category'], unique=False)

    op.create_table('intel_judgement',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('left_id', sa.String(length=128), nullable=False),
    sa.Column('right_id', sa.String(length=128), nullable=False),
    sa.Column('judgement', sa.String(length=12), nullable=False),
    sa.Column('probability', sa.Float(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('intel_judgement', schema=None) as batch_op:
        batch_op.create_index('ix_intel_judgement_pair', ['left_id', 'right_id'], unique=False)

    op.create_table('intel_lead',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('network_id', sa.String(length=24), nullable=False),
    sa.Column('entity_id', sa.String(length=128), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('ads', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=True),
    sa.Column('last_seen', sa.DateTime(), nullable=True),
    sa.Column('strength', sa.Float(), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('intel_lead', schema=None) as batch_op:
        batch_op.create_index('ix_intel_lead_entity', ['entity_id'], unique=False)
        batch_op.create_index('ix_intel_lead_network', ['network_id'], unique=False)

    op.create_table('intel_lead_decision',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('lead_id', sa.String(length=40), nullable=False),
    sa.Column('decision', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('analyst', sa.String(length=100), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('intel_lead_decision', schema=None) as batch_op:
        batch_op.create_index('ix_intel_lead_decision_lead', ['lead_id'], unique=False)

    op.create_table('intel_statement',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=128), nullable=False),
    sa.Column('schema', sa.String(length=32), nullable=False),
    sa.Column('prop', sa.String(length=64), nullable=False),
    sa.Column('prop_type', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('original_value', sa.Text(), nullable=True),
    sa.Column('dataset', sa.String(length=100), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=True),
    sa.Column('unit', sa.String(length=32), nullable=True),
    sa.Column('fact_date', sa.String(length=10), nullable=True),
    sa.Column('origin', sa.Text(), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('intel_statement', schema=None) as batch_op:
        batch_op.create_index('ix_intel_statement_entity', ['entity_id'], unique=False)
        batch_op.create_index('ix_intel_statement_value', ['prop_type', 'value'], unique=False)
    for table in _APPEND_ONLY:
        make_append_only(table)


def downgrade() -> None:
    for table in _APPEND_ONLY:
        drop_append_only(table)
    with op.batch_alter_table('intel_statement', schema=None) as batch_op:
        batch_op.drop_index('ix_intel_statement_value')
        batch_op.drop_index('ix_intel_statement_entity')

    op.drop_table('intel_statement')
    with op.batch_alter_table('intel_lead_decision', schema=None) as batch_op:
        batch_op.drop_index('ix_intel_lead_decision_lead')

    op.drop_table('intel_lead_decision')
    with op.batch_alter_table('intel_lead', schema=None) as batch_op:
        batch_op.drop_index('ix_intel_lead_network')
        batch_op.drop_index('ix_intel_lead_entity')

    op.drop_table('intel_lead')
    with op.batch_alter_table('intel_judgement', schema=None) as batch_op:
        batch_op.drop_index('ix_intel_judgement_pair')

    op.drop_table('intel_judgement')
    with op.batch_alter_table('intel_entity', schema=None) as batch_op:
        batch_op.drop_index('ix_intel_entity_schema')
        batch_op.drop_index('ix_intel_entity_case')
        batch_op.drop_index('ix_intel_entity_canonical')

    op.drop_table('intel_entity')
    op.drop_table('intel_candidate')
