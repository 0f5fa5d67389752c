"""evidence chain and packs

Revision ID: f7430bc97c44
Revises: bcf1dc736246
Create Date: 2026-11-22 03:01:54.720808
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.models.types


revision: str = 'f7430bc97c44'
down_revision: str | None = 'bcf1dc736246'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _backfill_chains() -> None:
    import hashlib

    from core.services.tracking import chain

    conn = op.get_bind()
    shipments = conn.execute(sa.text("SELECT id, carrier, tracking_no FROM shipment")).all()
    events = sa.table(
        "tracking_event", sa.column("id"), sa.column("shipment_id"), sa.column("seq"), sa.column("dedup_key"),
        sa.column("prev_hash"), sa.column("chain_hash"), sa.column("occurred_at", core.models.types.UTCDateTime()),
        sa.column("received_at", core.models.types.UTCDateTime()), sa.column("raw_status_code"),
        sa.column("raw_text"), sa.column("location"), sa.column("tag"), sa.column("sub_status"),
        sa.column("source"), sa.column("raw_payload"),
    )
    for shipment_id, carrier, tracking_no in shipments:
        rows = conn.execute(
            sa.select(events).where(events.c.shipment_id == shipment_id).order_by(events.c.received_at, events.c.id)
        ).all()
        prev, seen = chain.GENESIS, set()
        for seq, row in enumerate(rows, start=1):
            key = hashlib.sha256(
                f"{row.occurred_at.isoformat()}|{row.raw_status_code}|{row.raw_text.strip()}".encode()
            ).hexdigest()
            if key in seen:  # an old duplicate stays, under a key of its own
                key = hashlib.sha256(f"{key}:{row.id}".encode()).hexdigest()
            seen.add(key)
            content = chain.canonical_event(
                carrier=carrier, tracking_no=tracking_no, seq=seq, occurred_at=row.occurred_at,
                received_at=row.received_at, raw_status_code=row.raw_status_code, raw_text=row.raw_text,
                location=row.location, tag=row.tag, sub_status=row.sub_status, source=row.source,
                raw_payload=row.raw_payload, dedup_key=key,
            )
            digest = chain.link_hash(prev, content)
            conn.execute(
                events.update().where(events.c.id == row.id).values(seq=seq, dedup_key=key, prev_hash=prev,
                                                                     chain_hash=digest)
            )
            prev = digest


def upgrade() -> None:
    op.create_table('evidence_pack',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('chain_heads', sa.Text(), nullable=False),
    sa.Column('generated_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('generator', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('pdf_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('signed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'digest', 'audience', name='uq_evidence_pack_state')
    )
    with op.batch_alter_table('evidence_pack', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_pack_digest', ['digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_pack_order_id'), ['order_id'], unique=False)

    op.create_table('carrier_push',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('event_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('received_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=True),
    sa.Column('events_added', sa.Integer(), nullable=False),
    sa.Column('events_duplicate', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'event_key', name='uq_carrier_push_source_key')
    )
    op.create_table('evidence_download',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pack_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('via', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('client_ip', sqlmodel.sql.sqltypes.AutoString(length=45), nullable=False),
    sa.Column('at', core.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['pack_id'], ['evidence_pack.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('evidence_download', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_download_order_id'), ['order_id'], unique=False)

    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_polled_at', core.models.types.UTCDateTime(timezone=True), nullable=True))

    # Chain columns arrive empty, are filled for the events already recorded
    # (in arrival order), and only then become required and unique.
    with op.batch_alter_table('tracking_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('dedup_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('chain_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))

    _backfill_chains()

    with op.batch_alter_table('tracking_event', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_tracking_event_shipment_dedup', ['shipment_id', 'dedup_key'])
        batch_op.create_unique_constraint('uq_tracking_event_shipment_seq', ['shipment_id', 'seq'])



def downgrade() -> None:
    with op.batch_alter_table('tracking_event', schema=None) as batch_op:
        batch_op.drop_constraint('uq_tracking_event_shipment_seq', type_='unique')
        batch_op.drop_constraint('uq_tracking_event_shipment_dedup', type_='unique')
        batch_op.drop_column('chain_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('dedup_key')
        batch_op.drop_column('seq')

    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_column('last_polled_at')

    with op.batch_alter_table('evidence_download', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_download_order_id'))

    op.drop_table('evidence_download')
    op.drop_table('carrier_push')
    with op.batch_alter_table('evidence_pack', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_pack_order_id'))
        batch_op.drop_index('ix_evidence_pack_digest')

    op.drop_table('evidence_pack')
