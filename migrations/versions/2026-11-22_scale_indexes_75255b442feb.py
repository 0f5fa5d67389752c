"""indexes for the admin order list and the dispute board at scale

Revision ID: 75255b442feb
Revises: cebf5e1056f2
Create Date: 2026-11-22 04:06:25.066777

Self-contained (two new indexes, nothing else), so it can be re-parented onto
whatever head exists when branches merge. On a large PostgreSQL table the
CREATE INDEX blocks writes to `orders` while it runs (0.6 s for a million rows of
about that width on the 2-core development machine): apply it at a quiet moment.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '75255b442feb'
down_revision: str | None = 'cebf5e1056f2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Newest first without a filter (and the placed-between filter): no sort of the whole table.
    op.create_index('ix_orders_created', 'orders', ['created_at', 'id'], unique=False)
    # The dispute board lists by due date.
    op.create_index('ix_dispute_due', 'dispute', ['due_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_dispute_due', table_name='dispute')
    op.drop_index('ix_orders_created', table_name='orders')
