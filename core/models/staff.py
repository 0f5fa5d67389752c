from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from core.models.types import UTCDateTime, utcnow


class Staff(SQLModel, table=True):
    __tablename__ = "staff"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    name: str = Field(default="", max_length=64)
    role: str = Field(max_length=24)
    # Warehouse staff see only their warehouse's orders.
    warehouse_id: int | None = Field(default=None, foreign_key="warehouse.id")
    password_hash: str = Field(max_length=200, repr=False)
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class StaffSession(SQLModel, table=True):
    """Staff sessions are separate from the shoppers' (own table, own cookie)."""

    __tablename__ = "staff_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    client_ip: str = Field(default="", max_length=45)


class AuditEntry(SQLModel, table=True):
    """Who did what to which order, when and from where. Append-only and
    hash-chained like the carrier events: a verify command finds any row that
    was altered or removed."""

    __tablename__ = "audit_log"
    __table_args__ = (
        UniqueConstraint("seq", name="uq_audit_log_seq"),
        Index("ix_audit_log_order_ref", "order_ref"),
        Index("ix_audit_log_staff_at", "staff_id", "at"),
        Index("ix_audit_log_action_at", "action", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    seq: int
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    actor: str = Field(max_length=254)
    action: str = Field(max_length=32)
    order_ref: str | None = Field(default=None, max_length=16)
    detail: str = Field(default="{}", sa_type=Text)
    client_ip: str = Field(default="", max_length=45)
    prev_hash: str = Field(max_length=64)
    entry_hash: str = Field(max_length=64)


class OrderNote(SQLModel, table=True):
    """Internal notes on an order; never shown to the customer."""

    __tablename__ = "order_note"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    staff_id: int = Field(foreign_key="staff.id")
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(_mapper, _connection, target: AuditEntry) -> None:
    raise RuntimeError(f"audit entry {target.seq} is append-only")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(_mapper, _connection, target: AuditEntry) -> None:
    raise RuntimeError(f"audit entry {target.seq} is append-only")
