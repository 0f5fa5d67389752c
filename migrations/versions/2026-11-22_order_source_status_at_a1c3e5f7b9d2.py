"""orders.source_status_at: when the channel's last reported status took effect

Revision ID: a1c3e5f7b9d2
Revises: a3c9e1f07b52
Create Date: 2026-11-22 05:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.models.types

revision: str = 'a1c3e5f7b9d2'
down_revision: str | None = 'a3c9e1f07b52'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_status_at', core.models.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('source_status_at')
