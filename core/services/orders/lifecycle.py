"""The order lifecycle: creation, payment, shipment, and the status rules.

Every change to an order goes through here so that the rules (which status may
follow which, what is recorded in the history) hold for the portal, the admin,
imports and carriers alike.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from core.config import get_settings
from core.db import Database
from core.errors import DomainError, InvalidInput, NotFound, TransitionNotAllowed
from core.i18n import N_, translations_for
from core.labels import CARRIER
from core.models import (
    Channel,
    Customer,
    Order,
    OrderHistory,
    OrderLine,
    OrderStatus,
    OrderStatusCount,
    ServiceTerms,
    Shipment,
    TrackingTag,
    utcnow,
)
from core.models.order import NOT_YET_SHIPPED  # the order's rules; imported from here by older callers
from core.models.types import MAX_MINOR_UNITS
from core.services.actors import Actor, ActorKind
from core.services.identity.customers import get_or_create_customer
from core.services.messaging import outbox as notifications
from core.services.orders.addresses import ShippingAddress, address_of, apply_address
from core.services.stock import reservations as stock
from core.services.tracking.links import link_url
from core.text import check_text

ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset(
        {OrderStatus.PICKING, OrderStatus.SHIPPED, OrderStatus.CANCELLED, OrderStatus.REFUNDED}
    ),
    OrderStatus.PICKING: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED, OrderStatus.REFUNDED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED, OrderStatus.REFUNDED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}

MAX_QUANTITY = 100_000
EARLIEST_DATE = date(2000, 1, 1)
PRESALE_AHEAD_DAYS = 366

_CHANNELS = frozenset(Channel)

# Crockford's base32 without I, L, O, U: readable aloud over the phone.
_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_order_refs(count: int) -> list[str]:
    """Many refs from one read of the system's randomness (each read is a system call)."""
    pool = secrets.token_bytes(10 * count)
    return ["OD" + "".join(_REF_ALPHABET[byte & 31] for byte in pool[i:i + 10]) for i in range(0, 10 * count, 10)]


def new_order_ref(rand: secrets.SystemRandom | None = None) -> str:
    if rand is None:
        # 32 symbols: each random byte's low five bits pick one uniformly.
        return "OD" + "".join(_REF_ALPHABET[byte & 31] for byte in secrets.token_bytes(10))
    return "OD" + "".join(rand.choice(_REF_ALPHABET) for _ in range(10))


@dataclass
class NewLine:
    sku: str
    name: str
    quantity: int
    unit_price_minor: int


@dataclass
class NewOrder:
    channel: str
    channel_order_no: str
    customer_phone: str
    customer_name: str
    address: ShippingAddress
    lines: list[NewLine]
    currency: str = "CNY"
    shipping_minor: int = 0
    discount_minor: int = 0
    created_at: datetime | None = None
    warehouse_id: int | None = None
    presale_ships_on: object = None
    ref: str | None = None
    extra_history: list[dict] = field(default_factory=list)
    customer_email: str | None = None  # checked and normalized by ingest.check_incoming


def check_new_order(new: NewOrder) -> None:
    if new.channel not in _CHANNELS:
        raise InvalidInput("channel", N_("Unknown sales channel %(channel)s."), channel=new.channel)
    if not new.channel_order_no.strip():
        raise InvalidInput("channel_order_no", N_("The channel's order number is required."))
    check_text("channel_order_no", new.channel_order_no)
    check_text("customer_name", new.customer_name)
    for line in new.lines:
        check_text("lines", line.sku)
        check_text("lines", line.name)
    if isinstance(new.presale_ships_on, date) and not (
            EARLIEST_DATE <= new.presale_ships_on <= utcnow().date() + timedelta(days=PRESALE_AHEAD_DAYS)):
        raise InvalidInput("presale_ships_on", N_("A pre-sale ship date must be within %(days)s days from today."),
                           days=PRESALE_AHEAD_DAYS)
    if not new.lines:
        raise InvalidInput("lines", N_("An order needs at least one line."))
    for line in new.lines:
        if line.quantity <= 0:
            raise InvalidInput("lines", N_("Quantity must be at least 1 (SKU %(sku)s)."), sku=line.sku)
        if line.quantity > MAX_QUANTITY:
            raise InvalidInput("lines", N_("A quantity of more than %(n)s is not accepted (SKU %(sku)s)."),
                               n=MAX_QUANTITY, sku=line.sku)
        if line.unit_price_minor < 0:
            raise InvalidInput("lines", N_("A unit price cannot be negative (SKU %(sku)s)."), sku=line.sku)
    if new.shipping_minor < 0 or new.discount_minor < 0:
        raise InvalidInput("amount", N_("Shipping and discount cannot be negative."))
    items_total = sum(line.quantity * line.unit_price_minor for line in new.lines)
    amounts = [items_total, new.shipping_minor, new.discount_minor]
    if any(amount > MAX_MINOR_UNITS for amount in amounts):
        raise InvalidInput("amount", N_("An amount over %(max)s is not accepted."), max=f"{MAX_MINOR_UNITS // 100:,}")
    if items_total + new.shipping_minor - new.discount_minor < 0:
        raise InvalidInput("amount", N_("The discount is larger than the order."))


