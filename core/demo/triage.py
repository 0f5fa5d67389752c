"""Demo data for the exception triage: the default rules, a few orders bent into the situations
the rules look for, and a first scan, so every queue has something in it after `seed-demo`.

Only orders of other customers are bent; the demo phone's orders stay as the portal demo needs
them. A separate random stream keeps the rest of the demo data unchanged.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from sqlmodel import Session, select

from core.carriers.base import NormalizedEvent
from core.models import Customer, Dispute, Order, OrderStatus, Shipment, SkuStock, TrackingTag
from core.phones import normalize_phone
from core.services.actors import Actor, ActorKind
from core.services.tracking.events import append_events
from core.services.triage.rules import install_default_rules

# Who the rules say installed them: the `seed-demo` command, as before actors existed.
SEED_DEMO = Actor(ActorKind.SYSTEM, "seed-demo", via="cli")


def _others(session: Session, demo_phone: str, status: OrderStatus) -> list[Order]:
    demo = session.exec(select(Customer.id).where(Customer.phone == normalize_phone(demo_phone))).first()
    return list(session.exec(select(Order).where(Order.status == status, Order.customer_id != demo)
                             .order_by(Order.id)).all())


def bend_orders(session: Session, *, seed: int, anchor: datetime, demo_phone: str) -> None:
    install_default_rules(session, SEED_DEMO)
    rng = random.Random(seed + 1)
    paid = _others(session, demo_phone, OrderStatus.PAID)
    rng.shuffle(paid)
    bends = [
        lambda o: setattr(o, "ship_street", o.ship_street + "（菜鸟驿站代收）"),
        lambda o: setattr(o, "ship_district", ""),
        lambda o: setattr(o, "ship_phone", "+862161234567"),
        lambda o: (setattr(o, "ship_province", "香港特别行政区"), setattr(o, "ship_city", "香港"),
                   setattr(o, "ship_district", "九龙城区"), setattr(o, "ship_street", "太子道西 188 号 12 楼 B 室"),
                   setattr(o, "ship_phone", "+85291234567"), setattr(o, "ship_postal_code", "")),
        lambda o: setattr(o, "paid_minor", max(o.total_minor - 500, 0)),
        lambda o: setattr(o, "paid_at", None),
        lambda o: setattr(o, "ship_street", "解放路邮政信箱 2031 号"),
    ]
    for order, bend in zip(paid, bends, strict=False):
        bend(order)
        session.add(order)
    if len(paid) > len(bends):
        # One line the warehouse cannot fill.
        order = paid[len(bends)]
        line = order.lines[0]
        stock = session.exec(select(SkuStock).where(SkuStock.sku == line.sku,
                                                    SkuStock.warehouse_id == order.warehouse_id)).first()
        if stock is not None:
            stock.on_hand = max(line.quantity - 1, 0)
            session.add(stock)

    delivered = _others(session, demo_phone, OrderStatus.DELIVERED)
    if delivered:
        order = rng.choice(delivered)
        session.add(Dispute(order_id=order.id, kind="not_received", claim="客户称包裹显示已签收但本人未收到。",
                            due_at=anchor + timedelta(days=3), created_at=anchor - timedelta(hours=5),
                            updated_at=anchor - timedelta(hours=5)))

    moving = [s for o in _others(session, demo_phone, OrderStatus.SHIPPED) for s in
              session.exec(select(Shipment).where(Shipment.order_id == o.id)).all()
              if s.tag == TrackingTag.IN_TRANSIT and s.last_event_at is not None]
    if moving:
        shipment = rng.choice(moving)
        at = min(anchor - timedelta(hours=2), shipment.last_event_at + timedelta(hours=6))
        text = "收件人拒收，快件退回中"
        append_events(session, shipment, [NormalizedEvent(
            occurred_at=at, raw_status_code="6", raw_text=text, location="", tag=TrackingTag.EXCEPTION,
            sub_status="returning", raw_payload=json.dumps({"context": text, "statusCode": "6", "status": "退回"},
                                                           ensure_ascii=False))],
            source="seed", received_at=at + timedelta(minutes=3))


HISTORY_WEEKS = 4
# How often each rule fired in an ordinary demo week, and which team worked it.
_HISTORY_WEIGHTS = {
    "logistics_stalled": 10, "address_proxy_words": 6, "payment_amount_mismatch": 2, "stock_short": 4,
    "address_no_district": 3, "logistics_no_pickup": 3, "payment_refunded": 3, "compliance_customs_missing": 1,
    "address_phone_not_mobile": 2, "logistics_returned": 1,
}


def add_history(session: Session, *, seed: int, anchor: datetime, demo_phone: str) -> int:
    """Resolved tags over the weeks before the anchor, so the weekly trends have weeks to compare.
    They carry their own fingerprint and so never keep a scan from opening a real tag."""
    from core.models import OrderTag, TriageRule

    rng = random.Random(seed + 2)
    rules = {r.code: r for r in session.exec(select(TriageRule)).all()}
    demo = session.exec(select(Customer.id).where(Customer.phone == normalize_phone(demo_phone))).first()
    orders = list(session.exec(select(Order.id, Order.created_at).where(Order.customer_id != demo)
                               .order_by(Order.id)).all())
    codes = [c for c in _HISTORY_WEIGHTS if c in rules]
    added = 0
    for week in range(HISTORY_WEEKS, 0, -1):
        for _ in range(rng.randrange(18, 40)):
            opened = anchor - timedelta(days=7 * week - rng.uniform(0, 7))
            candidates = [order_id for order_id, created in orders if created < opened]
            if not candidates:
                continue
            rule = rules[rng.choices(codes, [_HISTORY_WEIGHTS[c] for c in codes])[0]]
            resolved = opened + timedelta(hours=rng.uniform(0.3, 30))
            if resolved >= anchor:
                continue
            session.add(OrderTag(
                order_id=rng.choice(candidates), tag=rule.tag, rule_code=rule.code, queue=rule.queue,
                detail=json.dumps({"reason": "demo_history"}), fingerprint="demo-history", opened_at=opened,
                sla_due_at=opened + timedelta(hours=json.loads(rule.params).get("sla_hours", 24)),
                resolved_at=resolved, resolved_by="support@orderdesk.local", resolution="已处理（演示数据）"))
            added += 1
    return added
