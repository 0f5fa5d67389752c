"""Orders in the situations the triage rules look for, built through the app's own services."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta

from sqlmodel import select

from core.carriers.base import NormalizedEvent
from core.db import Database
from core.models import Order, OrderTag, Shipment, SkuStock, Warehouse
from core.services.actors import Actor
from core.services.orders import lifecycle as order_service
from core.services.orders import shipping
from core.services.tracking.events import append_events
from core.services.triage.rules import install_default_rules
from tests.factories import make_order

_tracking = itertools.count(1)


def install_rules(db: Database) -> None:
    with db.write() as session:
        install_default_rules(session)


def add_warehouse(db: Database, code: str = "HZ", name: str = "杭州仓") -> Warehouse:
    with db.write() as session:
        warehouse = Warehouse(code=code, name=name, province="浙江省", city="杭州市")
        session.add(warehouse)
    return warehouse


def set_stock(db: Database, sku: str, warehouse_id: int, on_hand: int, reserved: int = 0) -> None:
    with db.write() as session:
        row = session.exec(select(SkuStock).where(SkuStock.sku == sku, SkuStock.warehouse_id == warehouse_id)).first()
        row = row or SkuStock(sku=sku, warehouse_id=warehouse_id)
        row.on_hand, row.reserved = on_hand, reserved
        session.add(row)


def paid_order(db: Database, *, at: datetime, paid_minor: int | None = None, **kwargs) -> Order:
    """An order placed and paid at `at` (paid in full unless `paid_minor` says otherwise)."""
    order = make_order(db, created_at=at, **kwargs)
    order_service.mark_paid(db, order.ref, paid_minor=order.total_minor if paid_minor is None else paid_minor, at=at)
    return order_service.get_order(db, order.ref)


def ship(db: Database, ref: str, *, at: datetime, carrier: str = "SF") -> Shipment:
    return shipping.mark_shipped(db, Actor.integration("warehouse", via="system"), ref, carrier=carrier,
                                 tracking_no=f"{carrier}{next(_tracking):012d}", at=at)


def carrier_event(db: Database, shipment: Shipment, *, at: datetime, tag: str = "in_transit",
                  sub_status: str | None = None, text: str = "快件已到达转运中心") -> None:
    event = NormalizedEvent(occurred_at=at, raw_status_code="0", raw_text=f"{text} {at.isoformat()}", location="杭州",
                            tag=tag, sub_status=sub_status, raw_payload=json.dumps({"context": text}))
    with db.write() as session:
        append_events(session, session.get(Shipment, shipment.id), [event], source="push", received_at=at)


def open_tags(db: Database, order_id: int | None = None) -> list[OrderTag]:
    with db.read() as session:
        statement = select(OrderTag).where(OrderTag.resolved_at.is_(None))
        if order_id is not None:
            statement = statement.where(OrderTag.order_id == order_id)
        return list(session.exec(statement.order_by(OrderTag.id)).all())


def all_tags(db: Database) -> list[OrderTag]:
    with db.read() as session:
        return list(session.exec(select(OrderTag).order_by(OrderTag.id)).all())


def add_tag(db: Database, order: Order, *, rule_code: str, tag: str, queue: str, opened_at: datetime,
            sla_hours: int = 8, resolved_after: timedelta | None = None, resolved_by: str = "agent@example.com",
            detail: dict | None = None) -> OrderTag:
    """A tag as a scan would have opened it at `opened_at` (for reports and queue ordering)."""
    with db.write() as session:
        row = OrderTag(order_id=order.id, rule_code=rule_code, tag=tag, queue=queue, opened_at=opened_at,
                       sla_due_at=opened_at + timedelta(hours=sla_hours),
                       detail=json.dumps(detail or {"reason": "no_district"}))
        if resolved_after is not None:
            row.resolved_at, row.resolved_by, row.resolution = opened_at + resolved_after, resolved_by, "done"
        session.add(row)
    return row
