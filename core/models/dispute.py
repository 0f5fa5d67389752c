# No `from __future__ import annotations`: see core/models/order.py.
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text
from sqlmodel import Field, Relationship, SQLModel

from core.models.types import UTCDateTime, utcnow


class DisputeType(StrEnum):
    NOT_RECEIVED = "not_received"
    DAMAGED = "damaged"
    LATE = "late"
    WRONG_ITEM = "wrong_item"
    OTHER = "other"


class DisputeStatus(StrEnum):
    OPEN = "open"
    EVIDENCE_READY = "evidence_ready"
    SUBMITTED = "submitted"
    WON = "won"
    LOST = "lost"
    WITHDRAWN = "withdrawn"


class Dispute(SQLModel, table=True):
    __tablename__ = "dispute"
    __table_args__ = (
        Index("ix_dispute_status_due", "status", "due_at"),
        # The board's list in due order, past the overdue open ones.
        Index("ix_dispute_due", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    kind: str = Field(max_length=16)
    claim: str = Field(sa_type=Text)
    status: str = Field(max_length=16, default=DisputeStatus.OPEN)
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    owner_id: int | None = Field(default=None, foreign_key="staff.id")
    evidence_pack_id: int | None = Field(default=None, foreign_key="evidence_pack.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    actions: list["DisputeAction"] = Relationship(
        back_populates="dispute", sa_relationship_kwargs={"order_by": "DisputeAction.id"}
    )


class DisputeAction(SQLModel, table=True):
    __tablename__ = "dispute_action"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="dispute.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    actor: str = Field(max_length=254)
    kind: str = Field(max_length=24)  # opened, status, evidence, note, owner
    detail: str = Field(default="{}", sa_type=Text)

    dispute: Dispute | None = Relationship(back_populates="actions")


class ProblemReport(SQLModel, table=True):
    """One submission of the shopper's "report a problem" form: the first opens a
    dispute, later ones for the same order and kind are added to it. The rows also
    carry the per-customer submission limit (shared by every app process)."""

    __tablename__ = "problem_report"
    __table_args__ = (Index("ix_problem_report_customer_at", "customer_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="dispute.id", index=True)
    customer_id: int = Field(foreign_key="customer.id")
    kind: str = Field(max_length=16)
    description: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class DisputePhoto(SQLModel, table=True):
    """A customer's photo, re-encoded without metadata; the bytes sit in photo storage
    under `storage_key` and are only served through routes that check who asks."""

    __tablename__ = "dispute_photo"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="dispute.id", index=True)
    report_id: int | None = Field(default=None, foreign_key="problem_report.id")
    storage_key: str = Field(max_length=200, unique=True)
    media_type: str = Field(max_length=40)
    size_bytes: int
    width: int
    height: int
    original_name: str = Field(default="", max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
