"""Carrier events that arrive late, out of order or dated in the future cannot move a parcel backwards,
pin its state, or text the shopper news older than what they were told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from core.carriers.base import NormalizedEvent
from core.models import OutboxMessage, Shipment, TrackingEvent, TrackingTag
from core.services.tracking.events import append_events, may_follow
from tests.factories import add_event, make_order, ship

T0 = datetime.now(UTC) - timedelta(days=2)


def _parcel(db):  # noqa: ANN001, ANN202
    order = make_order(db, paid=True)
    return order, ship(db, order.ref, at=T0)


def _state(db, shipment_id: int) -> str:  # noqa: ANN001
    with db.read() as session:
        return session.get(Shipment, shipment_id).tag


def _texts(db, order_id: int) -> list[str]:  # noqa: ANN001
    with db.read() as session:
        return [m.event for m in session.exec(select(OutboxMessage).where(OutboxMessage.order_id == order_id)
                                              .order_by(OutboxMessage.id)).all()]


def test_an_out_for_delivery_arriving_after_delivered_neither_moves_the_parcel_back_nor_texts(db):
    order, shipment = _parcel(db)
    add_event(db, shipment.id, occurred_at=T0 + timedelta(hours=20), raw_text="已签收", tag=TrackingTag.DELIVERED)
    texts_before = _texts(db, order.id)
    # The carrier's scan from the morning reaches us after the delivery, with a later time stamp.
    add_event(db, shipment.id, occurred_at=T0 + timedelta(hours=21), raw_text="派送中", tag=TrackingTag.OUT_FOR_DELIVERY)
    assert _state(db, shipment.id) == TrackingTag.DELIVERED
    assert _texts(db, order.id) == texts_before
    assert "out_for_delivery" not in texts_before


def test_the_state_moves_only_forward_but_an_exception_may_come_and_go(db):
    _order, shipment = _parcel(db)
    steps = [(TrackingTag.OUT_FOR_DELIVERY, TrackingTag.OUT_FOR_DELIVERY),
             (TrackingTag.IN_TRANSIT, TrackingTag.OUT_FOR_DELIVERY),  # a stale hub scan: not backwards
             (TrackingTag.EXCEPTION, TrackingTag.EXCEPTION),
             (TrackingTag.IN_TRANSIT, TrackingTag.IN_TRANSIT)]  # moving again after the exception
    for hours, (tag, shown) in enumerate(steps, start=1):
        add_event(db, shipment.id, occurred_at=T0 + timedelta(hours=hours), raw_text=f"scan {hours}", tag=tag)
        assert _state(db, shipment.id) == shown, tag
    assert may_follow(TrackingTag.DELIVERED, TrackingTag.EXCEPTION) is False


def test_an_event_dated_twenty_hours_ahead_is_refused_and_logged_and_does_not_pin_the_state(db, caplog):
    _order, shipment = _parcel(db)
    ahead = NormalizedEvent(occurred_at=datetime.now(UTC) + timedelta(hours=20), raw_status_code="3",
                            raw_text="已签收", location="杭州市", tag=TrackingTag.DELIVERED, sub_status=None,
                            raw_payload="{}")
    with db.write() as session:
        result = append_events(session, session.get(Shipment, shipment.id), [ahead], source="push")
    assert (result.added, result.refused_future) == (0, 1)
    with db.read() as session:
        assert session.exec(select(TrackingEvent).where(TrackingEvent.shipment_id == shipment.id)).all() == []
    assert "dated more than" in caplog.text
    add_event(db, shipment.id, occurred_at=datetime.now(UTC) - timedelta(minutes=5), raw_text="运输中",
              tag=TrackingTag.IN_TRANSIT)
    assert _state(db, shipment.id) == TrackingTag.IN_TRANSIT
