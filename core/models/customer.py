from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.models.types import UTCDateTime, utcnow


class Customer(SQLModel, table=True):
    __tablename__ = "customer"

    id: int | None = Field(default=None, primary_key=True)
    # E.164, e.g. +8613800138000; the key the portal looks orders up by.
    phone: str = Field(max_length=16, unique=True, index=True)
    name: str = Field(default="", max_length=64)
    # Where e-mail copies of order news go (from the channel's order); None: no e-mail.
    email: str | None = Field(default=None, max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
