"""Push API integrations (a channel, an ERP, a warehouse system), their keys and
the responses kept for Idempotency-Key replays."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, PrimaryKeyConstraint, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.models.types import UTCDateTime, utcnow


class ApiIntegration(SQLModel, table=True):
    """One system that pushes to us. Its keys may rotate; its idempotency keys
    stay valid across a rotation because they belong to the integration."""

    __tablename__ = "api_integration"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    created_by: str = Field(default="", max_length=254)


class ApiKey(SQLModel, table=True):
    """A key id and what it may do. The signing secret is never stored: it is
    derived from SECRET_KEY and the key id (core/services/channels/api_keys.py); only its
    SHA-256 is kept, to notice a SECRET_KEY that changed since the key was made."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    key_id: str = Field(max_length=32, unique=True)
    integration_id: int = Field(foreign_key="api_integration.id", index=True)
    scopes: str = Field(max_length=200)  # space-separated, e.g. "orders:write shipments:write"
    secret_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    created_by: str = Field(default="", max_length=254)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str = Field(default="", max_length=254)
    # Requests per minute; a runaway retry loop of one integration cannot starve the others.
    rate_limit_per_minute: int = Field(default=600, sa_column_kwargs={"server_default": "600"})

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class ApiIdempotency(SQLModel, table=True):
    """The answer given to a request that carried an Idempotency-Key, kept 24 h.
    Written in the same transaction as the request's effects: the unique key makes
    a concurrent duplicate wait for the first and then replay its answer."""

    __tablename__ = "api_idempotency"
    __table_args__ = (
        UniqueConstraint("integration_id", "idempotency_key", name="uq_api_idempotency_key"),
        Index("ix_api_idempotency_created", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    integration_id: int = Field(foreign_key="api_integration.id")
    idempotency_key: str = Field(max_length=255)
    # SHA-256 of method, path and raw body: the same key with another request is refused.
    request_hash: str = Field(max_length=64)
    status_code: int = 0
    response_body: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ApiRateWindow(SQLModel, table=True):
    """Requests of one key in one minute: counted in the database, so every app process shares the limit."""

    __tablename__ = "api_rate_window"
    __table_args__ = (PrimaryKeyConstraint("key_pk", "window_start", name="pk_api_rate_window"),)

    key_pk: int = Field(foreign_key="api_key.id")
    window_start: datetime = Field(sa_type=UTCDateTime, nullable=False)
    count: int = 0
