from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from core.models.types import UTCDateTime, utcnow


class LoginCode(SQLModel, table=True):
    """A one-time SMS code. Only its HMAC is stored; the rows also carry the
    send and failure history that the rate limits are computed from, so every
    app process sees the same limits."""

    __tablename__ = "login_code"
    __table_args__ = (
        Index("ix_login_code_phone_created", "phone", "created_at"),
        Index("ix_login_code_ip_created", "client_ip", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=16)
    # The browser holds a random challenge (cookie); we keep its hash to find this row.
    challenge_hash: str = Field(max_length=64, unique=True)
    code_hash: str = Field(max_length=64)
    client_ip: str = Field(max_length=45)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    wrong_attempts: int = 0
    last_failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CustomerSession(SQLModel, table=True):
    """A verified phone's session. The cookie holds a random token; we keep its hash."""

    __tablename__ = "customer_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    phone: str = Field(max_length=16, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    client_ip: str = Field(default="", max_length=45)
    user_agent: str = Field(default="", max_length=200)
