"""The delivery promise: a parcel past its promised delivery time, its customer told once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from core.config import Settings
from core.db import Database
from core.models import Order, OrderStatus
from core.services.messaging import outbox as notifications
from core.services.tracking.links import link_url


@dataclass(frozen=True)
class LateParcels:
    late: int
    newly_told: int


def tell_customers_of_broken_promises(db: Database, settings: Settings, now: datetime) -> LateParcels:
    """A periodic job calls it: every shipped order past its promise, a "delayed" message once per order."""
    with db.write() as session:
        late = session.exec(select(Order).where(Order.status == OrderStatus.SHIPPED,
                                                Order.promised_delivery_by < now)).all()
        queued = 0
        for order in late:
            message = notifications.enqueue(session, order, "delayed", {
                "promised": order.promised_delivery_by.astimezone(settings.tz).strftime("%m-%d %H:%M"),
                "link": link_url(order, settings)}, dedupe_key=f"delayed:{order.id}")
            queued += message is not None
    return LateParcels(late=len(late), newly_told=queued)
