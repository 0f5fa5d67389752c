"""What a channel, ERP or warehouse system pushes about an order it knows by its own number,
and the stock levels a warehouse counts. (Orders themselves: push_orders.py.)

Each use case is one write transaction with its Idempotency-Key's stored answer
(`idempotency.run_once`), and changes the order only through the lifecycle in
core/services/orders/lifecycle.py, under the same row lock as the shopper's address
change: a warehouse's "shipped" and an address change for the same order cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from core.db import Database
from core.errors import InvalidInput, NotFound, TransitionNotAllowed
from core.i18n import N_
from core.models import Order, OrderStatus, Shipment, utcnow
from core.services.actors import Actor
from core.services.channels import idempotency
from core.services.channels.api_keys import MAX_CLOCK_SKEW
from core.services.orders import lifecycle as order_service
from core.services.stock import levels as stock_levels

REPORTABLE_STATUSES = (OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.DELIVERED, OrderStatus.REFUNDED)


def lock_channel_order(session: Session, actor: Actor, channel: str, channel_order_no: str) -> Order:
    ref = session.exec(
        select(Order.ref).where(Order.channel == channel, Order.channel_order_no == channel_order_no.strip())
    ).first()
    if ref is None:
        raise NotFound(N_("No such order."))
    return order_service.lock_for(session, actor, ref)


@dataclass(frozen=True)
class ShipmentOutcome:
    outcome: str  # "new" | "unchanged"
    order: Order
    shipment: Shipment


def check_shipped_at(shipped_at: datetime | None, *, now: datetime | None = None) -> None:
    """A hand-off cannot lie ahead of our clock by more than a signed request's timestamp may."""
    if shipped_at is not None and shipped_at > (now or utcnow()) + MAX_CLOCK_SKEW:
        raise InvalidInput("shipped_at", N_("shipped_at is in the future"))


def ship_order(db: Database, actor: Actor, channel: str, channel_order_no: str, *, carrier: str, tracking_no: str,
               shipped_at: datetime | None, once: idempotency.Once,
               answer: Callable[[ShipmentOutcome], idempotency.Reply],
               refusal: idempotency.ErrorReply) -> idempotency.Reply:
    """The warehouse handed the parcel to the carrier. A shipped_at in the future is refused
    before anything runs (raised, not stored under the Idempotency-Key, like a malformed body)."""
    check_shipped_at(shipped_at)
    return idempotency.run_once(db, once, lambda session: answer(record_shipment(
        session, actor, channel, channel_order_no, carrier=carrier, tracking_no=tracking_no, shipped_at=shipped_at)),
        refusal)


def record_shipment(session: Session, actor: Actor, channel: str, channel_order_no: str, *, carrier: str,
                    tracking_no: str, shipped_at: datetime | None) -> ShipmentOutcome:
    """The parcel left the warehouse. Repeating the same hand-off (same carrier and
    tracking number) is answered as unchanged; any other change to a shipped order is refused."""
    order = lock_channel_order(session, actor, channel, channel_order_no)
    tracking_no = tracking_no.strip()
    if OrderStatus(order.status) not in (OrderStatus.PAID, OrderStatus.PICKING):
        known = session.exec(select(Shipment).where(Shipment.order_id == order.id, Shipment.carrier == carrier,
                                                    Shipment.tracking_no == tracking_no)).first()
        if known is not None:
            return ShipmentOutcome("unchanged", order, known)
    shipment = order_service.add_shipment(session, order, carrier=carrier, tracking_no=tracking_no,
                                          at=shipped_at or utcnow(), actor=actor.name, via=actor.via)
    session.flush()
    return ShipmentOutcome("new", order, shipment)


@dataclass(frozen=True)
class StatusOutcome:
    outcome: str  # "updated" | "unchanged"
    order: Order


def report_order_status(db: Database, actor: Actor, channel: str, channel_order_no: str, *, status: OrderStatus,
                        at: datetime, paid_minor: int | None, once: idempotency.Once,
                        answer: Callable[[StatusOutcome], idempotency.Reply],
                        refusal: idempotency.ErrorReply) -> idempotency.Reply:
    return idempotency.run_once(db, once, lambda session: answer(report_status(
        session, actor, channel, channel_order_no, status=status, at=at, paid_minor=paid_minor)), refusal)


def report_status(session: Session, actor: Actor, channel: str, channel_order_no: str, *, status: OrderStatus,
                  at: datetime, paid_minor: int | None) -> StatusOutcome:
    """paid reserves stock, cancelled (before shipping) releases it, in this transaction.
    As with order pushes and imports, a report older than the last one accepted changes nothing."""
    if status not in REPORTABLE_STATUSES:
        raise TransitionNotAllowed(N_("This status cannot be reported; shipments have their own endpoint."))
    from core.services.channels.ingest import check_time, lifecycle_path

    check_time("at", at)
    order = lock_channel_order(session, actor, channel, channel_order_no)
    if order.status == status or (order.source_status_at is not None and at <= order.source_status_at):
        return StatusOutcome("unchanged", order)
    if lifecycle_path(status, OrderStatus(order.status)):
        # A late report of a step the order has already passed (paid, for an order now shipped).
        return StatusOutcome("unchanged", order)
    if status == OrderStatus.PAID:
        order_service.apply_payment(session, order, paid_minor=order.total_minor if paid_minor is None else paid_minor,
                                    at=at, actor=actor.name, via=actor.via)
    else:
        order_service.transition(session, order, status, actor=actor.name, via=actor.via, at=at)
    order.source_status_at = at
    session.add(order)
    session.flush()
    return StatusOutcome("updated", order)


def take_stock_counts(db: Database, actor: Actor, counts: list[stock_levels.Count], *, once: idempotency.Once,
                      answer: Callable[[list[stock_levels.LevelResult]], idempotency.Reply],
                      refusal: idempotency.ErrorReply) -> idempotency.Reply:
    """Absolute levels per SKU and warehouse, all or nothing (stock_levels.CountErrors names
    every count that cannot be taken). A count below what paid orders hold takes units back
    from the most recently paid; a higher count fills paid orders that were short, oldest first."""
    return idempotency.run_once(db, once, lambda session: answer(stock_levels.set_levels(session, counts)), refusal)
