"""A parcel past its promised delivery time: its customer is told once, with the promise in local time."""

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from core.config import get_settings
from core.models import Order, OutboxMessage
from core.services.orders.promises import tell_customers_of_broken_promises
from tests.factories import deliver, make_order, ship

SETTINGS = get_settings()


def _promised(db, ref: str, promised_by: datetime) -> None:
    with db.write() as session:
        order = session.exec(select(Order).where(Order.ref == ref)).one()
        order.promised_delivery_by = promised_by
        session.add(order)


def test_a_late_parcel_is_told_once_with_its_promise_and_tracking_link(db):
    order = make_order(db, paid=True)
    ship(db, order.ref)
    promised = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    _promised(db, order.ref, promised)
    now = promised + timedelta(hours=5)
    first = tell_customers_of_broken_promises(db, SETTINGS, now)
    again = tell_customers_of_broken_promises(db, SETTINGS, now)
    assert (first.late, first.newly_told) == (1, 1)
    assert (again.late, again.newly_told) == (1, 0)
    with db.read() as session:
        [message] = session.exec(select(OutboxMessage).where(OutboxMessage.event == "delayed")).all()
    assert promised.astimezone(SETTINGS.tz).strftime("%m-%d %H:%M") in message.body
    assert f"{SETTINGS.public_base_url}/t/" in message.body


def test_delivered_and_on_time_parcels_are_not_late(db):
    now = datetime.now(UTC)
    on_time = make_order(db, paid=True)
    ship(db, on_time.ref)
    _promised(db, on_time.ref, now + timedelta(hours=20))
    delivered = make_order(db, paid=True)
    ship(db, delivered.ref)
    _promised(db, delivered.ref, now - timedelta(hours=20))
    deliver(db, delivered.ref)
    result = tell_customers_of_broken_promises(db, SETTINGS, now)
    assert (result.late, result.newly_told) == (0, 0)
