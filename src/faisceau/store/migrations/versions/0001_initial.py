"""ads, versions, sightings, values, images, quarantine

Revision ID: 0001
Revises:
Create Date: 2026-11-28 04:13:11.118280
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ad',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('ad_id', sa.String(length=500), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.Column('sightings', sa.Integer(), nullable=False),
    sa.Column('versions', sa.Integer(), nullable=False),
    sa.Column('current_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'ad_id', name='uq_ad_source_ad_id')
    )
    op.create_table('ingest_file',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('first_ingested_at', sa.DateTime(), nullable=False),
    sa.Column('last_ingested_at', sa.DateTime(), nullable=False),
    sa.Column('lines', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('path')
    )
    op.create_table('quarantine',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('line_hash', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('set_aside_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('path', 'line', 'line_hash', name='uq_quarantine_line')
    )
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.create_index('ix_quarantine_open', ['path', 'resolved_at'], unique=False)

    op.create_table('ad_version',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ad_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.Column('sightings', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('age', sa.SmallInteger(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('commune', sa.String(length=8), nullable=True),
    sa.Column('departement', sa.String(length=3), nullable=True),
    sa.Column('region', sa.String(length=3), nullable=True),
    sa.ForeignKeyConstraint(['ad_pk'], ['ad.id'], ),
    sa.ForeignKeyConstraint(['file_id'], ['ingest_file.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ad_pk', 'content_hash', name='uq_ad_version_content')
    )
    op.create_table('ad_image',
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('phash', sa.String(length=16), nullable=True),
    sa.Column('dhash', sa.String(length=16), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['version_id'], ['ad_version.id'], ),
    sa.PrimaryKeyConstraint('version_id', 'position')
    )
    with op.batch_alter_table('ad_image', schema=None) as batch_op:
        batch_op.create_index('ix_ad_image_phash', ['phash'], unique=False)
        batch_op.create_index('ix_ad_image_sha256', ['sha256'], unique=False)

    op.create_table('ad_value',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('shown', sa.Text(), nullable=False),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['version_id'], ['ad_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ad_value', schema=None) as batch_op:
        batch_op.create_index('ix_ad_value_kind_value', ['kind', 'value'], unique=False)
        batch_op.create_index('ix_ad_value_version', ['version_id'], unique=False)

    op.create_table('sighting',
    sa.Column('ad_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('file_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('line_hash', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['ad_pk'], ['ad.id'], ),
    sa.ForeignKeyConstraint(['file_id'], ['ingest_file.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['ad_version.id'], ),
    sa.PrimaryKeyConstraint('ad_pk', 'seen_at')
    )
    with op.batch_alter_table('sighting', schema=None) as batch_op:
        batch_op.create_index('ix_sighting_file_line', ['file_id', 'line'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sighting', schema=None) as batch_op:
        batch_op.drop_index('ix_sighting_file_line')

    op.drop_table('sighting')
    with op.batch_alter_table('ad_value', schema=None) as batch_op:
        batch_op.drop_index('ix_ad_value_version')
        batch_op.drop_index('ix_ad_value_kind_value')

    op.drop_table('ad_value')
    with op.batch_alter_table('ad_image', schema=None) as batch_op:
        batch_op.drop_index('ix_ad_image_sha256')
        batch_op.drop_index('ix_ad_image_phash')

    op.drop_table('ad_image')
    op.drop_table('ad_version')
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_index('ix_quarantine_open')

    op.drop_table('quarantine')
    op.drop_table('ingest_file')
    op.drop_table('ad')
