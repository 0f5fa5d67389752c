"""Orders coming in from a channel (a file import or the push API), exactly once.

An order is identified by (channel, channel_order_no). The first time we see it,
it is created and walked through the lifecycle to the status the channel
reports; afterwards a report only changes it when its status is newer than the
last one we accepted (`Order.source_status_at`) *and* the lifecycle allows the
move. Anything else (a repeat, an older status, a step backwards such as
shipped -> paid) leaves the order alone and counts as "unchanged".

Everything happens inside the caller's write transaction, so the order, its
history, its stock reservation and the customer's confirmation text commit
together or not at all.
"""

from __future__ import annotations

from collections import deque
from copy import copy
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.email.address import normalize_email
from core.errors import InvalidInput
from core.i18n import N_
from core.models import Order, OrderStatus, utcnow
from core.phones import normalize_phone
from core.services.orders import lifecycle as order_service
from core.services.orders.addresses import validate_address
from core.services.orders.lifecycle import ALLOWED_TRANSITIONS, NewOrder
from core.services.stock import reservations as stock

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"

# An order that first reaches us in one of these has been paid and has moved on:
# its units left before we knew (no reservation) and its customer was told (no text).
_PAST_PAYMENT = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.REFUNDED})


@dataclass
class IncomingOrder:
    order: NewOrder
    status: str
    status_at: datetime
    paid_at: datetime | None = None
    paid_minor: int | None = None
    raw: dict | None = None


@dataclass
class UpsertResult:
    outcome: str
    ref: str


def parse_status(value: str) -> OrderStatus:
    try:
        return OrderStatus(value)
    except ValueError:
        raise InvalidInput("status", N_("Unknown order status %(status)s."), status=value) from None


# A channel's clock may run a little ahead of ours; a time further ahead is a wrong clock or a
# misread date, and stored as a status time it would make every later real report look older.
CLOCK_TOLERANCE = timedelta(minutes=10)


def check_time(field_name: str, value: datetime | None, *, now: datetime | None = None) -> None:
    if value is None:
        return
    if value.tzinfo is None:
        raise InvalidInput(field_name, N_("A time needs its time zone."))
    if value > (now or utcnow()) + CLOCK_TOLERANCE:
        raise InvalidInput(field_name, N_("This time is in the future."))


def check_incoming(incoming: IncomingOrder) -> tuple[IncomingOrder, OrderStatus]:
    """Validate everything that can be validated without the database; returns a cleaned copy.

    After this, writing the order cannot fail on its data (only on the database)."""
    target = parse_status(incoming.status)
    if incoming.status_at is None:
        raise InvalidInput("status_at", N_("A time is required here."))
    check_time("status_at", incoming.status_at)
    check_time("paid_at", incoming.paid_at)
    check_time("created_at", incoming.order.created_at)
    if incoming.paid_minor is not None and incoming.paid_minor < 0:
        raise InvalidInput("paid_minor", N_("A paid amount cannot be negative."))
    order_service.check_new_order(incoming.order)
    given = incoming.order.address
    address = validate_address({"recipient": given.recipient, "phone": given.phone, "province": given.province,
                                "city": given.city, "district": given.district, "street": given.street,
                                "postal_code": given.postal_code}, strict=False)
    order = copy(incoming.order)
    order.channel_order_no = order.channel_order_no.strip()
    order.address = address
    order.customer_phone = address.phone if order.customer_phone == given.phone else normalize_phone(
        order.customer_phone)
    if order.customer_email is not None:
        order.customer_email = normalize_email(order.customer_email, field="customer_email") \
            if order.customer_email.strip() else None
    if len(order.channel_order_no) > 64:
        raise InvalidInput("channel_order_no", N_("This is too long."))
    for line in order.lines:
        if len(line.sku) > 64 or len(line.name) > 200:
            raise InvalidInput("lines", N_("This is too long."))
    cleaned = copy(incoming)
    cleaned.order = order
    return cleaned, target


def lifecycle_path(current: OrderStatus, target: OrderStatus) -> list[OrderStatus]:
    """The shortest chain of allowed moves from current to target (empty when there is none)."""
    if current == target:
        return []
    previous: dict[OrderStatus, OrderStatus] = {}
    queue = deque([current])
    while queue:
        status = queue.popleft()
        for following in sorted(ALLOWED_TRANSITIONS[status]):
            if following in previous or following == current:
                continue
            previous[following] = status
            if following == target:
                path = [following]
                while previous[path[-1]] != current:
                    path.append(previous[path[-1]])
                return path[::-1]
            queue.append(following)
    return []


