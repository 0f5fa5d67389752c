# No `from __future__ import annotations`: see core/models/order.py.
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text, UniqueConstraint, event
from sqlmodel import Field, Relationship, SQLModel

from core.models.order import Order
from core.models.types import UTCDateTime, utcnow


class Carrier(StrEnum):
    SF = "SF"
    ZTO = "ZTO"
    YTO = "YTO"
    JD = "JD"
    EMS = "EMS"


class TrackingTag(StrEnum):
    """The normalized vocabulary shared by the common tracking aggregators."""

    PENDING = "pending"
    INFO_RECEIVED = "info_received"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    ATTEMPT_FAIL = "attempt_fail"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    EXPIRED = "expired"


class Shipment(SQLModel, table=True):
    __tablename__ = "shipment"
    __table_args__ = (UniqueConstraint("carrier", "tracking_no", name="uq_shipment_carrier_tracking"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    carrier: str = Field(max_length=16)
    tracking_no: str = Field(max_length=40, index=True)
    shipped_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    tag: str = Field(max_length=24, default=TrackingTag.PENDING)
    # The address on the label at hand-off, as one line: what the carrier was told.
    ship_to: str = Field(default="", max_length=400)
    last_event_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_polled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    order: Order = Relationship(back_populates="shipments")
    events: list["TrackingEvent"] = Relationship(
        back_populates="shipment",
        sa_relationship_kwargs={"order_by": "TrackingEvent.occurred_at.desc(), TrackingEvent.id.desc()"},
    )


class TrackingEvent(SQLModel, table=True):
    """One carrier event exactly as received. Append-only: never updated or deleted."""

    __tablename__ = "tracking_event"
    __table_args__ = (
        Index("ix_tracking_event_shipment_occurred", "shipment_id", "occurred_at"),
        UniqueConstraint("shipment_id", "seq", name="uq_tracking_event_shipment_seq"),
        UniqueConstraint("shipment_id", "dedup_key", name="uq_tracking_event_shipment_dedup"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id")
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    raw_status_code: str = Field(max_length=16)
    raw_text: str = Field(sa_type=Text)
    location: str = Field(default="", max_length=120)
    tag: str = Field(max_length=24)
    sub_status: str | None = Field(default=None, max_length=32)
    source: str = Field(max_length=16)  # push, poll, seed
    # The payload verbatim as the carrier sent it, so a dispute can show the original.
    raw_payload: str = Field(sa_type=Text)
    # Arrival order within the shipment (1, 2, ...), and the hash chain over it:
    # chain_hash = sha256(prev_hash + canonical content). Editing or removing a
    # row breaks every hash after it.
    seq: int
    dedup_key: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    chain_hash: str = Field(max_length=64)

    shipment: Shipment = Relationship(back_populates="events")


class AppendOnlyViolation(RuntimeError):
    """Raised when code tries to change or remove a recorded carrier event."""


@event.listens_for(TrackingEvent, "before_update")
def _refuse_update(_mapper, _connection, target: TrackingEvent) -> None:
    raise AppendOnlyViolation(f"tracking event {target.id} is append-only and cannot be updated")


@event.listens_for(TrackingEvent, "before_delete")
def _refuse_delete(_mapper, _connection, target: TrackingEvent) -> None:
    raise AppendOnlyViolation(f"tracking event {target.id} is append-only and cannot be deleted")
