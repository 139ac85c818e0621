"""accounts: failed logins per login, address and browser; server-side sessions

The lock columns of ``share_user`` go: one account's lock could be set by anyone (a denial of
service), and an unknown login had none (an oracle). ``share_login_throttle`` counts failures
per login tried, known or not, per client address and per trusted browser;
``share_session`` makes sessions revocable.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('share_user', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')

    op.create_table('share_login_throttle',
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.Column('not_before', sa.DateTime(), nullable=True),
    sa.Column('refused', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'key')
    )
    op.create_table('share_session',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('login', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_why', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['login'], ['share_user.login'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('share_session', schema=None) as batch_op:
        batch_op.create_index('ix_share_session_login', ['login'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('share_session', schema=None) as batch_op:
        batch_op.drop_index('ix_share_session_login')
    op.drop_table('share_session')
    op.drop_table('share_login_throttle')
    with op.batch_alter_table('share_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
