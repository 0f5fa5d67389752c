"""triage rules, order tags, customs declaration number on orders

Reviewed by hand: the new NOT NULL column on the existing orders table has a server default
(''), so existing rows get an empty declaration number; the default triage rules are inserted
as a frozen copy (later edits of core/services/triage/rules.py do not change this migration).

Revision ID: cebf5e1056f2
Revises: 5755d4eac603
Create Date: 2026-11-22 03:31:18.563817
"""
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.models.types


revision: str = 'cebf5e1056f2'
down_revision: str | None = '5755d4eac603'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The default rules as of this migration (core.services.triage.rules.DEFAULT_RULES).
DEFAULT_RULES = [
    {"code": "address_phone_not_mobile", "params": {"reply": "您好：您的订单 {ref} 留的收件电话无法接收短信，快递员可能联系不上您。请回复一个可用的手机号码，我们会在发货前更新。", "sla_hours": 8}, "queue": "customer_service", "tag": "address_risk"},
    {"code": "address_proxy_words", "params": {"reply": "您好：您的订单 {ref} 的收货地址是代收点（驿站、快递柜等）。如需送货上门，请在发货前回复新的地址；如确认由代收点代收，请回复“确认”。", "sla_hours": 8, "words": ["代收", "暂存", "代签", "驿站", "快递柜", "丰巢"]}, "queue": "customer_service", "tag": "address_risk"},
    {"code": "address_no_district", "params": {"reply": "您好：您的订单 {ref} 的收货地址缺少区/县，可能影响派送。请在订单页补充完整地址，或直接回复我们。", "sla_hours": 8}, "queue": "customer_service", "tag": "address_risk"},
    {"code": "address_po_box", "params": {"carriers": ["SF", "ZTO", "YTO", "JD"], "reply": "您好：您的订单 {ref} 的收货地址是邮政信箱，多数快递无法投递。我们将改用中国邮政 EMS 发货；如需改为其他地址，请回复。", "sla_hours": 8, "words": ["邮政信箱", "信箱", "PO Box"]}, "queue": "customer_service", "tag": "address_risk"},
    {"code": "stock_short", "params": {"reply": "您好：非常抱歉，您的订单 {ref} 中有商品暂时缺货，我们正在补货，到货后第一时间发出。如不想等待，可申请退款。", "sla_hours": 12}, "queue": "warehouse", "tag": "stock_gap"},
    {"code": "stock_low_selling_fast", "params": {"fast_units_24h": 20, "low_stock_below": 10, "reply": "您好：您的订单 {ref} 中的商品近期热销，发货可能稍有延迟，我们会尽快安排。", "sla_hours": 24}, "queue": "warehouse", "tag": "stock_gap"},
    {"code": "payment_amount_mismatch", "params": {"reply": "您好：我们核对订单 {ref} 时发现实付金额 {paid} 与订单金额 {total} 不一致，财务同事正在核实，核实后会联系您，请勿重复付款。", "sla_hours": 24, "tolerance_minor": 0}, "queue": "finance", "tag": "payment_anomaly"},
    {"code": "payment_callback_missing", "params": {"after_minutes": 30, "reply": "您好：您的订单 {ref} 的付款结果还在确认中，确认后立即安排发货，请勿重复付款。", "sla_hours": 4}, "queue": "finance", "tag": "payment_anomaly"},
    {"code": "payment_refunded", "params": {"reply": "您好：您的订单 {ref} 已退款 {paid}，将原路退回，一般 1–3 个工作日到账。", "sla_hours": 48}, "queue": "finance", "tag": "payment_anomaly"},
    {"code": "logistics_no_pickup", "params": {"hours": 24, "reply": "您好：您的订单 {ref} 已交给{carrier}（运单号 {tracking_no}），快递尚未揽收，我们已催促尽快揽收。", "sla_hours": 8}, "queue": "customer_service", "tag": "logistics_anomaly"},
    {"code": "logistics_stalled", "params": {"hours": 48, "reply": "您好：您的包裹（{carrier} {tracking_no}）物流信息暂时没有更新，我们已联系快递核查，有进展会第一时间告诉您。承诺送达时间：{promised_delivery_by}。", "sla_hours": 8}, "queue": "customer_service", "tag": "logistics_anomaly"},
    {"code": "logistics_delivered_not_received", "params": {"reply": "您好：订单 {ref}（{carrier} {tracking_no}）显示已签收，您反映未收到，我们已向快递发起核查，48 小时内给您答复。", "sla_hours": 24}, "queue": "customer_service", "tag": "logistics_anomaly"},
    {"code": "logistics_returned", "params": {"reply": "您好：您的包裹（{carrier} {tracking_no}）正在退回，我们收到退件后会联系您重新发货或退款。", "sla_hours": 24, "sub_statuses": ["returning", "returned_signed"]}, "queue": "customer_service", "tag": "logistics_anomaly"},
    {"code": "compliance_customs_missing", "params": {"domestic_country_codes": ["86"], "provinces": ["香港特别行政区", "澳门特别行政区", "台湾省"], "reply": "您好：您的订单 {ref} 寄往境外或港澳台地区，需要办理清关申报。请回复收件人的证件信息，我们收到后尽快发货。", "sla_hours": 24}, "queue": "compliance", "tag": "compliance"},
]


def upgrade() -> None:
    op.create_table('triage_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('tag', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('queue', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('updated_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('order_tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('tag', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('rule_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('queue', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('sla_due_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', core.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('order_tag', schema=None) as batch_op:
        batch_op.create_index('ix_order_tag_opened', ['opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_tag_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_order_tag_queue_due', ['queue', 'resolved_at', 'sla_due_at'], unique=False)
        batch_op.create_index('ix_order_tag_resolved', ['resolved_at'], unique=False)
        batch_op.create_index('uq_order_tag_open', ['order_id', 'rule_code'], unique=True, sqlite_where=sa.text('resolved_at IS NULL'), postgresql_where=sa.text('resolved_at IS NULL'))

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customs_declaration_no', sqlmodel.sql.sqltypes.AutoString(length=40), server_default='', nullable=False))

    rules = sa.table(
        'triage_rule',
        sa.column('code', sa.String), sa.column('tag', sa.String), sa.column('queue', sa.String),
        sa.column('enabled', sa.Boolean), sa.column('params', sa.Text),
        sa.column('updated_at', core.models.types.UTCDateTime(timezone=True)), sa.column('updated_by', sa.String),
    )
    now = datetime.now(UTC)
    op.bulk_insert(rules, [
        {'code': r['code'], 'tag': r['tag'], 'queue': r['queue'], 'enabled': True,
         'params': json.dumps(r['params'], ensure_ascii=False, sort_keys=True), 'updated_at': now,
         'updated_by': 'migration'}
        for r in DEFAULT_RULES
    ])


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('customs_declaration_no')

    with op.batch_alter_table('order_tag', schema=None) as batch_op:
        batch_op.drop_index('uq_order_tag_open', sqlite_where=sa.text('resolved_at IS NULL'), postgresql_where=sa.text('resolved_at IS NULL'))
        batch_op.drop_index('ix_order_tag_resolved')
        batch_op.drop_index('ix_order_tag_queue_due')
        batch_op.drop_index(batch_op.f('ix_order_tag_order_id'))
        batch_op.drop_index('ix_order_tag_opened')

    op.drop_table('order_tag')
    op.drop_table('triage_rule')
