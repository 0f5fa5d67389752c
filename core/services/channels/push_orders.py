"""Orders a channel or ERP pushes: one order, or a batch of up to 500, in one use case.

The whole call is one write transaction (with its Idempotency-Key's stored answer), and
each order is its own entry: one that breaks a rule, or that the database refuses, is one
refused entry with its reasons, and never keeps the others out (see
`ingest_batch.store_batch`: the bulk path, or each order in its own savepoint).
"""

from __future__ import annotations

from collections.abc import Callable
from copy import copy
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from core.db import Database
from core.errors import DomainError, InvalidInput
from core.i18n import N_
from core.models import OrderStatus, utcnow
from core.phones import normalize_phone
from core.services.actors import Actor
from core.services.channels import idempotency, ingest, ingest_batch
from core.services.channels.ingest import IncomingOrder
from core.services.orders.addresses import AddressErrors, validate_address
from core.services.stock import levels as stock_levels

REJECTED = "rejected"


@dataclass
class PushedOrder:
    """One order of a call, as its JSON said it: `index` is its place in the call, the address
    is as sent (checked here), the warehouse is named by its code, and a missing status time
    means "now"."""

    index: int
    incoming: IncomingOrder
    warehouse_code: str | None = None


@dataclass
class OrderReceipt:
    """What became of one pushed order: new, updated, unchanged (with its ref), or rejected
    with every reason found."""

    index: int
    outcome: str
    ref: str | None = None
    refusals: list[DomainError] = field(default_factory=list)


def receive_orders(db: Database, actor: Actor, orders: list[PushedOrder], *, once: idempotency.Once,
                   answer: Callable[[list[OrderReceipt]], idempotency.Reply],
                   refusal: idempotency.ErrorReply) -> idempotency.Reply:
    """Create or update the pushed orders, once per Idempotency-Key; `answer` turns the receipts
    (in call order) into the reply stored with them."""
    received_at = utcnow()
    return idempotency.run_once(db, once, lambda session: answer(store_orders(session, actor, orders,
                                                                              received_at=received_at)), refusal)


def store_orders(session: Session, actor: Actor, orders: list[PushedOrder], *,
                 received_at: datetime) -> list[OrderReceipt]:
    """receive_orders inside the caller's write transaction."""
    warehouses = stock_levels.warehouses_by_code(session)
    receipts: list[OrderReceipt] = []
    checked: list[tuple[int, IncomingOrder, OrderStatus]] = []
    for pushed in orders:
        incoming, refusals = _resolve(pushed, warehouses, received_at)
        if incoming is not None:
            try:
                checked.append((pushed.index, *ingest.check_incoming(incoming)))
                continue
            except DomainError as exc:
                refusals = [exc]
        receipts.append(OrderReceipt(pushed.index, REJECTED, refusals=refusals))
    # Row locks in one order (channel, number) whatever the call's order: two calls that
    # overlap on PostgreSQL queue behind each other instead of deadlocking.
    checked.sort(key=lambda item: (item[1].order.channel, item[1].order.channel_order_no, item[0]))
    entries = ingest_batch.store_batch(session, [(incoming, target) for _, incoming, target in checked],
                                       via=actor.via, actor=actor.name)
    for (index, _, _), entry in zip(checked, entries, strict=True):
        if entry.refusal is None:
            receipts.append(OrderReceipt(index, entry.outcome, entry.ref))
        else:
            receipts.append(OrderReceipt(index, REJECTED, refusals=[entry.refusal]))
    receipts.sort(key=lambda receipt: receipt.index)
    return receipts


def _resolve(pushed: PushedOrder, warehouses: dict[str, int],
             received_at: datetime) -> tuple[IncomingOrder | None, list[DomainError]]:
    """Every reason at once for the fields a client most often gets wrong (the address, the
    customer's phone, the warehouse), so one reply names them all; the rest is check_incoming's."""
    incoming = pushed.incoming
    refusals: list[DomainError] = []
    given = incoming.order.address
    address = None
    try:
        address = validate_address({"recipient": given.recipient, "phone": given.phone, "province": given.province,
                                    "city": given.city, "district": given.district, "street": given.street,
                                    "postal_code": given.postal_code}, strict=False)
    except AddressErrors as exc:
        refusals.append(exc)
    try:
        normalize_phone(incoming.order.customer_phone)
    except InvalidInput as exc:
        refusals.append(InvalidInput("customer_phone", exc.message, **exc.params))
    warehouse_id = None
    if pushed.warehouse_code is not None:
        warehouse_id = warehouses.get(pushed.warehouse_code)
        if warehouse_id is None:
            refusals.append(InvalidInput("warehouse_code", N_("unknown warehouse %(code)s"),
                                         code=pushed.warehouse_code))
    if refusals:
        return None, refusals
    order = copy(incoming.order)
    order.address, order.warehouse_id = address, warehouse_id
    resolved = copy(incoming)
    resolved.order = order
    resolved.status_at = incoming.status_at or received_at
    return resolved, []
