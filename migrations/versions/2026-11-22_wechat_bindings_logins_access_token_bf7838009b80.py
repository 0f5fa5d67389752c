"""wechat bindings, logins, access token

WeChat official account: openid bindings to customers and their history, the OAuth
state of each trip through WeChat's authorisation page, the shared API access token.

Revision ID: bf7838009b80
Revises: 3c1f0a9d2b7e
Create Date: 2026-11-22 05:43:33.136011
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.models.types


revision: str = 'bf7838009b80'
down_revision: str | None = '3c1f0a9d2b7e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('wechat_access_token',
    sa.Column('app_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=False),
    sa.Column('expires_at', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refreshed_at', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refreshing_until', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('app_id')
    )
    op.create_table('wechat_login',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('next_path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state_used_at', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('openid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('pending_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('pending_until', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pending_used_at', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('pending_hash'),
    sa.UniqueConstraint('state_hash')
    )
    with op.batch_alter_table('wechat_login', schema=None) as batch_op:
        batch_op.create_index('ix_wechat_login_expires', ['expires_at'], unique=False)

    op.create_table('wechat_binding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('openid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('openid')
    )
    with op.batch_alter_table('wechat_binding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_binding_customer_id'), ['customer_id'], unique=False)

    op.create_table('wechat_binding_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('openid_tail', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('client_ip', sqlmodel.sql.sqltypes.AutoString(length=45), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('wechat_binding_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_binding_event_customer_id'), ['customer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('wechat_binding_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wechat_binding_event_customer_id'))

    op.drop_table('wechat_binding_event')
    with op.batch_alter_table('wechat_binding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wechat_binding_customer_id'))

    op.drop_table('wechat_binding')
    with op.batch_alter_table('wechat_login', schema=None) as batch_op:
        batch_op.drop_index('ix_wechat_login_expires')

    op.drop_table('wechat_login')
    op.drop_table('wechat_access_token')