def terms_in_force(session: Session, at: datetime) -> ServiceTerms | None:
    return session.exec(
        select(ServiceTerms)
        .where(ServiceTerms.effective_from <= at)
        .order_by(ServiceTerms.effective_from.desc())
        .limit(1)
    ).first()


def add_order(session: Session, new: NewOrder, *, actor: str = "channel", via: str = "import",
              detail: dict | None = None) -> Order:
    """Create an order inside the caller's transaction."""
    check_new_order(new)
    created_at = new.created_at or utcnow()
    customer = get_or_create_customer(session, new.customer_phone, new.customer_name, new.customer_email)
    terms = terms_in_force(session, created_at)
    items_total = sum(line.quantity * line.unit_price_minor for line in new.lines)
    total = items_total + new.shipping_minor - new.discount_minor
    if total < 0:
        raise InvalidInput("amount", N_("The discount is larger than the order."))
    order = Order(
        ref=new.ref or new_order_ref(),
        channel=new.channel,
        channel_order_no=new.channel_order_no.strip(),
        customer_id=customer.id,
        status=OrderStatus.PENDING_PAYMENT,
        currency=new.currency,
        items_total_minor=items_total,
        shipping_minor=new.shipping_minor,
        discount_minor=new.discount_minor,
        total_minor=total,
        created_at=created_at,
        updated_at=created_at,
        warehouse_id=new.warehouse_id,
        terms_id=terms.id if terms else None,
        presale_ships_on=new.presale_ships_on,
        ship_recipient="",
        ship_phone="",
        ship_province="",
        ship_city="",
        ship_street="",
    )
    apply_address(order, new.address)
    order.lines = [
        OrderLine(sku=line.sku, name=line.name, quantity=line.quantity, unit_price_minor=line.unit_price_minor)
        for line in new.lines
    ]
    session.add(order)
    session.flush()
    record(session, order, "created", actor=actor, via=via, at=created_at, detail=detail)
    return order


def create_order(db: Database, new: NewOrder) -> Order:
    try:
        with db.write() as session:
            return add_order(session, new)
    except IntegrityError as exc:
        raise DomainError(
            N_("Order %(no)s from %(channel)s already exists."), no=new.channel_order_no, channel=new.channel
        ) from exc


def record(
    session: Session,
    order: Order,
    kind: str,
    *,
    actor: str,
    via: str,
    detail: dict | None = None,
    at: datetime | None = None,
) -> OrderHistory:
    entry = OrderHistory(
        order_id=order.id,
        kind=kind,
        actor=actor,
        via=via,
        at=at or utcnow(),
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
    )
    session.add(entry)
    return entry


def transition(
    session: Session,
    order: Order,
    new_status: OrderStatus,
    *,
    actor: str,
    via: str,
    at: datetime | None = None,
) -> None:
    current = OrderStatus(order.status)
    if new_status not in ALLOWED_TRANSITIONS[current]:
        raise TransitionNotAllowed(
            N_("An order that is %(current)s cannot become %(new)s."), current=current.value, new=new_status.value
        )
    when = at or utcnow()
    order.status = new_status
    order.updated_at = when
    if new_status == OrderStatus.CANCELLED:
        order.cancelled_at = when
    if new_status == OrderStatus.DELIVERED:
        order.delivered_at = when
    session.add(order)
    record(
        session, order, "status", actor=actor, via=via, at=when,
        detail={"from": current.value, "to": new_status.value},
    )
    if new_status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED) and current in NOT_YET_SHIPPED:
        stock.release(session, order)


def lock_for(session: Session, actor: Actor, ref: str) -> Order:
    """lock_order, limited to what the actor may touch: another customer's order, or another
    warehouse's for warehouse staff, is NotFound, checked under the same row lock as the change."""
    order = lock_order(session, ref)
    require_scope(session, actor, order)
    return order


def require_scope(session: Session, actor: Actor, order: Order) -> None:
    """NotFound unless the actor may see this order (the rule is Actor.may_see)."""
    owner_phone = session.exec(select(Customer.phone).where(Customer.id == order.customer_id)).first() \
        if actor.kind == ActorKind.CUSTOMER else None
    if not actor.may_see(order, owner_phone):
        raise NotFound(N_("No such order."))