def _walk(session: Session, order: Order, incoming: IncomingOrder, path: list[OrderStatus], *,
          quiet_payment: bool, via: str, actor: str) -> None:
    had_reservation = OrderStatus(order.status) in (OrderStatus.PAID, OrderStatus.PICKING)
    at = incoming.status_at
    for step in path:
        if step == OrderStatus.PAID:
            paid_at = incoming.paid_at or at
            paid_minor = incoming.paid_minor if incoming.paid_minor is not None else order.total_minor
            order_service.apply_payment(
                session, order, paid_minor=paid_minor, at=paid_at, actor=actor, via=via,
                reserve_stock=not quiet_payment, notify=not quiet_payment,
            )
            had_reservation = not quiet_payment
        else:
            order_service.transition(session, order, step, actor=actor, via=via, at=at)
            if step == OrderStatus.SHIPPED and had_reservation:
                stock.ship(session, order)
                had_reservation = False


def _create(session: Session, incoming: IncomingOrder, target: OrderStatus, *, via: str, actor: str) -> Order:
    detail = {"raw": incoming.raw} if incoming.raw else None
    order = order_service.add_order(session, incoming.order, actor=actor, via=via, detail=detail)
    order.source_status_at = incoming.status_at
    path = lifecycle_path(OrderStatus.PENDING_PAYMENT, target)
    _walk(session, order, incoming, path, quiet_payment=target in _PAST_PAYMENT, via=via, actor=actor)
    session.add(order)
    return order


def _advance(session: Session, order: Order, incoming: IncomingOrder, target: OrderStatus, *,
             via: str, actor: str) -> str:
    current = OrderStatus(order.status)
    stored_at = order.source_status_at
    if stored_at is not None and incoming.status_at < stored_at:
        return UNCHANGED
    if current == target:
        if stored_at is None or incoming.status_at > stored_at:
            order.source_status_at = incoming.status_at
            session.add(order)
        return UNCHANGED
    # At the same instant only a step forward is news (exports without a time per status
    # stamp "paid" and "shipped" with the same payment time); lifecycle_path only goes forward.
    path = lifecycle_path(current, target)
    if not path:
        return UNCHANGED  # a step backwards: ours is further along, keep it
    _walk(session, order, incoming, path, quiet_payment=False, via=via, actor=actor)
    order.source_status_at = incoming.status_at
    session.add(order)
    return UPDATED


def _find(session: Session, channel: str, channel_order_no: str) -> Order | None:
    return session.exec(
        select(Order).where(Order.channel == channel, Order.channel_order_no == channel_order_no).with_for_update()
    ).first()


def upsert_order(session: Session, incoming: IncomingOrder, *, via: str, actor: str) -> UpsertResult:
    """Create or advance one order inside the caller's write transaction.

    Raises InvalidInput (field, message) on bad data; nothing is written then."""
    incoming, target = check_incoming(incoming)
    return upsert_checked(session, incoming, target, via=via, actor=actor)


def upsert_checked(session: Session, incoming: IncomingOrder, target: OrderStatus, *, via: str,
                   actor: str) -> UpsertResult:
    """upsert_order for an order that went through check_incoming."""
    new = incoming.order
    existing = _find(session, new.channel, new.channel_order_no)
    if existing is not None:
        return UpsertResult(_advance(session, existing, incoming, target, via=via, actor=actor), existing.ref)
    if session.get_bind().dialect.name == "sqlite":
        # The write transaction (BEGIN IMMEDIATE) already shuts out every other writer.
        order = _create(session, incoming, target, via=via, actor=actor)
        session.flush()
        return UpsertResult(NEW, order.ref)
    try:
        with session.begin_nested():
            order = _create(session, incoming, target, via=via, actor=actor)
            session.flush()
        return UpsertResult(NEW, order.ref)
    except IntegrityError:
        # Another transaction created it between our look-up and our insert: it is an update now.
        existing = _find(session, new.channel, new.channel_order_no)
        if existing is None:
            raise
        return UpsertResult(_advance(session, existing, incoming, target, via=via, actor=actor), existing.ref)
