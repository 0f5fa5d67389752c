"""order core

Revision ID: 57edcbae1943
Revises: 
Create Date: 2026-11-22 02:39:18.066579
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.models.types


revision: str = '57edcbae1943'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_phone'), ['phone'], unique=True)

    op.create_table('service_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('ship_within_hours', sa.Integer(), nullable=False),
    sa.Column('delivery_within_days', sa.Integer(), nullable=False),
    sa.Column('effective_from', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version')
    )
    op.create_table('warehouse',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('province', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('channel_order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('items_total_minor', sa.Integer(), nullable=False),
    sa.Column('shipping_minor', sa.Integer(), nullable=False),
    sa.Column('discount_minor', sa.Integer(), nullable=False),
    sa.Column('total_minor', sa.Integer(), nullable=False),
    sa.Column('paid_minor', sa.Integer(), nullable=True),
    sa.Column('created_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('paid_at', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('promised_ship_by', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('promised_delivery_by', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('presale_ships_on', sa.Date(), nullable=True),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('terms_id', sa.Integer(), nullable=True),
    sa.Column('is_priority', sa.Boolean(), nullable=False),
    sa.Column('ship_recipient', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('ship_phone', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('ship_province', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('ship_city', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('ship_district', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('ship_street', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('ship_postal_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['terms_id'], ['service_terms.id'], ),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'channel_order_no', name='uq_orders_channel_order_no'),
    sa.UniqueConstraint('ref')
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_customer_created', ['customer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_orders_ship_phone', ['ship_phone'], unique=False)
        batch_op.create_index('ix_orders_status_created', ['status', 'created_at'], unique=False)

    op.create_table('sku_stock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.CheckConstraint('on_hand >= 0', name='ck_sku_stock_on_hand_nonneg'),
    sa.CheckConstraint('reserved >= 0', name='ck_sku_stock_reserved_nonneg'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sku', 'warehouse_id', name='uq_sku_stock_sku_warehouse')
    )
    with op.batch_alter_table('sku_stock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sku_stock_sku'), ['sku'], unique=False)

    op.create_table('order_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('via', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('order_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_history_order_id'), ['order_id'], unique=False)

    op.create_table('order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_minor', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_line_order_id'), ['order_id'], unique=False)

    op.create_table('shipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('carrier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('tracking_no', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('shipped_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tag', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('last_event_at', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('carrier', 'tracking_no', name='uq_shipment_carrier_tracking')
    )
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_tracking_no'), ['tracking_no'], unique=False)

    op.create_table('tracking_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('raw_status_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('raw_text', sa.Text(), nullable=False),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('tag', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('sub_status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('raw_payload', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tracking_event', schema=None) as batch_op:
        batch_op.create_index('ix_tracking_event_shipment_occurred', ['shipment_id', 'occurred_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tracking_event', schema=None) as batch_op:
        batch_op.drop_index('ix_tracking_event_shipment_occurred')

    op.drop_table('tracking_event')
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_tracking_no'))
        batch_op.drop_index(batch_op.f('ix_shipment_order_id'))

    op.drop_table('shipment')
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_line_order_id'))

    op.drop_table('order_line')
    with op.batch_alter_table('order_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_history_order_id'))

    op.drop_table('order_history')
    with op.batch_alter_table('sku_stock', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sku_stock_sku'))

    op.drop_table('sku_stock')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_status_created')
        batch_op.drop_index('ix_orders_ship_phone')
        batch_op.drop_index('ix_orders_customer_created')

    op.drop_table('orders')
    op.drop_table('warehouse')
    op.drop_table('service_terms')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_phone'))

    op.drop_table('customer')
