from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.models.types import UTCDateTime, utcnow


class OutboxMessage(SQLModel, table=True):
    """A message to a customer, written in the same transaction as the change
    that causes it, then delivered by a worker: retried with backoff, dead
    after the last try, its state visible to staff."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)  # sms, wechat, email
    recipient: str = Field(max_length=254)  # E.164 number, openid or e-mail address
    event: str = Field(max_length=32)
    body: str = Field(sa_type=Text)
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    # One message per fact: the same event for the same order is not queued twice.
    dedupe_key: str | None = Field(default=None, max_length=128)
    status: str = Field(max_length=12, default="pending")  # pending, sending, sent, dead
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=500)
    provider_message_id: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MessageTemplate(SQLModel, table=True):
    """Editable message texts per event and language; {placeholders} are filled from the order."""

    __tablename__ = "message_template"
    __table_args__ = (UniqueConstraint("event", "locale", name="uq_message_template_event_locale"),)

    id: int | None = Field(default=None, primary_key=True)
    event: str = Field(max_length=32)
    locale: str = Field(max_length=8)
    body: str = Field(sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_by: str = Field(default="", max_length=254)


class JobRun(SQLModel, table=True):
    """The last run of each periodic job, for the operator's view of job lag."""

    __tablename__ = "job_run"

    name: str = Field(primary_key=True, max_length=64)
    started_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str = Field(default="", max_length=500)
