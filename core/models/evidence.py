from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.models.types import UTCDateTime, utcnow


class CarrierPush(SQLModel, table=True):
    """A carrier's webhook body, stored verbatim once its signature checked out
    and before anything is derived from it; (source, event_key) makes a replay a no-op."""

    __tablename__ = "carrier_push"
    __table_args__ = (UniqueConstraint("source", "event_key", name="uq_carrier_push_source_key"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)
    event_key: str = Field(max_length=64)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    body: str = Field(sa_type=Text)
    shipment_id: int | None = Field(default=None, foreign_key="shipment.id")
    events_added: int = 0
    events_duplicate: int = 0


class EvidencePack(SQLModel, table=True):
    """A rendered evidence PDF for one state of an order's event chains and one audience.
    The same state always yields these same bytes."""

    __tablename__ = "evidence_pack"
    __table_args__ = (
        UniqueConstraint("order_id", "digest", "audience", name="uq_evidence_pack_state"),
        Index("ix_evidence_pack_digest", "digest"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    digest: str = Field(max_length=64)
    audience: str = Field(max_length=16)  # customer, staff
    event_count: int
    chain_heads: str = Field(sa_type=Text)  # JSON: tracking number -> head hash and count
    generated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    generator: str = Field(max_length=64)
    pdf: bytes = Field(sa_type=LargeBinary)
    pdf_sha256: str = Field(max_length=64)
    signed: bool = False


class EvidenceDownload(SQLModel, table=True):
    """Who downloaded which pack, when and from where (the audit trail reuses it)."""

    __tablename__ = "evidence_download"

    id: int | None = Field(default=None, primary_key=True)
    pack_id: int = Field(foreign_key="evidence_pack.id")
    order_id: int = Field(foreign_key="orders.id", index=True)
    actor: str = Field(max_length=64)
    via: str = Field(max_length=16)
    client_ip: str = Field(default="", max_length=45)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
