"""store_change: one counter per stage that writes what readers keep in memory

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('store_change',
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('stage')
    )


def downgrade() -> None:
    op.drop_table('store_change')
