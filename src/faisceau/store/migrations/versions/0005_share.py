"""share: units, accounts, sharing groups, distribution levels, consultation log (hash-chained, append-only)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from faisceau.store.migrations.guards import drop_append_only, make_append_only

# The consultation log is evidence for the data-protection officer: the store refuses to
# change or delete its rows (retention is applied by a dedicated, logged procedure).
_APPEND_ONLY = ("consultation_log",)


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consultation_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('login', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('record_kind', sa.String(length=16), nullable=False),
    sa.Column('record_id', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consultation_log', schema=None) as batch_op:
        batch_op.create_index('ix_consultation_log_login', ['login', 'at'], unique=False)
        batch_op.create_index('ix_consultation_log_record', ['record_kind', 'record_id'], unique=False)

    op.create_table('share_distribution',
    sa.Column('record_kind', sa.String(length=16), nullable=False),
    sa.Column('record_id', sa.String(length=128), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('owner_unit', sa.String(length=32), nullable=False),
    sa.Column('group_name', sa.String(length=100), nullable=True),
    sa.Column('set_by', sa.String(length=100), nullable=False),
    sa.Column('set_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('record_kind', 'record_id')
    )
    op.create_table('share_group',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('share_unit',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('departement', sa.String(length=3), nullable=True),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('share_group_member',
    sa.Column('group_name', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['group_name'], ['share_group.name'], ),
    sa.ForeignKeyConstraint(['unit'], ['share_unit.code'], ),
    sa.PrimaryKeyConstraint('group_name', 'unit')
    )
    op.create_table('share_user',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('login', sa.String(length=100), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['unit'], ['share_unit.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('login')
    )
    for table in _APPEND_ONLY:
        make_append_only(table)


def downgrade() -> None:
    for table in _APPEND_ONLY:
        drop_append_only(table)
    op.drop_table('share_user')
    op.drop_table('share_group_member')
    op.drop_table('share_unit')
    op.drop_table('share_group')
    op.drop_table('share_distribution')
    with op.batch_alter_table('consultation_log', schema=None) as batch_op:
        batch_op.drop_index('ix_consultation_log_record')
        batch_op.drop_index('ix_consultation_log_login')

    op.drop_table('consultation_log')
