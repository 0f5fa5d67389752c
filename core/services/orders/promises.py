"""The delivery promise: telling the customer, once, when their parcel is late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from core.config import Settings
from core.db import Database
from core.models import Order, OrderStatus
from core.services.messaging import outbox


@dataclass(frozen=True)
class PromiseBreaches:
    late: int  # shipped orders past their promised delivery time
    told: int  # of those, customers told now (the others were told before)


def tell_late_customers(db: Database, settings: Settings, *, now: datetime) -> PromiseBreaches:
    """Queue the "delayed" message for every shipped order past its promise, once per order
    (the outbox's dedupe key makes a second run, or a run after a crash, tell nobody twice)."""
    from core.services.tracking.links import link_url  # tracking imports orders

    with db.write() as session:
        late = session.exec(select(Order).where(Order.status == OrderStatus.SHIPPED,
                                                Order.promised_delivery_by < now)).all()
        told = 0
        for order in late:
            message = outbox.enqueue(session, order, "delayed", {
                "promised": order.promised_delivery_by.astimezone(settings.tz).strftime("%m-%d %H:%M"),
                "link": link_url(order, settings)}, dedupe_key=f"delayed:{order.id}")
            told += message is not None
    return PromiseBreaches(late=len(late), told=told)
