import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import selectinload
from sqlmodel import func, select

from core.db import Database
from core.demo.orders import seed_demo
from core.migrate import upgrade
from core.models import Customer, Order, OrderStatus, OrderTag, Shipment, TrackingEvent, TriageQueue, Warehouse

ANCHOR = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.fixture
def seeded(db):
    summary = seed_demo(db, anchor=ANCHOR)
    return db, summary


def _demo_orders(db) -> list[Order]:
    with db.read() as session:
        return list(
            session.exec(
                select(Order)
                .join(Customer)
                .where(Customer.phone == "+8613800138000")
                .options(selectinload(Order.shipments))
            ).all()
        )


def test_volume_and_variety(seeded):
    db, summary = seeded
    with db.read() as session:
        assert session.exec(select(func.count()).select_from(Order)).one() >= 300
        assert session.exec(select(func.count(func.distinct(Order.channel)))).one() >= 5
        assert session.exec(select(func.count()).select_from(Warehouse)).one() == 3
        assert set(session.exec(select(Shipment.carrier).distinct()).all()) == {"SF", "ZTO", "YTO", "JD", "EMS"}
        statuses = set(session.exec(select(Order.status).distinct()).all())
    assert statuses == set(OrderStatus)
    assert summary.events > summary.shipments


def test_demo_phone_owns_every_awkward_case(seeded):
    db, _ = seeded
    orders = _demo_orders(db)
    statuses = {o.status for o in orders}
    assert {OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.DELIVERED} <= statuses

    in_transit = [o for o in orders if o.status == OrderStatus.SHIPPED]
    late = [o for o in in_transit if o.promised_delivery_by and o.promised_delivery_by < ANCHOR]
    stuck = [o for o in in_transit
             if o.shipments and o.shipments[0].last_event_at < ANCHOR - timedelta(hours=48)]
    exception = [o for o in orders if o.shipments and o.shipments[0].tag == "exception"]
    paid_not_shipped = [o for o in orders if o.status in (OrderStatus.PAID, OrderStatus.PICKING)]
    assert late, "an order in transit past its promised delivery time"
    assert stuck, "an order stuck 48 h without a tracking update"
    assert exception, "an order whose parcel hit a carrier exception"
    assert paid_not_shipped


def test_events_keep_the_raw_payload(seeded):
    db, _ = seeded
    with db.read() as session:
        events = session.exec(select(TrackingEvent).limit(50)).all()
    for event in events:
        payload = json.loads(event.raw_payload)
        assert payload["context"] == event.raw_text
        assert payload["statusCode"] == event.raw_status_code
        assert event.occurred_at <= ANCHOR


def test_same_seed_same_data(seeded, tmp_path):
    db, _ = seeded
    other_url = f"sqlite:///{tmp_path / 'again.db'}"
    upgrade(other_url)
    other = Database(other_url)
    seed_demo(other, anchor=ANCHOR)
    query = select(Order.ref, Order.channel_order_no, Order.total_minor, Order.status).order_by(Order.ref)
    with db.read() as a, other.read() as b:
        assert a.exec(query).all() == b.exec(query).all()
    other.dispose()


def test_refuses_a_database_with_orders(seeded):
    db, _ = seeded
    with pytest.raises(RuntimeError, match="already has orders"):
        seed_demo(db, anchor=ANCHOR)


def test_seeding_installs_the_rules_and_fills_every_triage_queue(seeded):
    db, summary = seeded
    with db.read() as session:
        tags = session.exec(select(OrderTag).where(OrderTag.resolved_at.is_(None))).all()
        demo_ids = {o.id for o in _demo_orders(db)}
    assert summary.tags == len(tags) > 0
    assert {t.queue for t in tags} == set(TriageQueue)
    assert {t.tag for t in tags} == {"address_risk", "stock_gap", "payment_anomaly", "logistics_anomaly",
                                     "compliance"}
    assert all(t.opened_at == ANCHOR for t in tags)
    bent = {t.order_id for t in tags if t.tag in ("address_risk", "compliance")}
    assert bent and not bent & demo_ids, "the demo phone's orders stay as the portal demo shows them"


def test_earlier_weeks_have_resolved_tags_for_the_weekly_trends(seeded):
    from zoneinfo import ZoneInfo

    from core.services.triage.report import Week, weekly

    db, _ = seeded
    zone = ZoneInfo("Asia/Shanghai")
    last_week = Week.of(ANCHOR.astimezone(zone).date()).previous()
    report = weekly(db, last_week, zone)
    assert report.total.current > 0 and report.total.previous > 0
    assert report.resolved.current > 0 and report.median_seconds[0] is not None
    with db.read() as session:
        history = session.exec(select(OrderTag).where(OrderTag.fingerprint == "demo-history")).all()
    assert history and all(t.resolved_at is not None and t.resolved_at < ANCHOR for t in history)
