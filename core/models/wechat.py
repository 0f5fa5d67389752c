"""WeChat official account: openid bindings, OAuth state, the shared access token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from core.models.types import SecretText, UTCDateTime, utcnow


class WechatBinding(SQLModel, table=True):
    """An openid (one WeChat user as seen by the merchant's official account) linked to
    the customer whose phone was verified by SMS code in the same browser."""

    __tablename__ = "wechat_binding"

    id: int | None = Field(default=None, primary_key=True)
    openid: str = Field(max_length=64, unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WechatBindingEvent(SQLModel, table=True):
    """The history of a customer's WeChat link: linked, removed, refused (bound elsewhere)."""

    __tablename__ = "wechat_binding_event"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    action: str = Field(max_length=16)  # linked, unlinked, refused
    # Only the end of the openid: enough to tell two WeChat accounts apart on the page.
    openid_tail: str = Field(max_length=8)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    client_ip: str = Field(default="", max_length=45)


class WechatLogin(SQLModel, table=True):
    """One trip through WeChat's authorisation page. The browser holds the state in a
    cookie and WeChat hands it back; we keep its hash, the page to return to, and,
    when the openid is not linked yet, the openid waiting for the SMS verification
    (the browser then holds a second random token, `pending`)."""

    __tablename__ = "wechat_login"
    __table_args__ = (Index("ix_wechat_login_expires", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    state_hash: str = Field(max_length=64, unique=True)
    next_path: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    state_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    openid: str | None = Field(default=None, max_length=64)
    pending_hash: str | None = Field(default=None, max_length=64, unique=True)
    pending_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    pending_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WechatAccessToken(SQLModel, table=True):
    """The official account's API access token, shared by every app server and worker:
    fetching a new one from cgi-bin/token invalidates the old one (after a grace
    period), so processes each keeping their own would keep breaking each other's."""

    __tablename__ = "wechat_access_token"

    app_id: str = Field(primary_key=True, max_length=64)
    # Encrypted at rest: a copy of the database cannot send messages as the merchant.
    access_token: str = Field(default="", sa_type=SecretText)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    refreshed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set while one process fetches a new token, so the others wait for it instead.
    refreshing_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
