"""What a verified shopper may see: their own orders, and nothing else.

Ownership is checked here, in the query, for every read: another customer's
order is indistinguishable from one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, or_
from sqlalchemy.orm import joinedload, load_only, selectinload
from sqlmodel import Session, select

from core.db import Database
from core.errors import NotFound
from core.i18n import N_
from core.models import Customer, Order, OrderLine, OrderStatus, Shipment, TrackingEvent, utcnow
from core.paging import clamp_page

PAGE_SIZE = 10


class OrderFilter(StrEnum):
    ALL = "all"
    RECENT = "recent"
    UNPAID = "unpaid"
    TO_SHIP = "to_ship"
    SHIPPED = "shipped"
    COMPLETED = "completed"


FILTER_LABELS = {
    OrderFilter.ALL: N_("All"),
    OrderFilter.RECENT: N_("Last 30 days"),
    OrderFilter.UNPAID: N_("Awaiting payment"),
    OrderFilter.TO_SHIP: N_("To ship"),
    OrderFilter.SHIPPED: N_("Shipped"),
    OrderFilter.COMPLETED: N_("Completed"),
}

_STATUS_FILTERS = {
    OrderFilter.UNPAID: (OrderStatus.PENDING_PAYMENT,),
    OrderFilter.TO_SHIP: (OrderStatus.PAID, OrderStatus.PICKING),
    OrderFilter.SHIPPED: (OrderStatus.SHIPPED,),
    OrderFilter.COMPLETED: (OrderStatus.DELIVERED, OrderStatus.REFUNDED),
}


@dataclass(frozen=True)
class LatestEvent:
    """What an order card says about the parcel: the newest carrier event's line."""

    shipment_id: int
    tag: str
    raw_text: str
    occurred_at: datetime


@dataclass
class OrderCard:
    # Loaded with only the columns a card shows (see list_orders).
    order: Order
    latest_event: LatestEvent | None


@dataclass
class OrderPage:
    cards: list[OrderCard]
    page: int
    has_next: bool
    filter: OrderFilter
    query: str

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def latest_events(session: Session, shipment_ids: list[int]) -> dict[int, LatestEvent]:
    """The newest carrier event of each shipment, in one query."""
    if not shipment_ids:
        return {}
    ranked = (
        select(
            TrackingEvent.shipment_id, TrackingEvent.tag, TrackingEvent.raw_text, TrackingEvent.occurred_at,
            func.row_number()
            .over(partition_by=TrackingEvent.shipment_id,
                  order_by=(TrackingEvent.occurred_at.desc(), TrackingEvent.id.desc()))
            .label("rank"),
        )
        .where(TrackingEvent.shipment_id.in_(shipment_ids))
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.shipment_id, ranked.c.tag, ranked.c.raw_text, ranked.c.occurred_at).where(ranked.c.rank == 1)
    ).all()
    return {row.shipment_id: LatestEvent(*row) for row in rows}


# What a card shows; the other columns (seven of them timestamps) are neither read nor converted.
_CARD_COLUMNS = (Order.id, Order.ref, Order.channel, Order.status, Order.created_at, Order.total_minor,
                 Order.currency)


def list_orders(
    db: Database, phone: str, *, order_filter: OrderFilter = OrderFilter.ALL, query: str = "", page: int = 1,
    now: datetime | None = None,
) -> OrderPage:
    page = clamp_page(page)
    query = query.strip()[:64]
    with db.read() as session:
        # The owner's phone is part of the query: no separate customer lookup.
        statement = select(Order).join(Customer, Customer.id == Order.customer_id).where(Customer.phone == phone)
        if order_filter == OrderFilter.RECENT:
            statement = statement.where(Order.created_at >= (now or utcnow()) - timedelta(days=30))
        elif order_filter in _STATUS_FILTERS:
            statement = statement.where(Order.status.in_(_STATUS_FILTERS[order_filter]))
        if query:
            statement = statement.where(or_(Order.ref == query.upper(), Order.channel_order_no == query))
        orders = list(
            session.exec(
                statement.order_by(Order.created_at.desc(), Order.id.desc())
                .offset((page - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE + 1)
                .options(load_only(*_CARD_COLUMNS), selectinload(Order.lines).load_only(OrderLine.name, OrderLine.quantity),
                         joinedload(Order.shipments).load_only(Shipment.id))
            ).unique().all()
        )
        has_next = len(orders) > PAGE_SIZE
        orders = orders[:PAGE_SIZE]
        latest = latest_events(session, [s.id for o in orders for s in o.shipments])
    cards = [
        OrderCard(order=o, latest_event=max(
            (latest[s.id] for s in o.shipments if s.id in latest), key=lambda e: e.occurred_at, default=None))
        for o in orders
    ]
    return OrderPage(cards=cards, page=page, has_next=has_next, filter=order_filter, query=query)


# What the timeline shows of a carrier event (not the raw payload, hashes or arrival data).
TIMELINE_COLUMNS = (TrackingEvent.occurred_at, TrackingEvent.location, TrackingEvent.raw_text,
                    TrackingEvent.raw_status_code, TrackingEvent.tag)


def get_customer_order(db: Database, phone: str, ref: str) -> Order:
    """The order with everything its page shows, if (and only if) `phone` owns it.
    Four queries whatever the order holds: the order with its terms and shipments
    (one row each, joined), then its lines, carrier events and history."""
    with db.read() as session:
        order = session.exec(
            select(Order)
            .join(Customer, Customer.id == Order.customer_id)
            .where(Order.ref == ref, Customer.phone == phone)
            .options(
                joinedload(Order.terms),
                joinedload(Order.shipments).selectinload(Shipment.events).load_only(*TIMELINE_COLUMNS),
                selectinload(Order.lines),
                selectinload(Order.history),
            )
        ).unique().first()
    if order is None:
        raise NotFound(N_("No such order."))
    return order


def expected_delivery(order: Order) -> datetime | None:
    """When the parcel should arrive, as far as we can tell now."""
    if order.delivered_at:
        return order.delivered_at
    if order.promised_delivery_by:
        return order.promised_delivery_by
    if order.shipments and order.terms:
        return order.shipments[0].shipped_at + timedelta(days=order.terms.delivery_within_days)
    return None


def is_late(order: Order, now: datetime | None = None) -> bool:
    now = now or utcnow()
    if order.promised_delivery_by is None:
        return False
    if order.delivered_at is not None:
        return order.delivered_at > order.promised_delivery_by
    return order.status == OrderStatus.SHIPPED and now > order.promised_delivery_by
