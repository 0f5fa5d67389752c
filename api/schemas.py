"""Request and reply bodies of the push API (msgspec Structs: they validate the
JSON with the path of the wrong field, and they are the OpenAPI schema)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from core.models.types import MAX_MINOR_UNITS

AwareTime = Annotated[datetime, Meta(tz=True, description="RFC 3339 with its offset, e.g. 2026-11-22T14:03:00+08:00")]
Minor = Annotated[int, Meta(ge=0, le=MAX_MINOR_UNITS, description="integer minor units (fen): 19.90 CNY is 1990")]
ChannelName = Literal["taobao", "jd", "pinduoduo", "douyin", "shopify", "own_shop"]
OrderStatusName = Literal["pending_payment", "paid", "picking", "shipped", "delivered", "cancelled", "refunded"]
CarrierCode = Literal["SF", "ZTO", "YTO", "JD", "EMS"]

MAX_ORDERS_PER_CALL = 500
MAX_STOCK_LEVELS_PER_CALL = 1000


class CustomerIn(Struct, forbid_unknown_fields=True):
    phone: Annotated[str, Meta(min_length=1, max_length=32, description="E.164, or 11 digits for mainland China")]
    name: Annotated[str, Meta(max_length=64)] = ""
    email: Annotated[str, Meta(max_length=254, description="where e-mail copies of order news go")] | None = None


class AddressIn(Struct, forbid_unknown_fields=True):
    recipient: Annotated[str, Meta(min_length=1, max_length=64)]
    phone: Annotated[str, Meta(min_length=1, max_length=32)]
    province: Annotated[str, Meta(min_length=1, max_length=32)]
    city: Annotated[str, Meta(min_length=1, max_length=32)]
    street: Annotated[str, Meta(min_length=1, max_length=200)]
    district: Annotated[str, Meta(max_length=32)] = ""
    postal_code: Annotated[str, Meta(max_length=12)] = ""


class LineIn(Struct, forbid_unknown_fields=True):
    sku: Annotated[str, Meta(min_length=1, max_length=64)]
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    quantity: Annotated[int, Meta(ge=1, le=100_000)]
    unit_price_minor: Minor


class OrderIn(Struct, forbid_unknown_fields=True):
    """One order as the channel knows it. Sent again later, it updates the stored order's
    status when status_at is newer (default: the moment we receive it)."""

    channel: ChannelName
    channel_order_no: Annotated[str, Meta(min_length=1, max_length=64)]
    created_at: AwareTime
    customer: CustomerIn
    address: AddressIn
    lines: Annotated[list[LineIn], Meta(min_length=1, max_length=200)]
    status: OrderStatusName = "pending_payment"
    status_at: AwareTime | None = None
    paid_at: AwareTime | None = None
    paid_minor: Minor | None = None
    currency: Annotated[str, Meta(pattern="^[A-Z]{3}$")] = "CNY"
    shipping_minor: Minor = 0
    discount_minor: Minor = 0
    warehouse_code: Annotated[str, Meta(max_length=16)] | None = None
    presale_ships_on: date | None = None


class OrdersIn(Struct, forbid_unknown_fields=True):
    orders: Annotated[list[OrderIn], Meta(min_length=1, max_length=MAX_ORDERS_PER_CALL)]


class ShipmentIn(Struct, forbid_unknown_fields=True):
    carrier: CarrierCode
    tracking_no: Annotated[str, Meta(min_length=4, max_length=40, pattern="^[A-Za-z0-9-]+$")]
    shipped_at: AwareTime | None = None


class StatusIn(Struct, forbid_unknown_fields=True):
    status: Literal["paid", "cancelled", "delivered", "refunded"]
    at: AwareTime
    paid_minor: Minor | None = None


class StockLevelIn(Struct, forbid_unknown_fields=True):
    sku: Annotated[str, Meta(min_length=1, max_length=64)]
    warehouse_code: Annotated[str, Meta(min_length=1, max_length=16)]
    on_hand: Annotated[int, Meta(ge=0, le=100_000_000, description="units on the shelf, absolute")]


class StockIn(Struct, forbid_unknown_fields=True):
    levels: Annotated[list[StockLevelIn], Meta(min_length=1, max_length=MAX_STOCK_LEVELS_PER_CALL)]


# Replies (documentation only: the handlers build the same shapes).

class FieldError(Struct):
    field: str
    message: str


class ErrorReply(Struct):
    error: str
    message: str
    errors: list[FieldError] = []


class OrderResult(Struct):
    index: int
    outcome: Literal["new", "updated", "unchanged", "rejected"]
    channel: str | None = None
    channel_order_no: str | None = None
    ref: str | None = None
    errors: list[FieldError] = []


class OrdersSummary(Struct):
    new: int
    updated: int
    unchanged: int
    rejected: int


class OrdersReply(Struct):
    results: list[OrderResult]
    summary: OrdersSummary


class ShipmentOut(Struct):
    carrier: str
    tracking_no: str
    shipped_at: datetime


class ShipmentReply(Struct):
    ref: str
    status: str
    outcome: Literal["new", "unchanged"]
    shipment: ShipmentOut


class StatusReply(Struct):
    ref: str
    status: str
    outcome: Literal["updated", "unchanged"]


class StockLevelOut(Struct):
    sku: str
    warehouse_code: str
    on_hand: int
    reserved: int
    available: int
    released_from: list[str]
    reserved_for: list[str]


class StockReply(Struct):
    levels: list[StockLevelOut]


def validation_errors(exc: msgspec.ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """msgspec says "Expected `int` >= 1 - at `$.lines[0].quantity`": the path becomes the field."""
    text = str(exc)
    message, _, where = text.partition(" - at `")
    path = where.rstrip("`").removeprefix("$").removeprefix(".") if where else ""
    missing = message.removeprefix("Object missing required field `")
    if missing != message:
        field = missing.rstrip("`")
        path = f"{path}.{field}" if path else field
        message = "This field is required."
    unknown = message.removeprefix("Object contains unknown field `")
    if unknown != message:
        field = unknown.rstrip("`")
        path = f"{path}.{field}" if path else field
        message = "Unknown field."
    full = prefix + path if path else prefix.rstrip(".")
    return [{"field": full or "body", "message": message}]
