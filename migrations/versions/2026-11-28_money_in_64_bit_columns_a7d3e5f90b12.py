"""money in 64-bit columns

Revision ID: a7d3e5f90b12
Revises: e3a1c9d24b70
Create Date: 2026-11-28 23:30:00

An order over ¥21,474,836.47 overflowed the 32-bit money columns on PostgreSQL. SQLite stores every
integer in up to 8 bytes already: the models keep INTEGER there (core.models.types.MINOR_UNITS), and
nothing changes (no table rebuild). On a large PostgreSQL table the ALTER rewrites `orders`
and `order_line` and blocks writes to them while it runs: apply it at a quiet moment.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a7d3e5f90b12'
down_revision: str | None = 'e3a1c9d24b70'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {
    "orders": ["items_total_minor", "shipping_minor", "discount_minor", "total_minor", "paid_minor"],
    "order_line": ["unit_price_minor"],
}


def _retype(new: sa.types.TypeEngine, old: sa.types.TypeEngine) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=new, existing_type=old)


def upgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer())


def downgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger())
