from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.carriers.base import NormalizedEvent
from core.errors import DomainError, InvalidInput, TransitionNotAllowed
from core.models import AppendOnlyViolation, Customer, Order, OrderStatus, Shipment, TrackingEvent
from core.services.actors import Actor
from core.services.orders import lifecycle as order_service
from core.services.orders import shipping
from core.services.tracking.events import append_events
from tests.factories import add_terms, address, make_order


def test_totals_are_integer_minor_units_from_the_lines(db):
    order = make_order(
        db, lines=[("A", "茶叶", 2, 1990), ("B", "茶杯", 1, 8900)], shipping_minor=800, discount_minor=500
    )
    assert order.items_total_minor == 2 * 1990 + 8900
    assert order.total_minor == 2 * 1990 + 8900 + 800 - 500
    assert isinstance(order.total_minor, int)
    assert order.currency == "CNY"


def test_order_ref_is_orderdesks_own_and_unique(db):
    first = make_order(db, channel="taobao", channel_order_no="123")
    second = make_order(db, channel="jd", channel_order_no="123")
    assert first.ref != second.ref
    assert first.ref.startswith("OD") and len(first.ref) == 12


def test_channel_order_number_is_unique_within_a_channel(db):
    make_order(db, channel="taobao", channel_order_no="T-1")
    with pytest.raises(DomainError, match="already exists"):
        make_order(db, channel="taobao", channel_order_no="T-1")
    with db.read() as session:
        assert len(session.exec(select(Order)).all()) == 1


def test_customer_phone_is_stored_in_e164_and_reused(db):
    make_order(db, phone="138 0013 8000")
    make_order(db, phone="+86 13800138000")
    with db.read() as session:
        customers = session.exec(select(Customer)).all()
    assert [c.phone for c in customers] == ["+8613800138000"]


def test_invalid_phone_is_refused_and_nothing_is_saved(db):
    with pytest.raises(InvalidInput) as excinfo:
        make_order(db, phone="12345")
    assert excinfo.value.field == "phone"
    with db.read() as session:
        assert session.exec(select(Order)).all() == []


def test_unknown_channel_and_empty_lines_are_refused(db):
    with pytest.raises(InvalidInput, match="Unknown sales channel"):
        make_order(db, channel="ebay")
    with pytest.raises(InvalidInput, match="at least one line"):
        order_service.create_order(
            db,
            order_service.NewOrder(
                channel="jd", channel_order_no="X", customer_phone="13800138000", customer_name="",
                address=address(), lines=[],
            ),
        )


def test_address_is_a_snapshot_on_the_order(db):
    order = make_order(db, address=address(street="文三路 1 号"))
    later = make_order(db, address=address(street="古墩路 99 号"))
    reloaded = order_service.get_order(db, order.ref)
    assert reloaded.ship_street == "文三路 1 号"
    assert later.ship_street == "古墩路 99 号"
    assert reloaded.customer_id == later.customer_id


def test_times_are_stored_timezone_aware_in_utc(db):
    placed = datetime(2026, 11, 20, 18, 30, tzinfo=UTC) + timedelta(hours=8)
    order = make_order(db, created_at=placed)
    assert order.created_at == placed
    assert order.created_at.tzinfo is not None
    assert order.created_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(db):
    with pytest.raises(Exception, match="naive datetime"):
        make_order(db, created_at=datetime(2026, 11, 20, 10, 0))  # noqa: DTZ001


def test_payment_sets_promises_from_the_terms_in_force(db):
    add_terms(db, version="old", ship_within_hours=48, delivery_within_days=5,
              effective_from=datetime(2020, 1, 1, tzinfo=UTC))
    add_terms(db, version="new", ship_within_hours=24, delivery_within_days=3,
              effective_from=datetime(2026, 1, 1, tzinfo=UTC))
    order = make_order(db, created_at=datetime(2026, 11, 1, 10, 0, tzinfo=UTC))
    paid_at = datetime(2026, 11, 1, 10, 5, tzinfo=UTC)
    order_service.mark_paid(db, order.ref, paid_minor=order.total_minor, at=paid_at)
    order = order_service.get_order(db, order.ref)
    assert order.terms.version == "new"
    assert order.status == OrderStatus.PAID
    assert order.promised_ship_by == paid_at + timedelta(hours=24)
    assert order.promised_delivery_by == paid_at + timedelta(hours=24, days=3)


