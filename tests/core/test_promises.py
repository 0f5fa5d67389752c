"""The delivery promise: a customer whose parcel is late is told once, in the shop's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from core.config import get_settings
from core.models import Order, OutboxMessage
from core.services.orders import lifecycle as order_service
from core.services.orders.promises import tell_late_customers
from tests.factories import make_order

SETTINGS = get_settings()


def shipped(db, *, promised_by: datetime) -> Order:  # noqa: ANN001
    order = make_order(db, paid=True)
    order_service.mark_shipped(db, order.ref, carrier="SF", tracking_no=f"SF{order.id:06d}", actor="t", via="api",
                               at=datetime.now(UTC) - timedelta(days=3))
    with db.write() as session:
        fresh = session.get(Order, order.id)
        fresh.promised_delivery_by = promised_by
        session.add(fresh)
    return order


def delayed_messages(db) -> list[OutboxMessage]:  # noqa: ANN001
    with db.read() as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.event == "delayed")).all())


def test_only_orders_past_their_promise_are_told_and_only_once(db):
    now = datetime.now(UTC)
    late = shipped(db, promised_by=now - timedelta(minutes=1))
    soon = shipped(db, promised_by=now + timedelta(minutes=1))
    first = tell_late_customers(db, SETTINGS, now=now)
    assert (first.late, first.told) == (1, 1)
    again = tell_late_customers(db, SETTINGS, now=now + timedelta(minutes=15))
    assert (again.late, again.told) == (2, 1)
    assert sorted(m.order_id for m in delayed_messages(db)) == sorted([late.id, soon.id])


def test_the_message_names_the_promise_in_the_shops_time_zone(db):
    promised = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)  # another day in China (UTC+8)
    shipped(db, promised_by=promised)
    tell_late_customers(db, SETTINGS, now=promised + timedelta(hours=1))
    [message] = delayed_messages(db)
    assert promised.astimezone(SETTINGS.tz).strftime("%m-%d %H:%M") in message.body
