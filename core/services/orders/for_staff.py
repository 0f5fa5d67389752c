"""Finding and handling orders from the staff side."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import literal
from sqlalchemy.orm import selectinload
from sqlmodel import Session, func, select

from core.config import get_settings
from core.db import Database
from core.errors import InvalidInput, NotFound, TransitionNotAllowed
from core.i18n import N_
from core.models import Customer, Order, OrderNote, OrderStatus, Shipment, Staff, utcnow
from core.paging import clamp_page
from core.phones import normalize_phone
from core.services.identity.permissions import Role
from core.services.orders import lifecycle as order_service

PAGE_SIZE = 25
# Counting every match of a broad search walks the whole table; past this many the
# page says "1000+" and the count stays as cheap at a million orders as at ten thousand.
COUNT_CAP = 1000


@dataclass
class OrderQuery:
    text: str = ""
    channel: str = ""
    status: str = ""
    warehouse_id: int | None = None
    carrier: str = ""
    placed_from: date | None = None
    placed_to: date | None = None
    page: int = 1


@dataclass
class OrderResults:
    orders: list[Order]
    page: int
    has_next: bool
    total: int
    query: OrderQuery = field(default_factory=OrderQuery)
    # True when there are more than `total` matches (total == COUNT_CAP).
    total_capped: bool = False


def _scope(statement, staff: Staff):  # noqa: ANN001, ANN202
    """Warehouse staff see only their warehouse's orders; everyone else sees all."""
    if staff.role == Role.WAREHOUSE:
        return statement.where(Order.warehouse_id == staff.warehouse_id)
    return statement


def _matching_ids(session: Session, text: str) -> set[int]:
    """Orders the search box means: by our reference, the channel's order number,
    the customer's or recipient's phone, a tracking number, or the recipient's name.
    Each is its own indexed lookup; together they are a union."""
    text = text.strip()
    ids: set[int] = set()
    ids.update(session.exec(select(Order.id).where(Order.ref == text.upper())).all())
    ids.update(session.exec(select(Order.id).where(Order.channel_order_no == text)).all())
    ids.update(session.exec(select(Shipment.order_id).where(Shipment.tracking_no == text.upper())).all())
    ids.update(session.exec(select(Shipment.order_id).where(Shipment.tracking_no == text)).all())
    try:
        phone = normalize_phone(text)
    except InvalidInput:
        phone = None
    if phone:
        ids.update(session.exec(select(Order.id).where(Order.ship_phone == phone)).all())
        ids.update(session.exec(select(Order.id).join(Customer).where(Customer.phone == phone)).all())
    if not text.isdigit():
        ids.update(session.exec(select(Order.id).where(Order.ship_recipient == text)).all())
    return ids


def search(db: Database, staff: Staff, query: OrderQuery, *, limit: int | None = PAGE_SIZE) -> OrderResults:
    page = clamp_page(query.page)
    with db.read() as session:
        statement = _scope(select(Order), staff)
        if query.text.strip():
            ids = _matching_ids(session, query.text)
            statement = statement.where(Order.id.in_(ids or {-1}))
        if query.channel:
            statement = statement.where(Order.channel == query.channel)
        if query.status:
            statement = statement.where(Order.status == query.status)
        if query.warehouse_id:
            statement = statement.where(Order.warehouse_id == query.warehouse_id)
        if query.carrier:
            statement = statement.where(Order.id.in_(select(Shipment.order_id).where(Shipment.carrier == query.carrier)))
        zone = get_settings().tz  # dates are the viewer's calendar days
        if query.placed_from:
            statement = statement.where(Order.created_at >= datetime.combine(query.placed_from, time.min, zone))
        if query.placed_to:
            statement = statement.where(Order.created_at < datetime.combine(query.placed_to + timedelta(days=1),
                                                                            time.min, zone))
        ordered = statement.order_by(Order.created_at.desc(), Order.id.desc()).options(
            selectinload(Order.lines), selectinload(Order.shipments))
        if limit is None:
            orders = list(session.exec(ordered).all())
            return OrderResults(orders=orders, page=page, has_next=False, total=len(orders), query=query)
        # Selecting a constant lets PostgreSQL count from the filter's index alone (index-only scan).
        counted = session.exec(
            select(func.count()).select_from(statement.with_only_columns(literal(1), maintain_column_froms=True).limit(COUNT_CAP + 1).subquery())
        ).one()
        orders = list(session.exec(ordered.offset((page - 1) * limit).limit(limit + 1)).all())
    return OrderResults(orders=orders[:limit], page=page, has_next=len(orders) > limit,
                        total=min(counted, COUNT_CAP), query=query, total_capped=counted > COUNT_CAP)


def get_for_staff(db: Database, staff: Staff, ref: str) -> tuple[Order, list[OrderNote]]:
    order = order_service.get_order(db, ref)
    if staff.role == Role.WAREHOUSE and order.warehouse_id != staff.warehouse_id:
        raise NotFound(N_("No such order."))
    with db.read() as session:
        notes = list(session.exec(select(OrderNote).where(OrderNote.order_id == order.id)
                                  .order_by(OrderNote.created_at.desc())).all())
    return order, notes


def add_note(db: Database, staff: Staff, ref: str, body: str) -> OrderNote:
    body = body.strip()
    if not body:
        raise InvalidInput("body", N_("Write the note first."))
    if len(body) > 2000:
        raise InvalidInput("body", N_("This is too long."))
    with db.write() as session:
        order = order_service.lock_order(session, ref)
        note = OrderNote(order_id=order.id, staff_id=staff.id, body=body)
        session.add(note)
        order_service.record(session, order, "note", actor=staff.email, via="admin")
    return note


def cancel(db: Database, staff: Staff, ref: str, reason: str) -> Order:
    reason = reason.strip()
    if not reason:
        raise InvalidInput("reason", N_("Say why the order is cancelled."))
    with db.write() as session:
        order = order_service.lock_order(session, ref)
        if order.status not in order_service.NOT_YET_SHIPPED:
            raise TransitionNotAllowed(N_("Only an order that has not shipped can be cancelled."))
        order_service.transition(session, order, OrderStatus.CANCELLED, actor=staff.email, via="admin", at=utcnow())
        order_service.record(session, order, "cancel_reason", actor=staff.email, via="admin", detail={"reason": reason})
    return order
