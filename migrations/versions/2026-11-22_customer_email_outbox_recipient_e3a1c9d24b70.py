"""customer email, outbox recipient long enough for an e-mail address

Revision ID: e3a1c9d24b70
Revises: 567dcb705052
Create Date: 2026-11-22 07:05:00

One nullable column and one widened column: it can be re-parented onto whatever
head exists when branches merge.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'e3a1c9d24b70'
down_revision: str | None = '567dcb705052'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('customer') as batch:
        batch.add_column(sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))
    with op.batch_alter_table('outbox_message') as batch:
        batch.alter_column('recipient', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
                           type_=sqlmodel.sql.sqltypes.AutoString(length=254), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_message') as batch:
        batch.alter_column('recipient', existing_type=sqlmodel.sql.sqltypes.AutoString(length=254),
                           type_=sqlmodel.sql.sqltypes.AutoString(length=64), existing_nullable=False)
    with op.batch_alter_table('customer') as batch:
        batch.drop_column('email')