def test_an_old_order_keeps_the_terms_of_its_day(db):
    add_terms(db, version="old", effective_from=datetime(2020, 1, 1, tzinfo=UTC))
    add_terms(db, version="new", effective_from=datetime(2026, 1, 1, tzinfo=UTC))
    order = make_order(db, created_at=datetime(2025, 6, 1, tzinfo=UTC))
    assert order.terms.version == "old"


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, True),
        (OrderStatus.PENDING_PAYMENT, OrderStatus.SHIPPED, False),
        (OrderStatus.PAID, OrderStatus.PICKING, True),
        (OrderStatus.SHIPPED, OrderStatus.PAID, False),
        (OrderStatus.SHIPPED, OrderStatus.DELIVERED, True),
        (OrderStatus.DELIVERED, OrderStatus.SHIPPED, False),
        (OrderStatus.CANCELLED, OrderStatus.PAID, False),
        (OrderStatus.REFUNDED, OrderStatus.DELIVERED, False),
    ],
)
def test_status_transitions(start, target, allowed):
    assert (target in order_service.ALLOWED_TRANSITIONS[start]) is allowed


def test_refused_transition_changes_nothing(db):
    order = make_order(db)
    with pytest.raises(TransitionNotAllowed), db.write() as session:
        locked = order_service.lock_order(session, order.ref)
        order_service.transition(session, locked, OrderStatus.DELIVERED, actor="t", via="admin")
    assert order_service.get_order(db, order.ref).status == OrderStatus.PENDING_PAYMENT


WAREHOUSE = Actor.integration("wh", via="admin")


def test_marking_shipped_needs_a_paid_order(db):
    unpaid = make_order(db)
    with pytest.raises(TransitionNotAllowed):
        shipping.mark_shipped(db, WAREHOUSE, unpaid.ref, carrier="SF", tracking_no="SF0001")
    paid = make_order(db, paid=True)
    shipment = shipping.mark_shipped(db, WAREHOUSE, paid.ref, carrier="SF", tracking_no="SF0002")
    order = order_service.get_order(db, paid.ref)
    assert order.status == OrderStatus.SHIPPED
    assert [s.tracking_no for s in order.shipments] == ["SF0002"]
    assert shipment.tracking_no == "SF0002"
    kinds = [(h.kind, h.via) for h in order.history]
    assert kinds == [("created", "import"), ("status", "import"), ("status", "admin")]


def _event() -> NormalizedEvent:
    return NormalizedEvent(
        occurred_at=datetime.now(UTC), raw_status_code="0", raw_text="【杭州市】快件已到达", location="杭州市",
        tag="in_transit", sub_status=None, raw_payload='{"context": "快件已到达"}',
    )


def test_tracking_events_are_append_only(db):
    order = make_order(db, paid=True)
    shipment = shipping.mark_shipped(db, Actor.integration("wh", via="api"), order.ref, carrier="ZTO", tracking_no="7001")
    with db.write() as session:
        append_events(session, session.get(Shipment, shipment.id), [_event()], source="push")
    with pytest.raises(AppendOnlyViolation), db.write() as session:
        event = session.exec(select(TrackingEvent)).one()
        event.raw_text = "edited"
    with pytest.raises(AppendOnlyViolation), db.write() as session:
        session.delete(session.exec(select(TrackingEvent)).one())
    with db.read() as session:
        assert session.exec(select(TrackingEvent)).one().raw_text == "【杭州市】快件已到达"


@pytest.mark.parametrize(("status", "change_address", "cancel", "mark_shipped", "hurry", "handed_over"), [
    ("pending_payment", True, True, False, False, False),
    ("paid", True, True, True, True, False),
    ("picking", True, True, True, True, False),
    ("shipped", False, False, False, False, True),
    ("delivered", False, False, False, False, True),
    ("cancelled", False, False, False, False, False),
    ("refunded", False, False, False, False, False),
])
def test_what_each_status_allows(status, change_address, cancel, mark_shipped, hurry, handed_over):
    """One definition for the pages (which offer the action) and the use cases (which enforce it)."""
    order = Order(status=status)
    assert (order.can_change_address, order.can_cancel, order.can_mark_shipped, order.can_hurry,
            order.is_handed_over) == (change_address, cancel, mark_shipped, hurry, handed_over)
