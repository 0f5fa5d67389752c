"""portal sign-in, sessions, warehouse tasks

Revision ID: bcf1dc736246
Revises: 57edcbae1943
Create Date: 2026-11-22 02:52:24.837303
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.models.types


revision: str = 'bcf1dc736246'
down_revision: str | None = '57edcbae1943'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('customer_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('client_ip', sqlmodel.sql.sqltypes.AutoString(length=45), nullable=False),
    sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('customer_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_session_phone'), ['phone'], unique=False)

    op.create_table('login_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('challenge_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('client_ip', sqlmodel.sql.sqltypes.AutoString(length=45), nullable=False),
    sa.Column('created_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('wrong_attempts', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('used_at', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('challenge_hash')
    )
    with op.batch_alter_table('login_code', schema=None) as batch_op:
        batch_op.create_index('ix_login_code_ip_created', ['client_ip', 'created_at'], unique=False)
        batch_op.create_index('ix_login_code_phone_created', ['phone', 'created_at'], unique=False)

    op.create_table('warehouse_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('created_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('warehouse_task', schema=None) as batch_op:
        batch_op.create_index('ix_warehouse_task_open', ['warehouse_id', 'done_at', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_warehouse_task_order_id'), ['order_id'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        # Existing orders start at link version 0.
        batch_op.add_column(sa.Column('link_version', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('shipment', schema=None) as batch_op:
        # Shipments made before this column existed have no recorded label line.
        batch_op.add_column(sa.Column('ship_to', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False, server_default=''))



def downgrade() -> None:
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_column('ship_to')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('link_version')

    with op.batch_alter_table('warehouse_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warehouse_task_order_id'))
        batch_op.drop_index('ix_warehouse_task_open')

    op.drop_table('warehouse_task')
    with op.batch_alter_table('login_code', schema=None) as batch_op:
        batch_op.drop_index('ix_login_code_phone_created')
        batch_op.drop_index('ix_login_code_ip_created')

    op.drop_table('login_code')
    with op.batch_alter_table('customer_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_session_phone'))

    op.drop_table('customer_session')
