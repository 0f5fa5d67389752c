"""Recording carrier events: exactly once, append-only, hash-chained; shipment
and order status follow the events.

`record_push` (a verified webhook push) and `record_poll` (what polling fetched) are the use
cases: each one transaction under the shipment's lock. The carrier call itself happens before,
outside any transaction.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from core.carriers.base import NormalizedEvent, TrackingSnapshot
from core.db import Database
from core.errors import NotFound
from core.i18n import N_
from core.models import CarrierPush, Order, OrderStatus, Shipment, TrackingEvent, TrackingTag, utcnow
from core.services.actors import Actor
from core.services.messaging import outbox as notifications
from core.services.tracking import chain

logger = logging.getLogger("orderdesk.tracking")

# Carriers' clocks drift a little; an event dated further ahead than this has not happened yet, and
# kept it would pin the parcel's state until the date passed.
CLOCK_SKEW = timedelta(minutes=10)
# How far along the way each state is. A parcel's state moves only forward along it; an exception or an
# expired record is a branch that may come at any point before delivery, and the parcel may move on
# again after it. Nothing moves a delivered parcel back.
PROGRESS = {
    TrackingTag.PENDING: 0, TrackingTag.INFO_RECEIVED: 0, TrackingTag.IN_TRANSIT: 1,
    TrackingTag.OUT_FOR_DELIVERY: 2, TrackingTag.ATTEMPT_FAIL: 2, TrackingTag.AVAILABLE_FOR_PICKUP: 3,
    TrackingTag.DELIVERED: 4,
}
BRANCHES = frozenset({TrackingTag.EXCEPTION, TrackingTag.EXPIRED})


def may_follow(current: str | None, new: str) -> bool:
    """Whether a parcel in state `current` may be shown in state `new` (events arrive out of order)."""
    if current is None or current not in PROGRESS and current not in BRANCHES:
        return True
    if current == TrackingTag.DELIVERED:
        return new == TrackingTag.DELIVERED
    if new in BRANCHES or current in BRANCHES:
        return True
    return PROGRESS.get(new, 0) >= PROGRESS[current]


def carrier_actor(client_ip: str = "") -> Actor:
    """Who moves an order when its parcel's events say so: the carrier, as order history shows it."""
    return Actor.integration("carrier", via="carrier", client_ip=client_ip)


@dataclass(frozen=True)
class Ingested:
    added: int
    duplicates: int
    replayed_push: bool = False
    refused_future: int = 0


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
    actor: Actor | None = None,
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
    future = [e for e in events if e.occurred_at > received_at + CLOCK_SKEW]
    if future:
        logger.warning("shipment %s: %d carrier events dated more than %s ahead were refused (latest %s)",
                       shipment.id, len(future), CLOCK_SKEW, max(e.occurred_at for e in future).isoformat())
    # Within one batch, record in the order the events happened; across batches,
    # arrival order is kept (a late event gets a later seq, shown by its time).
    for event in sorted((e for e in events if e.occurred_at <= received_at + CLOCK_SKEW), key=lambda e: e.occurred_at):
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
        _follow(session, shipment, added, actor or carrier_actor())
    return Ingested(added=len(added), duplicates=duplicates, refused_future=len(future))


def _follow(session: Session, shipment: Shipment, added: list[TrackingEvent], actor: Actor) -> None:
    """Shipment and order status follow the newest event by occurrence time."""
    newest = max(added, key=lambda e: e.occurred_at)
    moved_to = None
    if shipment.last_event_at is None or newest.occurred_at >= shipment.last_event_at:
        shipment.last_event_at = newest.occurred_at
        if may_follow(shipment.tag, newest.tag):
            moved_to = shipment.tag = newest.tag
    order = session.get(Order, shipment.order_id)
    # Never news older than what the shopper was already told: no "out for delivery" once delivered.
    if moved_to == TrackingTag.OUT_FOR_DELIVERY and shipment.delivered_at is None and order is not None:
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

            transition(session, order, OrderStatus.DELIVERED, actor=actor.name, via=actor.via,
                       at=shipment.delivered_at)
    session.add(shipment)


def _link(order: Order) -> str:
    from core.config import get_settings
    from core.services.tracking.links import link_url

    return link_url(order, get_settings())


def record_push(db: Database, actor: Actor, snapshot: TrackingSnapshot, *, source: str, body: str) -> Ingested:
    """A verified push: stored verbatim under (source, a digest of its body), then applied, in one
    transaction. The same push again (the carrier retries until answered) changes nothing."""
    event_key = hashlib.sha256(body.encode("utf-8")).hexdigest()
    with db.write() as session:
        shipment = lock_shipment(session, snapshot.carrier, snapshot.tracking_no)
        replay = session.exec(
            select(CarrierPush.id).where(CarrierPush.source == source, CarrierPush.event_key == event_key)
        ).first()
        if replay is not None:
            return Ingested(added=0, duplicates=len(snapshot.events), replayed_push=True)
        result = append_events(session, shipment, snapshot.events, source="push", actor=actor)
        session.add(CarrierPush(source=source, event_key=event_key, body=body, shipment_id=shipment.id,
                                events_added=result.added, events_duplicate=result.duplicates))
    return result


def record_poll(db: Database, actor: Actor, snapshot: TrackingSnapshot, *, now: datetime | None = None) -> Ingested:
    """What polling fetched for one parcel; the shipment counts as polled once its events are stored."""
    with db.write() as session:
        shipment = lock_shipment(session, snapshot.carrier, snapshot.tracking_no)
        result = append_events(session, shipment, snapshot.events, source="poll", actor=actor)
        shipment.last_polled_at = now or utcnow()
        session.add(shipment)
    return result
