"""Building orders for tests through the same services the app uses."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from core.db import Database
from core.models import Order, ServiceTerms
from core.services import orders as order_service
from core.services.addresses import ShippingAddress

_numbers = itertools.count(1)

ALICE_PHONE = "13800138000"
BOB_PHONE = "13912345678"


def address(**overrides: str) -> ShippingAddress:
    values = {
        "recipient": "张三",
        "phone": "+8613800138000",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "street": "文三路 100 号 2 幢 301 室",
        "postal_code": "310012",
    }
    values.update(overrides)
    return ShippingAddress(**values)


def add_terms(db: Database, *, version: str = "T1", ship_within_hours: int = 24, delivery_within_days: int = 3,
              effective_from: datetime | None = None) -> ServiceTerms:
    with db.write() as session:
        terms = ServiceTerms(
            version=version,
            title=f"Terms {version}",
            body="Ships within 24 h.",
            ship_within_hours=ship_within_hours,
            delivery_within_days=delivery_within_days,
            effective_from=effective_from or datetime(2020, 1, 1, tzinfo=UTC),
        )
        session.add(terms)
    return terms


def make_order(
    db: Database,
    *,
    phone: str = ALICE_PHONE,
    channel: str = "taobao",
    channel_order_no: str | None = None,
    lines: list[tuple[str, str, int, int]] | None = None,
    paid: bool = False,
    created_at: datetime | None = None,
    **kwargs,
) -> Order:
    new = order_service.NewOrder(
        channel=channel,
        channel_order_no=channel_order_no or f"CH{next(_numbers):08d}",
        customer_phone=phone,
        customer_name="张三",
        address=kwargs.pop("address", address()),
        lines=[
            order_service.NewLine(sku=sku, name=name, quantity=qty, unit_price_minor=price)
            for sku, name, qty, price in (lines or [("SKU-1", "龙井茶", 2, 1990)])
        ],
        created_at=created_at or datetime.now(UTC) - timedelta(hours=1),
        **kwargs,
    )
    order = order_service.create_order(db, new)
    if paid:
        order_service.mark_paid(db, order.ref, paid_minor=order.total_minor)
    return order_service.get_order(db, order.ref)