def lock_order(session: Session, ref: str) -> Order:
    """Load an order for change. On PostgreSQL the row is locked until commit;
    on SQLite the write transaction (BEGIN IMMEDIATE) already excludes writers."""
    order = session.exec(select(Order).where(Order.ref == ref).with_for_update()).first()
    if order is None:
        raise NotFound(N_("No such order."))
    return order


def promise_times(order: Order, terms: ServiceTerms | None, paid_at: datetime) -> tuple[datetime, datetime]:
    ship_hours = terms.ship_within_hours if terms else 48
    delivery_days = terms.delivery_within_days if terms else 5
    ship_by = paid_at + timedelta(hours=ship_hours)
    if order.presale_ships_on is not None:
        presale = datetime.combine(order.presale_ships_on, datetime.min.time(), tzinfo=paid_at.tzinfo)
        ship_by = max(ship_by, presale + timedelta(hours=ship_hours))
    return ship_by, ship_by + timedelta(days=delivery_days)


def apply_payment(
    session: Session, order: Order, *, paid_minor: int, at: datetime, actor: str = "channel", via: str = "import",
    reserve_stock: bool = True, notify: bool = True,
) -> None:
    """`reserve_stock`/`notify` are off only for an order that reaches us already past
    payment (an import of a shipped order): its units have left, its customer was told."""
    transition(session, order, OrderStatus.PAID, actor=actor, via=via, at=at)
    order.paid_at = at
    order.paid_minor = paid_minor
    terms = session.get(ServiceTerms, order.terms_id) if order.terms_id else None
    order.promised_ship_by, order.promised_delivery_by = promise_times(order, terms, at)
    session.flush()
    if reserve_stock:
        stock.reserve(session, order)
    if notify:
        notifications.enqueue(session, order, "order_confirmed", {
            "ship_by": _local(order.promised_ship_by), "link": _link(order)}, dedupe_key=f"confirmed:{order.id}")


def mark_paid(db: Database, ref: str, *, paid_minor: int, at: datetime | None = None) -> Order:
    with db.write() as session:
        order = lock_order(session, ref)
        apply_payment(session, order, paid_minor=paid_minor, at=at or utcnow())
        return order


def add_shipment(
    session: Session,
    order: Order,
    *,
    carrier: str,
    tracking_no: str,
    at: datetime,
    actor: str,
    via: str,
) -> Shipment:
    if not order.can_mark_shipped:
        raise TransitionNotAllowed(N_("Only a paid order that has not shipped can be marked shipped."))
    shipment = Shipment(
        order_id=order.id, carrier=carrier, tracking_no=tracking_no.strip(), shipped_at=at,
        tag=TrackingTag.INFO_RECEIVED, ship_to=address_of(order).label_line,
    )
    session.add(shipment)
    transition(session, order, OrderStatus.SHIPPED, actor=actor, via=via, at=at)
    stock.ship(session, order)
    notifications.enqueue(session, order, "shipped", {
        "carrier": translations_for("zh_CN").gettext(CARRIER[carrier]) if carrier in CARRIER else carrier, "tracking_no": shipment.tracking_no,
        "expected": _local(order.promised_delivery_by) if order.promised_delivery_by else "—",
        "link": _link(order)}, dedupe_key=f"shipped:{order.id}:{shipment.tracking_no}")
    return shipment


def _local(value: datetime) -> str:
    return value.astimezone(get_settings().tz).strftime("%m-%d %H:%M")


def _link(order: Order) -> str:
    return link_url(order, get_settings())


def full_order_options() -> tuple:
    """Everything an order's pages and its evidence pack show, in a fixed number of queries."""
    return (
        selectinload(Order.lines),
        selectinload(Order.shipments).selectinload(Shipment.events),
        selectinload(Order.history),
        selectinload(Order.terms),
        selectinload(Order.warehouse),
        selectinload(Order.customer),
    )


def load_full_order(session: Session, statement) -> Order:  # noqa: ANN001
    order = session.exec(statement.options(*full_order_options())).first()
    if order is None:
        raise NotFound(N_("No such order."))
    return order


def get_order(db: Database, ref: str) -> Order:
    with db.read() as session:
        return load_full_order(session, select(Order).where(Order.ref == ref))


def count_by_status(db: Database) -> dict[str, int]:
    """Orders per status, from the counters the database's triggers keep (see OrderStatusCount)."""
    from sqlalchemy import func

    with db.read() as session:
        rows = session.exec(
            select(OrderStatusCount.status, func.sum(OrderStatusCount.n)).group_by(OrderStatusCount.status)
        ).all()
    return {status: int(count) for status, count in rows if count}
