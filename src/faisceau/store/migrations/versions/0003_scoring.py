"""scoring: cues per version, minor suspicions, network scores, scoring state, analysts' decisions (append-only)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 08:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

# Decisions are evidence of what analysts did: the store itself refuses to change them.
# (TRUNCATE, an owner's privilege, stays possible: benchmarks empty a whole store with it.)
_SQLITE_GUARDS = [
    "CREATE TRIGGER review_decision_no_update BEFORE UPDATE ON review_decision "
    "BEGIN SELECT RAISE(ABORT, 'review decisions are never changed'); END",
    "CREATE TRIGGER review_decision_no_delete BEFORE DELETE ON review_decision "
    "BEGIN SELECT RAISE(ABORT, 'review decisions are never deleted'); END",
]
_POSTGRESQL_GUARDS = [
    "CREATE FUNCTION review_decision_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'review decisions are never changed or deleted'; END $$",
    "CREATE TRIGGER review_decision_append_only BEFORE UPDATE OR DELETE ON review_decision "
    "FOR EACH ROW EXECUTE FUNCTION review_decision_append_only()",
]


def upgrade() -> None:
    op.create_table('score_features',
    sa.Column('version_id', Id, nullable=False),
    sa.Column('ad_pk', Id, nullable=False),
    sa.Column('cues', sa.Integer(), nullable=False),
    sa.Column('name_key', sa.BigInteger(), nullable=True),
    sa.Column('stated_age', sa.SmallInteger(), nullable=True),
    sa.Column('departement', sa.String(length=3), nullable=True),
    sa.Column('price_hour', sa.Integer(), nullable=True),
    sa.Column('price_half', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ad_pk'], ['ad.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['ad_version.id'], ),
    sa.PrimaryKeyConstraint('version_id')
    )
    with op.batch_alter_table('score_features', schema=None) as batch_op:
        batch_op.create_index('ix_score_features_ad', ['ad_pk'], unique=False)

    op.create_table('price_histogram',
    sa.Column('departement', sa.String(length=3), nullable=False),
    sa.Column('minutes', sa.SmallInteger(), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('versions', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('departement', 'minutes', 'price')
    )
    op.create_table('ad_minor',
    sa.Column('ad_pk', Id, nullable=False),
    sa.Column('why', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['ad_pk'], ['ad.id'], ),
    sa.PrimaryKeyConstraint('ad_pk')
    )
    op.create_table('network_score',
    sa.Column('network_id', sa.String(length=24), nullable=False),
    sa.Column('risk', sa.Float(), nullable=False),
    sa.Column('trafficking_suspected', sa.Boolean(), nullable=False),
    sa.Column('minor_suspected', sa.Boolean(), nullable=False),
    sa.Column('ads', sa.Integer(), nullable=False),
    sa.Column('indicators', sa.Text(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('scored_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['network.id'], ),
    sa.PrimaryKeyConstraint('network_id')
    )
    with op.batch_alter_table('network_score', schema=None) as batch_op:
        batch_op.create_index('ix_network_score_queue', ['risk', 'ads', 'network_id'],
                              unique=False)

    op.create_table('score_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_version_id', sa.BigInteger(), nullable=False),
    sa.Column('catalogue', sa.String(length=64), nullable=False),
    sa.Column('detect_runs', sa.Integer(), nullable=False),
    sa.Column('last_run_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('review_decision',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('network_id', sa.String(length=24), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('case_ref', sa.String(length=100), nullable=True),
    sa.Column('analyst', sa.String(length=100), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.Column('risk', sa.Float(), nullable=False),
    sa.Column('ads', sa.Integer(), nullable=False),
    sa.Column('indicators', sa.Text(), nullable=False),
    sa.Column('minor_suspected', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('review_decision', schema=None) as batch_op:
        batch_op.create_index('ix_review_decision_network', ['network_id'], unique=False)
    guards = _POSTGRESQL_GUARDS if op.get_bind().dialect.name == "postgresql" else _SQLITE_GUARDS
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS review_decision_append_only ON review_decision")
        op.execute("DROP FUNCTION IF EXISTS review_decision_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS review_decision_no_update")
        op.execute("DROP TRIGGER IF EXISTS review_decision_no_delete")
    with op.batch_alter_table('review_decision', schema=None) as batch_op:
        batch_op.drop_index('ix_review_decision_network')
    op.drop_table('review_decision')
    op.drop_table('score_state')
    with op.batch_alter_table('network_score', schema=None) as batch_op:
        batch_op.drop_index('ix_network_score_queue')
    op.drop_table('network_score')
    op.drop_table('ad_minor')
    op.drop_table('price_histogram')
    with op.batch_alter_table('score_features', schema=None) as batch_op:
        batch_op.drop_index('ix_score_features_ad')
    op.drop_table('score_features')
