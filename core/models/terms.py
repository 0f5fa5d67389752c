from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from core.models.types import UTCDateTime, utcnow


class ServiceTerms(SQLModel, table=True):
    """A version of the merchant's service promise. Orders point at the version
    in force when they were placed; a version is never edited once published."""

    __tablename__ = "service_terms"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=32, unique=True)
    title: str = Field(max_length=120)
    body: str = Field(sa_type=Text)
    ship_within_hours: int = Field(default=48)
    delivery_within_days: int = Field(default=5)
    effective_from: datetime = Field(sa_type=UTCDateTime, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
