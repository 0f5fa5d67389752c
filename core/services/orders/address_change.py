"""Changing the delivery address of an order that has not shipped, from the portal or the admin."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from core.config import get_settings
from core.db import Database
from core.errors import DomainError, InvalidInput
from core.i18n import N_
from core.models import OrderHistory, OrderStatus, ServiceTerms, WarehouseTask, utcnow
from core.services.actors import Actor, ActorKind
from core.services.audit import trail as audit
from core.services.messaging import outbox as notifications
from core.services.orders import lifecycle as order_service
from core.services.orders.addresses import (
    ShippingAddress,
    address_of,
    apply_address,
    mask_name,
    masked_one_line,
    validate_address,
)

# A shopper may correct an address a few times; past that each change sends a text and a warehouse
# task for nothing (or is someone else at the keyboard). Staff changes are not limited.
CUSTOMER_CHANGES_PER_DAY = 3


class AddressChangeRefused(DomainError):
    """The address of this order cannot be changed now."""


class TooManyAddressChanges(AddressChangeRefused):
    pass


class AlreadyShipped(AddressChangeRefused):
    """The parcel has left (or the order is closed): the address can no longer change here."""


@dataclass(frozen=True)
class AddressChanged:
    ref: str
    old: ShippingAddress
    new: ShippingAddress
    expected_delivery: datetime | None
    message_id: int | None = None


def change_address(db: Database, actor: Actor, ref: str, raw: dict[str, str], *,
                   now: datetime | None = None) -> AddressChanged:
    """Change the address of an order that has not shipped.

    The check and the change happen under the order's row lock (on SQLite, in
    a BEGIN IMMEDIATE transaction), the same lock the warehouse takes to mark
    the order shipped, so exactly one of the two wins. A customer changes only their
    own orders, warehouse staff only their warehouse's; a staff change is audited.
    """
    new = validate_address(raw)
    now = now or utcnow()
    with db.write() as session:
        order = order_service.lock_for(session, actor, ref)
        status = OrderStatus(order.status)
        if status == OrderStatus.CANCELLED:
            raise AlreadyShipped(N_("This order is cancelled; there is no parcel to redirect."))
        if not order.can_change_address:
            raise AlreadyShipped(N_("This order has already shipped, so the address can no longer be changed here."))
        if actor.kind == ActorKind.CUSTOMER and _changes_today(session, order.id, now) >= CUSTOMER_CHANGES_PER_DAY:
            raise TooManyAddressChanges(N_("This address was changed %(n)s times in the last 24 hours. Contact us "
                                           "if it needs to change again."), n=CUSTOMER_CHANGES_PER_DAY)
        old = address_of(order)
        if old == new:
            raise InvalidInput("street", N_("This is already the delivery address of the order."))
        apply_address(order, new)
        order.updated_at = now
        terms = session.get(ServiceTerms, order.terms_id) if order.terms_id else None
        delivery_days = terms.delivery_within_days if terms else 5
        expected = max(filter(None, [order.promised_delivery_by, now + timedelta(days=delivery_days)]))
        session.add(order)
        order_service.record(
            session, order, "address_changed", actor=actor.name, via=actor.via, at=now,
            detail={"old": old.as_dict(), "new": new.as_dict()},
        )
        session.add(
            WarehouseTask(
                order_id=order.id, warehouse_id=order.warehouse_id, kind="address_changed", created_at=now,
                detail=json.dumps({"ref": ref, "new": new.as_dict()}, ensure_ascii=False),
            )
        )
        message = notifications.enqueue(session, order, "address_changed", {
            "place": masked_one_line(new), "recipient": mask_name(new.recipient),
            "expected": expected.astimezone(get_settings().tz).strftime("%m-%d")})
        if actor.is_staff:
            audit.append(session, actor, "change_address", order_ref=ref,
                         detail={"old_district": old.district, "new_district": new.district})
        session.flush()
    return AddressChanged(ref=ref, old=old, new=new, expected_delivery=expected,
                          message_id=message.id if message else None)


def _changes_today(session: Session, order_id: int, now: datetime) -> int:
    return session.exec(select(func.count()).select_from(OrderHistory).where(
        OrderHistory.order_id == order_id, OrderHistory.kind == "address_changed",
        OrderHistory.at > now - timedelta(hours=24))).one()
