"""ad distributions named source:ad_id, the one identifier users type and see

Until now the web application read an ad's distribution under the ad's primary key while
the administration stored it under ``source:ad_id``: neither reached the other. Rows named
by a primary key are renamed to their ad's ``source:ad_id``; a row whose ad is gone, or
whose ad already has a row under its ``source:ad_id`` (which wins: it is the one the
administration set), is left as it was (it names no ad any longer).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_distribution = sa.table('share_distribution', sa.column('record_kind', sa.String),
                         sa.column('record_id', sa.String))
_ad = sa.table('ad', sa.column('id', sa.BigInteger), sa.column('source', sa.String),
               sa.column('ad_id', sa.String))


def _rename(renames: dict[str, str]) -> None:
    conn = op.get_bind()
    taken = set(conn.execute(sa.select(_distribution.c.record_id).where(
        _distribution.c.record_kind == 'ad')).scalars())
    for old, new in renames.items():
        if new in taken:
            continue
        conn.execute(sa.update(_distribution).where(
            _distribution.c.record_kind == 'ad', _distribution.c.record_id == old)
            .values(record_id=new))
        taken.add(new)


def upgrade() -> None:
    conn = op.get_bind()
    ids = [r for r in conn.execute(sa.select(_distribution.c.record_id).where(
        _distribution.c.record_kind == 'ad')).scalars()
        if r.isascii() and r.isdigit() and len(r) < 19]
    if not ids:
        return
    rows = conn.execute(sa.select(_ad.c.id, _ad.c.source, _ad.c.ad_id).where(
        _ad.c.id.in_([int(i) for i in ids]))).all()
    _rename({str(r.id): f"{r.source}:{r.ad_id}" for r in rows})


def downgrade() -> None:
    conn = op.get_bind()
    refs = [r for r in conn.execute(sa.select(_distribution.c.record_id).where(
        _distribution.c.record_kind == 'ad')).scalars() if ':' in r]
    renames: dict[str, str] = {}
    for ref in refs:
        source, _, ad_id = ref.partition(':')
        found = conn.execute(sa.select(_ad.c.id).where(
            _ad.c.source == source, _ad.c.ad_id == ad_id)).scalar()
        if found is not None:
            renames[ref] = str(found)
    _rename(renames)
