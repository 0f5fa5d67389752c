# No `from __future__ import annotations` here: SQLModel resolves relationship
# annotations at class creation and needs them as real (or quoted) types.
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Optional

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from core.models.types import MINOR_UNITS, UTCDateTime, utcnow

if TYPE_CHECKING:
    from core.models.customer import Customer
    from core.models.shipment import Shipment
    from core.models.terms import ServiceTerms
    from core.models.warehouse import Warehouse


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PICKING = "picking"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


# The parcel has not left the warehouse: the address may still change and the order may be cancelled.
NOT_YET_SHIPPED = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PICKING})
# Paid and with the warehouse: it can be handed to a carrier, and the shopper may hurry it.
AWAITING_SHIPMENT = frozenset({OrderStatus.PAID, OrderStatus.PICKING})
# The carrier has (or had) the parcel: redirecting it is the carrier's business now.
HANDED_OVER = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED})


class Channel(StrEnum):
    TAOBAO = "taobao"
    JD = "jd"
    PINDUODUO = "pinduoduo"
    DOUYIN = "douyin"
    SHOPIFY = "shopify"
    OWN_SHOP = "own_shop"


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("channel", "channel_order_no", name="uq_orders_channel_order_no"),
        Index("ix_orders_customer_created", "customer_id", "created_at"),
        Index("ix_orders_status_created", "status", "created_at"),
        Index("ix_orders_ship_phone", "ship_phone"),
        Index("ix_orders_channel_order_no", "channel_order_no"),
        Index("ix_orders_ship_recipient", "ship_recipient"),
        Index("ix_orders_warehouse_created", "warehouse_id", "created_at"),
        # The admin's unfiltered list, newest first, and the placed-between filter.
        Index("ix_orders_created", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # orderdesk's own reference, unique across channels; the only order id in URLs.
    ref: str = Field(max_length=16, unique=True)
    channel: str = Field(max_length=16)
    channel_order_no: str = Field(max_length=64)
    customer_id: int = Field(foreign_key="customer.id")
    status: str = Field(max_length=20, default=OrderStatus.PENDING_PAYMENT)

    currency: str = Field(max_length=3, default="CNY")
    # Money in minor units, in 64-bit columns: a 32-bit column ends at ¥21,474,836.47.
    items_total_minor: int = Field(default=0, sa_type=MINOR_UNITS)
    shipping_minor: int = Field(default=0, sa_type=MINOR_UNITS)
    discount_minor: int = Field(default=0, sa_type=MINOR_UNITS)
    total_minor: int = Field(default=0, sa_type=MINOR_UNITS)
    # What the payment callback reported; may differ from total_minor (a payment anomaly).
    paid_minor: int | None = Field(default=None, sa_type=MINOR_UNITS)

    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    promised_ship_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    promised_delivery_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    presale_ships_on: date | None = None
    # When the channel says its last reported status took effect: an import or push
    # only replaces the status with one that is newer than this.
    source_status_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    warehouse_id: int | None = Field(default=None, foreign_key="warehouse.id")
    terms_id: int | None = Field(default=None, foreign_key="service_terms.id")
    is_priority: bool = False
    # Bumped to revoke every tracking link (/t/...) handed out for this order.
    link_version: int = 0

    # The shipping address as it was given for this order: a snapshot, never a
    # pointer into an address book, so later edits elsewhere cannot rewrite history.
    ship_recipient: str = Field(max_length=64)
    ship_phone: str = Field(max_length=16)
    ship_province: str = Field(max_length=32)
    ship_city: str = Field(max_length=32)
    ship_district: str = Field(default="", max_length=32)
    ship_street: str = Field(max_length=200)
    ship_postal_code: str = Field(default="", max_length=12)
    # The customs declaration of a cross-border parcel (Hong Kong, Macao, Taiwan, abroad);
    # empty when there is none yet, which the compliance triage rule flags.
    customs_declaration_no: str = Field(default="", max_length=40, sa_column_kwargs={"server_default": ""})

    customer: "Customer" = Relationship()
    warehouse: Optional["Warehouse"] = Relationship()
    terms: Optional["ServiceTerms"] = Relationship()
    lines: list["OrderLine"] = Relationship(
        back_populates="order", sa_relationship_kwargs={"order_by": "OrderLine.id"}
    )
    shipments: list["Shipment"] = Relationship(
        back_populates="order", sa_relationship_kwargs={"order_by": "Shipment.id"}
    )
    history: list["OrderHistory"] = Relationship(
        back_populates="order", sa_relationship_kwargs={"order_by": "OrderHistory.id"}
    )

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    # What may happen to the order in its status: the use cases enforce these and the pages
    # offer only what they allow, so the status sets are written down once, here.
    @property
    def can_change_address(self) -> bool:
        return self.status in NOT_YET_SHIPPED

    @property
    def can_cancel(self) -> bool:
        return self.status in NOT_YET_SHIPPED

    @property
    def can_mark_shipped(self) -> bool:
        return self.status in AWAITING_SHIPMENT

    @property
    def can_hurry(self) -> bool:
        return self.status in AWAITING_SHIPMENT

    @property
    def is_handed_over(self) -> bool:
        return self.status in HANDED_OVER


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_line"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    sku: str = Field(max_length=64)
    name: str = Field(max_length=200)
    quantity: int
    unit_price_minor: int = Field(sa_type=MINOR_UNITS)
    # Units held for this line in the warehouse's stock (fewer than quantity when short).
    reserved_qty: int = 0

    order: Order = Relationship(back_populates="lines")

    @property
    def line_total_minor(self) -> int:
        return self.quantity * self.unit_price_minor


class OrderHistory(SQLModel, table=True):
    """What happened to an order, who did it and through which door."""

    __tablename__ = "order_history"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    kind: str = Field(max_length=32)
    actor: str = Field(max_length=64)
    via: str = Field(max_length=16)  # portal, admin, api, import, carrier, system
    detail: str = Field(default="{}", sa_type=Text)

    order: Order = Relationship(back_populates="history")


class OrderStatusCount(SQLModel, table=True):
    """How many orders are in each status, kept by database triggers on `orders`
    (migration 3c1f0a9d2b7e), so the admin overview reads a few rows instead of
    counting a million. Spread over 8 slots by order id so concurrent writers
    seldom wait on the same counter row; a status's count is the sum of its slots."""

    __tablename__ = "order_status_count"

    status: str = Field(primary_key=True, max_length=20)
    slot: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    n: int = 0
