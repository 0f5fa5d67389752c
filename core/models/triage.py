"""Exception triage: the rules (data, edited by staff) and the tags they put on orders."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text, text
from sqlmodel import Field, SQLModel

from core.models.types import UTCDateTime, utcnow


class TriageTag(StrEnum):
    ADDRESS_RISK = "address_risk"
    STOCK_GAP = "stock_gap"
    PAYMENT_ANOMALY = "payment_anomaly"
    LOGISTICS_ANOMALY = "logistics_anomaly"
    COMPLIANCE = "compliance"


class TriageQueue(StrEnum):
    CUSTOMER_SERVICE = "customer_service"
    WAREHOUSE = "warehouse"
    FINANCE = "finance"
    COMPLIANCE = "compliance"


class TriageRule(SQLModel, table=True):
    """One check the scan runs. The code names the check in core/services/triage/checks.py;
    everything a merchant tunes (thresholds, word lists, SLA hours, the canned reply) is in
    `params`, so changing it is an edit here, not a deployment."""

    __tablename__ = "triage_rule"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    tag: str = Field(max_length=24)
    queue: str = Field(max_length=24)
    enabled: bool = True
    params: str = Field(default="{}", sa_type=Text)  # JSON
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_by: str = Field(default="system", max_length=254)


# At most one open tag per order and rule; resolved ones stay as history.
_OPEN = "resolved_at IS NULL"


class OrderTag(SQLModel, table=True):
    """An exception found on an order by a rule, routed to a team's queue until resolved."""

    __tablename__ = "order_tag"
    __table_args__ = (
        Index("uq_order_tag_open", "order_id", "rule_code", unique=True,
              sqlite_where=text(_OPEN), postgresql_where=text(_OPEN)),
        Index("ix_order_tag_queue_due", "queue", "resolved_at", "sla_due_at"),
        Index("ix_order_tag_opened", "opened_at"),
        Index("ix_order_tag_resolved", "resolved_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    tag: str = Field(max_length=24)
    rule_code: str = Field(max_length=40)
    # JSON: the reason code and its figures, e.g. {"reason": "proxy_word", "word": "驿站"}.
    detail: str = Field(default="{}", sa_type=Text)
    # What the rule saw (an address, a last event time): a resolved tag suppresses new
    # hits with the same fingerprint, and a changed situation opens a new tag.
    fingerprint: str = Field(default="", max_length=64)
    queue: str = Field(max_length=24)
    owner_id: int | None = Field(default=None, foreign_key="staff.id")
    sla_due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, max_length=254)
    resolution: str | None = Field(default=None, sa_type=Text)
