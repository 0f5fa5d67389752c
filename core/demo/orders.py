"""Deterministic demo data: the same seed and anchor time give the same orders.

Orders are placed relative to the anchor (by default: now, to the hour) so the
awkward cases stay awkward whenever the demo is seeded: a parcel past its
promised delivery time, one stuck for two days without a carrier update.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, func, select

from core.db import Database
from core.demo.parcels import tracking_events, tracking_no
from core.demo.shop import CHANNEL_PREFIX, PRODUCTS, TERMS, WAREHOUSES, mobile, person, shipping_address
from core.demo.triage import add_history, bend_orders
from core.models import (
    Carrier,
    Order,
    OrderStatus,
    ServiceTerms,
    SkuStock,
    Warehouse,
)
from core.services.messaging import outbox as notifications
from core.services.orders import lifecycle as order_service
from core.services.orders.addresses import address_of
from core.services.tracking.events import append_events
from core.services.triage.engine import scan

DEMO_PHONE = "13800138000"
DEMO_NAME = "陈小明"

# Scenarios: what happened to an order. The demo phone owns one of each.
SCENARIOS = [
    "unpaid",
    "cancelled",
    "paid",
    "picking",
    "presale",
    "in_transit",
    "out_for_delivery",
    "late_in_transit",
    "stuck",
    "delivered",
    "delivered_late",
    "delivered_locker",
    "exception",
    "refunded",
]
SCENARIO_WEIGHTS = [4, 2, 6, 4, 1, 10, 3, 3, 3, 30, 4, 5, 2, 2]


@dataclass
class SeedSummary:
    orders: int
    customers: int
    shipments: int
    events: int
    demo_orders: int
    tags: int = 0


def _rng_ref(rng: random.Random) -> str:
    return "OD" + "".join(rng.choice(order_service._REF_ALPHABET) for _ in range(10))



def _placed_at(rng: random.Random, scenario: str, anchor: datetime) -> datetime:
    hours_ago = {
        "unpaid": (1, 20),
        "paid": (2, 20),
        "picking": (3, 20),
        "presale": (24, 96),
        "in_transit": (30, 60),
        "out_for_delivery": (70, 90),
        "late_in_transit": (24 * 7, 24 * 9),
        "stuck": (24 * 4, 24 * 5),
        "exception": (24 * 3, 24 * 6),
    }.get(scenario, (24 * 6, 24 * 60))
    return anchor - timedelta(hours=rng.uniform(*hours_ago))


def _seed_reference_data(session: Session) -> tuple[list[Warehouse], list[ServiceTerms]]:
    warehouses = [Warehouse(code=c, name=n, province=p, city=city) for c, n, p, city in WAREHOUSES]
    terms = [
        ServiceTerms(version=v, title=t, ship_within_hours=h, delivery_within_days=d, effective_from=eff, body=b)
        for v, t, h, d, eff, b in TERMS
    ]
    session.add_all(warehouses + terms)
    session.flush()
    for warehouse in warehouses:
        for sku, _name, _price in PRODUCTS:
            session.add(SkuStock(sku=sku, warehouse_id=warehouse.id, on_hand=200, reserved=0))
    return warehouses, terms


def _build_order(
    session: Session,
    rng: random.Random,
    scenario: str,
    anchor: datetime,
    warehouses: list[Warehouse],
    phone: str,
    name: str,
) -> tuple[Order, int, int]:
    channel = rng.choice(list(CHANNEL_PREFIX))
    warehouse = rng.choice(warehouses)
    placed = _placed_at(rng, scenario, anchor)
    recipient = name if rng.random() < 0.8 else person(rng)
    recipient_phone = phone if recipient == name else mobile(rng)
    lines = [
        order_service.NewLine(sku=sku, name=pname, quantity=rng.choice([1, 1, 1, 2, 3]), unit_price_minor=price)
        for sku, pname, price in rng.sample(PRODUCTS, rng.choice([1, 1, 2, 3]))
    ]
    presale_on = (anchor + timedelta(days=rng.randrange(5, 12))).date() if scenario == "presale" else None
    order = order_service.add_order(
        session,
        order_service.NewOrder(
            ref=_rng_ref(rng),
            channel=channel,
            channel_order_no=CHANNEL_PREFIX[channel](rng),
            customer_phone=phone,
            customer_name=name,
            address=shipping_address(rng, recipient, recipient_phone),
            lines=lines,
            shipping_minor=rng.choice([0, 0, 0, 800, 1200]),
            discount_minor=rng.choice([0, 0, 500, 1000]),
            created_at=placed,
            warehouse_id=warehouse.id,
            presale_ships_on=presale_on,
        ),
    )
    if scenario == "unpaid":
        return order, 0, 0
    if scenario == "cancelled":
        order_service.transition(session, order, OrderStatus.CANCELLED, actor="customer", via="import",
                                 at=placed + timedelta(hours=2))
        return order, 0, 0
    paid_at = placed + timedelta(minutes=rng.randrange(1, 40))
    order_service.apply_payment(session, order, paid_minor=order.total_minor, at=paid_at)
    if scenario in ("paid", "presale"):
        return order, 0, 0
    if scenario == "picking":
        order_service.transition(session, order, OrderStatus.PICKING, actor="warehouse", via="system",
                                 at=paid_at + timedelta(minutes=30))
        return order, 0, 0

    if scenario == "late_in_transit":
        # Promise already broken: placed under a promise that has passed.
        order.promised_delivery_by = anchor - timedelta(hours=rng.randrange(6, 40))
    shipped_at = paid_at + timedelta(hours=rng.uniform(3, 20))
    carrier = rng.choice(list(Carrier))
    shipment = order_service.add_shipment(
        session, order, carrier=carrier, tracking_no=tracking_no(rng, carrier), at=shipped_at,
        actor="warehouse", via="system",
    )
    session.flush()
    events = tracking_events(
        rng, shipment, carrier, warehouse.city, address_of(order), shipped_at, scenario, anchor
    )
    if scenario == "delivered_late" and events and order.promised_delivery_by:
        order.promised_delivery_by = min(order.promised_delivery_by, events[-1].occurred_at - timedelta(hours=17))
    for event in events:
        # One at a time, as a carrier would have pushed them, each received a little after it happened.
        append_events(session, shipment, [event], source="seed",
                      received_at=event.occurred_at + timedelta(seconds=rng.randrange(20, 600)))
    if scenario == "refunded" and shipment.delivered_at:
        order_service.transition(session, order, OrderStatus.REFUNDED, actor="support", via="admin",
                                 at=shipment.delivered_at + timedelta(days=1))
    return order, 1, len(events)


def seed_demo(
    db: Database, *, orders: int = 320, seed: int = 20261122, anchor: datetime | None = None
) -> SeedSummary:
    """Fill an empty database with demo data. Refuses a database that already has orders."""
    anchor = anchor or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rng = random.Random(seed)
    with db.write() as session:
        # History, not news: the demo's past events text nobody.
        session.info[notifications.SUPPRESS] = True
        if session.exec(select(func.count()).select_from(Order)).one():
            raise RuntimeError("the database already has orders; demo data goes into an empty database")
        warehouses, _terms = _seed_reference_data(session)
        shipments = events = 0
        plan = [(s, "demo") for s in SCENARIOS]
        plan += [(rng.choices(SCENARIOS, SCENARIO_WEIGHTS)[0], "other") for _ in range(max(orders - len(plan), 0))]
        customers = [(mobile(rng), person(rng)) for _ in range(max(orders // 2, 1))]
        for scenario, who in plan:
            phone, name = (DEMO_PHONE, DEMO_NAME) if who == "demo" else rng.choice(customers)
            _order, n_ship, n_events = _build_order(session, rng, scenario, anchor, warehouses, phone, name)
            shipments += n_ship
            events += n_events
        # One SKU almost gone in one warehouse, so the stock figures are not all alike.
        low = session.exec(select(SkuStock).where(SkuStock.sku == "SKU-TEA-001")).first()
        if low is not None:
            low.on_hand = 3
        n_customers = session.exec(select(func.count(func.distinct(Order.customer_id)))).one()
        bend_orders(session, seed=seed, anchor=anchor, demo_phone=DEMO_PHONE)
    triage = scan(db, anchor)
    with db.write() as session:
        add_history(session, seed=seed, anchor=anchor, demo_phone=DEMO_PHONE)
    return SeedSummary(
        orders=len(plan), customers=n_customers, shipments=shipments, events=events, demo_orders=len(SCENARIOS),
        tags=triage.opened,
    )
