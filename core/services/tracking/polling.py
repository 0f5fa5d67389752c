"""Polling carriers for parcels in transit.

Each round takes the shipments that are not delivered, least recently polled
first. A shipment is marked polled only when its events are stored, so a round
cut short by an outage resumes with the parcels it did not reach; events are
deduplicated, so polling one twice loses and doubles nothing.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import nulls_first
from sqlmodel import select

from core.carriers.base import CarrierUnavailable, TrackingSource
from core.db import Database
from core.models import Customer, Order, Shipment, utcnow
from core.services.tracking.events import carrier_actor, record_poll

logger = logging.getLogger("orderdesk.polling")


@dataclass
class PollRound:
    polled: int = 0
    added: int = 0
    duplicates: int = 0
    failed: list[str] = field(default_factory=list)


def due_shipments(db: Database, *, limit: int, now: datetime, min_interval: timedelta) -> list[tuple[str, str, str]]:
    with db.read() as session:
        rows = session.exec(
            select(Shipment.carrier, Shipment.tracking_no, Customer.phone)
            .join(Order, Order.id == Shipment.order_id)
            .join(Customer, Customer.id == Order.customer_id)
            .where(
                Shipment.delivered_at.is_(None),
                Shipment.shipped_at >= now - timedelta(days=60),
                (Shipment.last_polled_at.is_(None)) | (Shipment.last_polled_at <= now - min_interval),
            )
            .order_by(nulls_first(Shipment.last_polled_at), Shipment.id)
            .limit(limit)
        ).all()
    return [tuple(row) for row in rows]


def poll_round(db: Database, source: TrackingSource, *, limit: int = 200, workers: int = 4,
               now: datetime | None = None, min_interval: timedelta = timedelta(minutes=30)) -> PollRound:
    now = now or utcnow()
    actor = carrier_actor()
    result = PollRound()
    tally = threading.Lock()

    def poll_one(item: tuple[str, str, str]) -> None:
        carrier, tracking_no, phone = item
        try:
            # SF only answers with the recipient's or sender's phone; the last 4 digits suffice.
            snapshot = source.fetch(carrier, tracking_no, phone[-4:] if carrier == "SF" else None)
        except CarrierUnavailable as exc:
            logger.warning("poll %s %s failed: %s", carrier, tracking_no, exc)
            with tally:
                result.failed.append(tracking_no)
            return
        ingested = record_poll(db, actor, snapshot, now=utcnow())
        with tally:
            result.polled += 1
            result.added += ingested.added
            result.duplicates += ingested.duplicates

    items = due_shipments(db, limit=limit, now=now, min_interval=min_interval)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(poll_one, items))
    return result
