"""stock reservation per order line

Revision ID: 5755d4eac603
Revises: 922a6c6f3363
Create Date: 2026-11-22 03:57:42.821520
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.models.types


revision: str = '5755d4eac603'
down_revision: str | None = '922a6c6f3363'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reserved_qty', sa.Integer(), nullable=False, server_default='0'))



def downgrade() -> None:
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_column('reserved_qty')

