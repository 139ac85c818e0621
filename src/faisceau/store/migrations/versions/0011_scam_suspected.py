"""network scores say whether a network is suspected of being a scam

Fake ads that defraud clients are their own category (``[scam]`` of the indicator
catalogue): ``network_score.scam_suspected``. Existing scores read false until the next
``faisceau detect``, which scores everything again (the catalogue changed).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('network_score', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scam_suspected', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('network_score', schema=None) as batch_op:
        batch_op.drop_column('scam_suspected')
