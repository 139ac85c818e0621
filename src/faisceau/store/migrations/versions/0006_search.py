"""search: ad_search (ad versions indexed for full-text search) and the store's full-text index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ad_search',
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ad_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('departement', sa.String(length=3), nullable=True),
    sa.Column('terms', sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['ad_pk'], ['ad.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['ad_version.id'], ),
    sa.PrimaryKeyConstraint('version_id')
    )
    with op.batch_alter_table('ad_search', schema=None) as batch_op:
        batch_op.create_index('ix_ad_search_ad', ['ad_pk'], unique=False)
        batch_op.create_index('ix_ad_search_departement', ['departement', 'ad_pk'], unique=False)

    # The full-text index over ad_search.terms (stemmed, accent-free words separated by
    # spaces on SQLite; a tsvector on PostgreSQL). Not in schema.py: see SEARCH_INDEX there.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE INDEX ix_ad_search_terms ON ad_search USING gin (terms)')
    else:
        op.execute("CREATE VIRTUAL TABLE ad_fts USING fts5(terms, content='ad_search', "
                   "content_rowid='version_id', tokenize='unicode61 remove_diacritics 2')")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_ad_search_terms')
    else:
        op.execute('DROP TABLE IF EXISTS ad_fts')
    with op.batch_alter_table('ad_search', schema=None) as batch_op:
        batch_op.drop_index('ix_ad_search_departement')
        batch_op.drop_index('ix_ad_search_ad')

    op.drop_table('ad_search')
