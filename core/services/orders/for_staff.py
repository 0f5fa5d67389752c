"""The staff side of orders: search, the order page, export, notes, cancelling.

Reading an order's page, searching by text and exporting are audited: each is one transaction that
reads what the page shows and appends its audit entry, so no personal data is shown without a trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import literal
from sqlalchemy.orm import selectinload
from sqlmodel import Session, func, select

from core.config import get_settings
from core.db import Database
from core.errors import DomainError, InvalidInput, TransitionNotAllowed
from core.i18n import N_
from core.models import Carrier, Channel, Customer, Order, OrderNote, OrderStatus, Shipment, Warehouse, utcnow
from core.paging import clamp_page
from core.phones import normalize_phone
from core.services.actors import Actor
from core.services.audit import trail as audit
from core.services.identity.permissions import Permission
from core.services.orders import lifecycle as order_service

PAGE_SIZE = 25
# Counting every match of a broad search walks the whole table; past this many the
# page says "1000+" and the count stays as cheap at a million orders as at ten thousand.
COUNT_CAP = 1000
# An export of more orders than this waits for the staff member to say why they need it.
EXPORT_CONFIRM_OVER = 100


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


def search_filters(db: Database) -> dict[str, list]:
    """What the search form offers to filter by."""
    with db.read() as session:
        warehouses = list(session.exec(select(Warehouse).order_by(Warehouse.code)).all())
    return {"channels": list(Channel), "statuses": list(OrderStatus), "carriers": list(Carrier),
            "warehouses": warehouses}


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


def search(db: Database, actor: Actor, query: OrderQuery, *, limit: int | None = PAGE_SIZE) -> OrderResults:
    """A search by text is audited with what was looked for and how many orders it found (a phone
    number typed into the box is personal data); browsing by the filters alone is not."""
    actor.require(Permission.VIEW_ORDER)
    if not query.text:
        with db.read() as session:
            return _search(session, actor, query, limit)
    with db.write() as session:
        results = _search(session, actor, query, limit)
        audit.append(session, actor, "search", detail={"q": query.text, "hits": results.total})
    return results


def _search(session: Session, actor: Actor, query: OrderQuery, limit: int | None) -> OrderResults:
    page = clamp_page(query.page)
    statement = actor.limit_to_scope(select(Order))
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


class ExportNeedsReason(DomainError):
    """A large export (or one whose reason is too short) waits for the staff member to say why."""

    def __init__(self, total: int) -> None:
        super().__init__(N_("Say why you need this export."))
        self.total = total


@dataclass(frozen=True)
class OrderExport:
    results: OrderResults
    full_pii: bool  # the rows carry full names, phones and addresses (the role may see them)


def export(db: Database, actor: Actor, query: OrderQuery, *, filters: dict[str, str],
           reason: str | None = None) -> OrderExport:
    """Every order the query matches, for a spreadsheet, audited with the filters, the row count and
    whether full personal data went out. `reason` is None until the staff member was asked for one:
    more than EXPORT_CONFIRM_OVER orders need it, and once asked, it must say something."""
    actor.require(Permission.EXPORT)
    full = actor.can(Permission.VIEW_FULL_PII)
    with db.write() as session:
        results = _search(session, actor, query, None)
        detail: dict = {"rows": results.total, "filters": filters, "full_pii": full}
        if reason is None and results.total > EXPORT_CONFIRM_OVER:
            raise ExportNeedsReason(results.total)
        if reason is not None:
            reason = reason.strip()
            if len(reason) < 2:
                raise ExportNeedsReason(results.total)
            detail["reason"] = reason[:500]
        audit.append(session, actor, "export", detail=detail)
    return OrderExport(results=results, full_pii=full)


@dataclass(frozen=True)
class StaffOrderPage:
    order: Order  # with everything the page shows loaded
    notes: list[OrderNote]
    revealed: bool = False  # full personal data shown, not masked


def _page(session: Session, actor: Actor, ref: str) -> tuple[Order, list[OrderNote]]:
    order = order_service.load_full_order(session, select(Order).where(Order.ref == ref))
    order_service.require_scope(session, actor, order)
    notes = list(session.exec(select(OrderNote).where(OrderNote.order_id == order.id)
                              .order_by(OrderNote.created_at.desc())).all())
    return order, notes


def view_order(db: Database, actor: Actor, ref: str, *, reveal: bool = False) -> StaffOrderPage:
    """Staff open an order's page: audited as "view_order", or as "reveal" when they asked for the full
    personal data and their role may see it (otherwise the page stays masked and is a plain view)."""
    actor.require(Permission.VIEW_ORDER)
    revealed = reveal and actor.can(Permission.VIEW_FULL_PII)
    with db.write() as session:
        order, notes = _page(session, actor, ref)
        audit.append(session, actor, "reveal" if revealed else "view_order", order_ref=ref)
    return StaffOrderPage(order=order, notes=notes, revealed=revealed)


def order_page(db: Database, actor: Actor, ref: str) -> StaffOrderPage:
    """The order's page shown again with the error of a refused action: not a new view, not audited."""
    with db.read() as session:
        order, notes = _page(session, actor, ref)
    return StaffOrderPage(order=order, notes=notes)


def add_note(db: Database, actor: Actor, ref: str, body: str) -> OrderNote:
    """An internal note on the order, in its history and the audit trail."""
    actor.require(Permission.ADD_NOTE)
    with db.write() as session:
        # Scope first: beyond the actor's scope the order does not exist, whatever the note says.
        order = order_service.lock_for(session, actor, ref)
        body = body.strip()
        if not body:
            raise InvalidInput("body", N_("Write the note first."))
        if len(body) > 2000:
            raise InvalidInput("body", N_("This is too long."))
        note = OrderNote(order_id=order.id, staff_id=actor.staff_id, body=body)
        session.add(note)
        order_service.record(session, order, "note", actor=actor.name, via=actor.via)
        audit.append(session, actor, "add_note", order_ref=ref)
    return note


def cancel(db: Database, actor: Actor, ref: str, reason: str) -> Order:
    """Cancel an order that has not shipped (its reserved stock is released), with the reason in its
    history and the audit trail."""
    actor.require(Permission.CANCEL_ORDER)
    with db.write() as session:
        order = order_service.lock_for(session, actor, ref)
        given = reason.strip()
        if not given:
            raise InvalidInput("reason", N_("Say why the order is cancelled."))
        if not order.can_cancel:
            raise TransitionNotAllowed(N_("Only an order that has not shipped can be cancelled."))
        order_service.transition(session, order, OrderStatus.CANCELLED, actor=actor.name, via=actor.via, at=utcnow())
        order_service.record(session, order, "cancel_reason", actor=actor.name, via=actor.via,
                             detail={"reason": given})
        audit.append(session, actor, "cancel_order", order_ref=ref, detail={"reason": reason[:200]})
    return order
