"""shoppers' problem reports and their photos on disputes

Revision ID: a3c9e1f07b52
Revises: bf7838009b80
Create Date: 2026-11-22 06:10:00

Two new tables, nothing else changed: it can be re-parented onto whatever head
exists when branches merge.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.models.types

revision: str = 'a3c9e1f07b52'
down_revision: str | None = 'bf7838009b80'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'problem_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dispute_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('created_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id']),
        sa.ForeignKeyConstraint(['dispute_id'], ['dispute.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_problem_report_dispute_id', 'problem_report', ['dispute_id'], unique=False)
    # The per-customer submission limit counts the last day's rows.
    op.create_index('ix_problem_report_customer_at', 'problem_report', ['customer_id', 'created_at'], unique=False)
    op.create_table(
        'dispute_photo',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dispute_id', sa.Integer(), nullable=False),
        sa.Column('report_id', sa.Integer(), nullable=True),
        sa.Column('storage_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('original_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('created_at', core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['dispute_id'], ['dispute.id']),
        sa.ForeignKeyConstraint(['report_id'], ['problem_report.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('storage_key'),
    )
    op.create_index('ix_dispute_photo_dispute_id', 'dispute_photo', ['dispute_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_dispute_photo_dispute_id', table_name='dispute_photo')
    op.drop_table('dispute_photo')
    op.drop_index('ix_problem_report_customer_at', table_name='problem_report')
    op.drop_index('ix_problem_report_dispute_id', table_name='problem_report')
    op.drop_table('problem_report')
