"""features again: every version is featurised again at the next detection

Linking's slot masking changed: a value is found in capitals too (a title in capitals says
the same name) and an age is masked as its number ("19 ans" and "19a" both become the age
and their own words). Signatures computed before would differ from new ones for the same
text, so the stored features of linking and scoring are dropped and the next
``faisceau detect`` computes them again for every version (it finds new versions by the
highest featurised one), rewrites every network and scores everything again. Scoring's
features are recomputed too, with the lexicons of the day, and the price histogram they
feed is counted afresh. No data is lost: features are derived from the stored versions.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 03:00:00
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

DERIVED = ("link_features", "link_key", "score_features", "price_histogram")


def upgrade() -> None:
    for table in DERIVED:
        op.execute(f"DELETE FROM {table}")
    # As after a retention run: every network is seen as touched, everything scored again.
    op.get_bind().execute(sa.text("UPDATE detect_state SET last_run_at = :epoch"),
                          {"epoch": datetime(1970, 1, 1)})
    op.execute("UPDATE score_state SET detect_runs = -1")


def downgrade() -> None:
    # The features are derived data: dropping them again is all a downgrade could do, and
    # the next detection recomputes them with whichever code runs it.
    for table in DERIVED:
        op.execute(f"DELETE FROM {table}")
