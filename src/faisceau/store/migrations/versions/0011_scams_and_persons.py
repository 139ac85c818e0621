"""scams and persons: network scores say whether a network is suspected of being a scam;
scoring features keep the capitalised words of each text

Fake ads that defraud clients are their own category (``[scam]`` of the indicator
catalogue): ``network_score.scam_suspected``. Existing scores read false until the next
``faisceau detect``, which scores everything again (the catalogue changed).

``score_features.mentions``: the first capitalised words of each version's text, which
tell one person under two pseudonyms (her text says her name) from two persons. Versions
featurised before stay NULL: they count as saying no name.

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
    with op.batch_alter_table('score_features', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mentions', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('score_features', schema=None) as batch_op:
        batch_op.drop_column('mentions')
    with op.batch_alter_table('network_score', schema=None) as batch_op:
        batch_op.drop_column('scam_suspected')
