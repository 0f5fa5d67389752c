"""催单: a shopper asks us to hurry a paid, unshipped order.

The answer is honest: either the order moves to the front of the packing
queue, or the shopper is told why it cannot (awaiting payment, pre-sale date,
out of stock, already shipped). A granted hurry counts once per order per 24 h.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlmodel import func, select

from core.db import Database
from core.i18n import N_
from core.models import OrderHistory, OrderLine, OrderStatus, SkuStock, WarehouseTask, utcnow
from core.services.actors import Actor
from core.services.orders import lifecycle as order_service

HURRY_EVERY = timedelta(hours=24)
# Pressing the button again answers again, but only the first few presses a day are written down.
HURRIES_RECORDED_PER_DAY = 3


class HurryOutcome(StrEnum):
    PRIORITISED = "prioritised"
    ALREADY_HURRIED = "already_hurried"
    AWAITING_PAYMENT = "awaiting_payment"
    PRESALE = "presale"
    OUT_OF_STOCK = "out_of_stock"
    ALREADY_SHIPPED = "already_shipped"
    CLOSED = "closed"


HURRY_MESSAGES = {
    HurryOutcome.PRIORITISED: N_("Done: your order has moved to the front of the packing queue and the warehouse has been told."),
    HurryOutcome.ALREADY_HURRIED: N_("You already hurried this order in the last 24 hours; it is at the front of the packing queue."),
    HurryOutcome.AWAITING_PAYMENT: N_("This order is still awaiting payment. Once it is paid we ship it within the promised time."),
    HurryOutcome.PRESALE: N_("This is a pre-sale order: it ships from %(date)s and cannot leave earlier."),
    HurryOutcome.OUT_OF_STOCK: N_("%(item)s is out of stock at the warehouse right now; we ship as soon as it is back and will text you."),
    HurryOutcome.ALREADY_SHIPPED: N_("This order has already shipped; follow the parcel in the tracking timeline below."),
    HurryOutcome.CLOSED: N_("This order is closed and will not ship."),
}


@dataclass(frozen=True)
class HurryAnswer:
    outcome: HurryOutcome
    params: dict

    @property
    def message(self) -> str:
        return HURRY_MESSAGES[self.outcome]


def hurry(db: Database, actor: Actor, ref: str, *, now: datetime | None = None) -> HurryAnswer:
    now = now or utcnow()
    with db.write() as session:
        order = order_service.lock_for(session, actor, ref)
        answer = _assess(session, order, now)
        if _recorded_today(session, order.id, now) < HURRIES_RECORDED_PER_DAY:
            order_service.record(session, order, "hurry", actor=actor.name, via=actor.via, at=now,
                                 detail={"outcome": answer.outcome.value, **answer.params})
        if answer.outcome == HurryOutcome.PRIORITISED:
            order.is_priority = True
            order.updated_at = now
            session.add(order)
            session.add(WarehouseTask(order_id=order.id, warehouse_id=order.warehouse_id, kind="hurry",
                                      created_at=now, detail=json.dumps({"ref": ref})))
    return answer


def _recorded_today(session, order_id: int, now: datetime) -> int:  # noqa: ANN001
    return session.exec(select(func.count()).select_from(OrderHistory).where(
        OrderHistory.order_id == order_id, OrderHistory.kind == "hurry", OrderHistory.at >= now - HURRY_EVERY)).one()


def _assess(session, order, now: datetime) -> HurryAnswer:  # noqa: ANN001
    status = OrderStatus(order.status)
    if status == OrderStatus.PENDING_PAYMENT:
        return HurryAnswer(HurryOutcome.AWAITING_PAYMENT, {})
    if status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        return HurryAnswer(HurryOutcome.CLOSED, {})
    if not order.can_hurry:
        return HurryAnswer(HurryOutcome.ALREADY_SHIPPED, {})
    last = session.exec(
        select(OrderHistory)
        .where(OrderHistory.order_id == order.id, OrderHistory.kind == "hurry", OrderHistory.at >= now - HURRY_EVERY)
        .order_by(OrderHistory.at.desc())
    ).all()
    granted = [h for h in last if json.loads(h.detail).get("outcome") == HurryOutcome.PRIORITISED]
    if granted:
        return HurryAnswer(HurryOutcome.ALREADY_HURRIED, {})
    if order.presale_ships_on is not None and order.presale_ships_on > now.date():
        return HurryAnswer(HurryOutcome.PRESALE, {"date": order.presale_ships_on.isoformat()})
    for line in session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all():
        stock = session.exec(
            select(SkuStock).where(SkuStock.sku == line.sku, SkuStock.warehouse_id == order.warehouse_id)
        ).first()
        # What this order still needs beyond what it already holds in reserve.
        if stock is not None and stock.available < line.quantity - line.reserved_qty:
            return HurryAnswer(HurryOutcome.OUT_OF_STOCK, {"item": line.name, "sku": line.sku})
    return HurryAnswer(HurryOutcome.PRIORITISED, {})


def last_answer(history: list[OrderHistory], within: timedelta, now: datetime | None = None) -> HurryAnswer | None:
    """The answer to the latest hurry request, to show it again after a redirect."""
    now = now or utcnow()
    for entry in reversed(history):
        if entry.kind == "hurry" and now - entry.at <= within:
            detail = json.loads(entry.detail)
            outcome = HurryOutcome(detail.pop("outcome"))
            return HurryAnswer(outcome, detail)
    return None


def presale_date(value: str) -> date:
    return date.fromisoformat(value)
