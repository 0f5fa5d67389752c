"""What a channel, ERP or warehouse system pushes about an order it knows by its own number.

Each function runs inside the caller's write transaction and changes the order
only through the lifecycle in core/services/orders/lifecycle.py, under the same row lock
(`lock_order`) as the shopper's address change: a warehouse's "shipped" and an
address change for the same order cannot both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from core.errors import NotFound, TransitionNotAllowed
from core.i18n import N_
from core.models import Order, OrderStatus, Shipment, utcnow
from core.services.orders import lifecycle as order_service

VIA = "api"
REPORTABLE_STATUSES = (OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.DELIVERED, OrderStatus.REFUNDED)


def lock_channel_order(session: Session, channel: str, channel_order_no: str) -> Order:
    ref = session.exec(
        select(Order.ref).where(Order.channel == channel, Order.channel_order_no == channel_order_no.strip())
    ).first()
    if ref is None:
        raise NotFound(N_("No such order."))
    return order_service.lock_order(session, ref)


@dataclass(frozen=True)
class ShipmentOutcome:
    outcome: str  # "new" | "unchanged"
    order: Order
    shipment: Shipment


def record_shipment(session: Session, channel: str, channel_order_no: str, *, carrier: str, tracking_no: str,
                    shipped_at: datetime | None, actor: str) -> ShipmentOutcome:
    """The parcel left the warehouse. Repeating the same hand-off (same carrier and
    tracking number) is answered as unchanged; any other change to a shipped order is refused."""
    order = lock_channel_order(session, channel, channel_order_no)
    tracking_no = tracking_no.strip()
    if OrderStatus(order.status) not in (OrderStatus.PAID, OrderStatus.PICKING):
        known = session.exec(select(Shipment).where(Shipment.order_id == order.id, Shipment.carrier == carrier,
                                                    Shipment.tracking_no == tracking_no)).first()
        if known is not None:
            return ShipmentOutcome("unchanged", order, known)
    shipment = order_service.add_shipment(session, order, carrier=carrier, tracking_no=tracking_no,
                                          at=shipped_at or utcnow(), actor=actor, via=VIA)
    session.flush()
    return ShipmentOutcome("new", order, shipment)


@dataclass(frozen=True)
class StatusOutcome:
    outcome: str  # "updated" | "unchanged"
    order: Order


def report_status(session: Session, channel: str, channel_order_no: str, *, status: OrderStatus, at: datetime,
                  paid_minor: int | None, actor: str) -> StatusOutcome:
    """paid reserves stock, cancelled (before shipping) releases it, in this transaction.
    As with order pushes and imports, a report older than the last one accepted changes nothing."""
    if status not in REPORTABLE_STATUSES:
        raise TransitionNotAllowed(N_("This status cannot be reported; shipments have their own endpoint."))
    from core.services.channels.ingest import check_time, lifecycle_path

    check_time("at", at)
    order = lock_channel_order(session, channel, channel_order_no)
    if order.status == status or (order.source_status_at is not None and at <= order.source_status_at):
        return StatusOutcome("unchanged", order)
    if lifecycle_path(status, OrderStatus(order.status)):
        # A late report of a step the order has already passed (paid, for an order now shipped).
        return StatusOutcome("unchanged", order)
    if status == OrderStatus.PAID:
        order_service.apply_payment(session, order, paid_minor=order.total_minor if paid_minor is None else paid_minor,
                                    at=at, actor=actor, via=VIA)
    else:
        order_service.transition(session, order, status, actor=actor, via=VIA, at=at)
    order.source_status_at = at
    session.add(order)
    session.flush()
    return StatusOutcome("updated", order)
