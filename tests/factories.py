"""Building orders for tests through the same services the app uses."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from core.db import Database
from core.models import Order, OrderStatus, ServiceTerms, Shipment, SkuStock, TrackingEvent, TrackingTag, Warehouse
from core.services.actors import Actor
from core.services.orders import lifecycle as order_service
from core.services.orders import shipping
from core.services.orders.addresses import ShippingAddress

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


def ship(db: Database, ref: str, *, carrier: str = "SF", tracking_no: str | None = None,
         at: datetime | None = None) -> Shipment:
    """The warehouse hands a paid order to the carrier."""
    return shipping.mark_shipped(
        db, Actor.integration("warehouse", via="admin"), ref, carrier=carrier,
        tracking_no=tracking_no or f"SF{next(_numbers):010d}", at=at,
    )


def deliver(db: Database, ref: str, *, at: datetime | None = None) -> None:
    with db.write() as session:
        order = order_service.lock_order(session, ref)
        order_service.transition(session, order, OrderStatus.DELIVERED, actor="carrier", via="carrier", at=at)


def refund(db: Database, ref: str) -> None:
    with db.write() as session:
        order = order_service.lock_order(session, ref)
        order_service.transition(session, order, OrderStatus.REFUNDED, actor="staff", via="admin")


def add_event(db: Database, shipment_id: int, *, occurred_at: datetime, raw_text: str, raw_status_code: str = "0",
              location: str = "杭州市", tag: str = TrackingTag.IN_TRANSIT) -> TrackingEvent:
    """A carrier event as received, through the same path as a push (deduplicated, chained)."""
    from core.carriers.base import NormalizedEvent
    from core.services.tracking.events import append_events

    event = NormalizedEvent(
        occurred_at=occurred_at, raw_status_code=raw_status_code, raw_text=raw_text, location=location, tag=tag,
        sub_status=None, raw_payload=json.dumps({"context": raw_text, "status": raw_status_code}, ensure_ascii=False),
    )
    with db.write() as session:
        append_events(session, session.get(Shipment, shipment_id), [event], source="push")
        stored = session.exec(
            select(TrackingEvent).where(TrackingEvent.shipment_id == shipment_id)
            .order_by(TrackingEvent.seq.desc()).limit(1)
        ).one()
    return stored


def add_warehouse(db: Database, code: str = "HZ1") -> Warehouse:
    with db.write() as session:
        warehouse = Warehouse(code=code, name=f"仓库 {code}", province="浙江省", city="杭州市")
        session.add(warehouse)
    return warehouse


def set_stock(db: Database, sku: str, warehouse_id: int, *, on_hand: int, reserved: int = 0) -> None:
    with db.write() as session:
        session.add(SkuStock(sku=sku, warehouse_id=warehouse_id, on_hand=on_hand, reserved=reserved))
