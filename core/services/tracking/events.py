"""Recording carrier events: exactly once, append-only, hash-chained; shipment
and order status follow the events."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from core.carriers.base import NormalizedEvent, TrackingSnapshot
from core.db import Database
from core.errors import NotFound
from core.i18n import N_
from core.models import CarrierPush, Order, OrderStatus, Shipment, TrackingEvent, TrackingTag, utcnow
from core.services.messaging import outbox as notifications
from core.services.tracking import chain

logger = logging.getLogger("orderdesk.tracking")


@dataclass(frozen=True)
class Ingested:
    added: int
    duplicates: int
    replayed_push: bool = False


def lock_shipment(session: Session, carrier: str, tracking_no: str) -> Shipment:
    shipment = session.exec(
        select(Shipment).where(Shipment.carrier == carrier, Shipment.tracking_no == tracking_no).with_for_update()
    ).first()
    if shipment is None:
        raise NotFound(N_("Unknown tracking number."))
    return shipment


def append_events(
    session: Session,
    shipment: Shipment,
    events: list[NormalizedEvent],
    *,
    source: str,
    received_at: datetime | None = None,
) -> Ingested:
    """Append the events not seen before to the shipment's chain. The caller holds
    the shipment's lock, so two sources cannot interleave one chain."""
    received_at = received_at or utcnow()
    known = set(session.exec(select(TrackingEvent.dedup_key).where(TrackingEvent.shipment_id == shipment.id)).all())
    head = session.exec(
        select(TrackingEvent.seq, TrackingEvent.chain_hash)
        .where(TrackingEvent.shipment_id == shipment.id)
        .order_by(TrackingEvent.seq.desc())
        .limit(1)
    ).first()
    seq, prev = head if head else (0, chain.GENESIS)
    added: list[TrackingEvent] = []
    duplicates = 0
    # Within one batch, record in the order the events happened; across batches,
    # arrival order is kept (a late event gets a later seq, shown by its time).
    for event in sorted(events, key=lambda e: e.occurred_at):
        key = event.dedup_key
        if key in known:
            duplicates += 1
            continue
        known.add(key)
        seq += 1
        row = TrackingEvent(
            shipment_id=shipment.id, occurred_at=event.occurred_at, received_at=received_at,
            raw_status_code=event.raw_status_code, raw_text=event.raw_text, location=event.location,
            tag=event.tag, sub_status=event.sub_status, source=source, raw_payload=event.raw_payload,
            seq=seq, dedup_key=key, prev_hash=prev, chain_hash="",
        )
        row.chain_hash = chain.link_hash(prev, chain.event_content(row, shipment.carrier, shipment.tracking_no))
        prev = row.chain_hash
        session.add(row)
        added.append(row)
    if added:
        _follow(session, shipment, added)
    return Ingested(added=len(added), duplicates=duplicates)


def _follow(session: Session, shipment: Shipment, added: list[TrackingEvent]) -> None:
    """Shipment and order status follow the newest event by occurrence time."""
    newest = max(added, key=lambda e: e.occurred_at)
    if shipment.last_event_at is None or newest.occurred_at >= shipment.last_event_at:
        shipment.last_event_at = newest.occurred_at
        shipment.tag = newest.tag
    order = session.get(Order, shipment.order_id)
    if newest.tag == TrackingTag.OUT_FOR_DELIVERY and order is not None:
        notifications.enqueue(session, order, "out_for_delivery", {"link": _link(order)},
                              dedupe_key=f"out_for_delivery:{shipment.id}")
    delivered = [e for e in added if e.tag == TrackingTag.DELIVERED]
    if delivered and shipment.delivered_at is None:
        shipment.delivered_at = min(e.occurred_at for e in delivered)
        if order is not None:
            notifications.enqueue(session, order, "delivered", {"link": _link(order)},
                                  dedupe_key=f"delivered:{shipment.id}")
        if order is not None and order.status == OrderStatus.SHIPPED:
            from core.services.orders.lifecycle import transition

            transition(session, order, OrderStatus.DELIVERED, actor="carrier", via="carrier",
                       at=shipment.delivered_at)
    session.add(shipment)


def _link(order: Order) -> str:
    from core.config import get_settings
    from core.services.tracking.links import link_url

    return link_url(order, get_settings())


def ingest_push(db: Database, snapshot: TrackingSnapshot, *, source: str, event_key: str, body: str) -> Ingested:
    """A verified push: stored verbatim under (source, event key), then applied, in one transaction."""
    with db.write() as session:
        shipment = lock_shipment(session, snapshot.carrier, snapshot.tracking_no)
        replay = session.exec(
            select(CarrierPush.id).where(CarrierPush.source == source, CarrierPush.event_key == event_key)
        ).first()
        if replay is not None:
            return Ingested(added=0, duplicates=len(snapshot.events), replayed_push=True)
        result = append_events(session, shipment, snapshot.events, source="push")
        session.add(CarrierPush(source=source, event_key=event_key, body=body, shipment_id=shipment.id,
                                events_added=result.added, events_duplicate=result.duplicates))
    return result


def ingest_poll(db: Database, snapshot: TrackingSnapshot, *, now: datetime | None = None) -> Ingested:
    with db.write() as session:
        shipment = lock_shipment(session, snapshot.carrier, snapshot.tracking_no)
        result = append_events(session, shipment, snapshot.events, source="poll")
        shipment.last_polled_at = now or utcnow()
        session.add(shipment)
    return result
