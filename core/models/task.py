from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from core.models.types import UTCDateTime, utcnow


class WarehouseTask(SQLModel, table=True):
    """Something the warehouse must act on: a changed address, a hurried order."""

    __tablename__ = "warehouse_task"
    __table_args__ = (Index("ix_warehouse_task_open", "warehouse_id", "done_at", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    warehouse_id: int | None = Field(default=None, foreign_key="warehouse.id")
    kind: str = Field(max_length=24)  # address_changed, hurry
    detail: str = Field(default="{}", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
