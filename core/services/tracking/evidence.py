"""Logistics evidence: chain verification, promised-vs-actual, and the evidence pack."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from core.db import Database
from core.i18n import N_
from core.models import EvidenceDownload, EvidencePack, Order, OrderHistory, Shipment, TrackingEvent, utcnow
from core.services.actors import Actor
from core.services.tracking import chain

GENERATOR = "orderdesk evidence 1"


@dataclass(frozen=True)
class OrderVerification:
    ref: str
    checks: list[chain.ChainCheck]
    heads: dict[str, tuple[str, int]]
    digest: str

    @property
    def intact(self) -> bool:
        return all(check.intact for check in self.checks)

    @property
    def event_count(self) -> int:
        return sum(check.event_count for check in self.checks)


def _load_order(session: Session, ref: str) -> Order:
    from core.services.orders.lifecycle import load_full_order

    return load_full_order(session, select(Order).where(Order.ref == ref))


def verify_loaded(order: Order) -> OrderVerification:
    checks = [chain.check_chain(list(s.events), s.carrier, s.tracking_no) for s in order.shipments]
    heads = {c.tracking_no: (c.head, c.event_count) for c in checks}
    return OrderVerification(ref=order.ref, checks=checks, heads=heads, digest=chain.order_digest(heads))


def verify_order(db: Database, ref: str) -> OrderVerification:
    with db.read() as session:
        order = _load_order(session, ref)
    return verify_loaded(order)


@dataclass(frozen=True)
class DigestCheck:
    """The answer of /verify/<digest>: does the record still say what the pack said?"""

    known: bool
    intact: bool
    ref: str | None = None
    generated_at: datetime | None = None
    event_count: int = 0
    problems: list[str] = field(default_factory=list)
    grown_by: int = 0


def check_digest(db: Database, digest: str) -> DigestCheck:
    with db.read() as session:
        pack = session.exec(select(EvidencePack).where(EvidencePack.digest == digest)).first()
        if pack is None:
            return DigestCheck(known=False, intact=False)
        order = session.get(Order, pack.order_id)
        shipments = session.exec(
            select(Shipment).where(Shipment.order_id == pack.order_id).options(selectinload(Shipment.events))
        ).all()
    recorded: dict[str, list] = json.loads(pack.chain_heads)
    problems: list[str] = []
    grown = 0
    by_number = {s.tracking_no: s for s in shipments}
    for tracking_no, (head, count) in recorded.items():
        shipment = by_number.get(tracking_no)
        if shipment is None:
            problems.append(f"shipment {tracking_no} is gone")
            continue
        # Events may have arrived since the pack; the first `count` must be exactly as they were.
        prefix = [e for e in shipment.events if e.seq <= count]
        check = chain.check_chain(prefix, shipment.carrier, tracking_no)
        if not check.intact:
            problems.append(f"{tracking_no}: {check.problem}")
        elif check.event_count != count or check.head != head:
            problems.append(f"{tracking_no}: the recorded events no longer match the pack")
        full = chain.check_chain(list(shipment.events), shipment.carrier, tracking_no)
        if not full.intact and check.intact:
            problems.append(f"{tracking_no}: {full.problem}")
        grown += max(len(shipment.events) - count, 0)
    return DigestCheck(known=True, intact=not problems, ref=order.ref if order else None,
                       generated_at=pack.generated_at, event_count=pack.event_count, problems=problems,
                       grown_by=grown)


# --- promised vs actual -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    promised_ship_by: datetime | None
    handed_over_at: datetime | None
    carrier_first_scan_at: datetime | None
    promised_delivery_by: datetime | None
    delivered_at: datetime | None
    ship_late_hours: int
    delivery_late_hours: int
    late_side: str | None  # merchant, carrier, both, or None when on time / not yet known
    on_time: bool | None
    last_on_time_event: TrackingEvent | None
    open_past_promise_hours: int = 0

    @property
    def outcome(self) -> str:
        if self.on_time is True:
            return "on_time"
        if self.on_time is False:
            return "late"
        if self.open_past_promise_hours:
            return "overdue"
        return "pending"


def _hours(later: datetime, earlier: datetime) -> int:
    return max(int((later - earlier).total_seconds() // 3600), 0)


def _late_side(order: Order, handed_over: datetime | None, arrival: datetime | None, ship_late: int,
               delivery_late: bool) -> str | None:
    """Merchant: handed over after the ship-by promise. Carrier: took longer in
    transit than the window the promise left it (delivery-by minus ship-by)."""
    merchant = ship_late > 0
    carrier = False
    if delivery_late and arrival and handed_over:
        if order.promised_ship_by and order.promised_delivery_by:
            carrier = arrival - handed_over > order.promised_delivery_by - order.promised_ship_by
        else:
            carrier = not merchant
    if merchant and carrier:
        return "both"
    if merchant:
        return "merchant"
    if carrier:
        return "carrier"
    return None


def analyse(order: Order, now: datetime | None = None) -> Verdict:
    now = now or utcnow()
    shipment = order.shipments[0] if order.shipments else None
    events = sorted(shipment.events, key=lambda e: e.occurred_at) if shipment else []
    handed_over = shipment.shipped_at if shipment else None
    delivered = (shipment.delivered_at if shipment else None) or order.delivered_at
    ship_late = _hours(handed_over, order.promised_ship_by) if handed_over and order.promised_ship_by else 0
    if handed_over is None and order.promised_ship_by and now > order.promised_ship_by:
        ship_late = _hours(now, order.promised_ship_by)
    delivery_late = 0
    on_time: bool | None = None
    open_past = 0
    if order.promised_delivery_by:
        if delivered:
            delivery_late = _hours(delivered, order.promised_delivery_by)
            on_time = delivered <= order.promised_delivery_by
        elif now > order.promised_delivery_by:
            open_past = _hours(now, order.promised_delivery_by)
    late_side = _late_side(order, handed_over, delivered or (now if open_past else None), ship_late,
                           bool(delivery_late or open_past))
    last_on_time = None
    if order.promised_delivery_by:
        before = [e for e in events if e.occurred_at <= order.promised_delivery_by]
        last_on_time = before[-1] if before else None
    return Verdict(
        promised_ship_by=order.promised_ship_by,
        handed_over_at=handed_over,
        carrier_first_scan_at=events[0].occurred_at if events else None,
        promised_delivery_by=order.promised_delivery_by,
        delivered_at=delivered,
        ship_late_hours=ship_late,
        delivery_late_hours=delivery_late,
        late_side=late_side,
        on_time=on_time,
        last_on_time_event=last_on_time,
        open_past_promise_hours=open_past,
    )


# --- the pack -----------------------------------------------------------------------------------


def address_history(order: Order) -> list[dict]:
    changes = []
    for entry in order.history:
        if entry.kind == "address_changed":
            detail = json.loads(entry.detail)
            changes.append({"at": entry.at, "actor": entry.actor, "via": entry.via, **detail})
    return changes


def customer_contacts(order: Order) -> list[OrderHistory]:
    """What the customer asked for through us: address changes, hurries."""
    return [h for h in order.history if h.kind in ("address_changed", "hurry")]


@dataclass(frozen=True)
class PackContent:
    order: Order
    verification: OrderVerification
    verdict: Verdict
    generated_at: datetime


def get_or_build_pack(
    db: Database,
    ref: str,
    *,
    audience: str,
    render,  # noqa: ANN001  (PackContent, audience) -> PDF bytes
    sign=None,  # noqa: ANN001  bytes -> signed bytes
    now: datetime | None = None,
) -> EvidencePack:
    """The pack for the order's current chain state: from the cache when this state
    was rendered before (same bytes), otherwise rendered, signed and stored."""
    with db.read() as session:
        order = _load_order(session, ref)
    verification = verify_loaded(order)
    cached = _cached(db, order.id, verification.digest, audience)
    if cached is not None:
        return cached
    generated_at = (now or utcnow()).replace(microsecond=0)
    content = PackContent(order=order, verification=verification, verdict=analyse(order, generated_at),
                          generated_at=generated_at)
    pdf = render(content, audience)
    signed = False
    if sign is not None:
        pdf = sign(pdf)
        signed = True
    pack = EvidencePack(
        order_id=order.id, digest=verification.digest, audience=audience, event_count=verification.event_count,
        chain_heads=json.dumps(verification.heads, sort_keys=True), generated_at=generated_at, generator=GENERATOR,
        pdf=pdf, pdf_sha256=hashlib.sha256(pdf).hexdigest(), signed=signed,
    )
    from sqlalchemy.exc import IntegrityError

    try:
        with db.write() as session:
            session.add(pack)
    except IntegrityError:
        # Another request rendered the same state at the same moment: serve theirs.
        cached = _cached(db, order.id, verification.digest, audience)
        if cached is not None:
            return cached
        raise
    return pack


def _cached(db: Database, order_id: int, digest: str, audience: str) -> EvidencePack | None:
    with db.read() as session:
        return session.exec(
            select(EvidencePack).where(
                EvidencePack.order_id == order_id, EvidencePack.digest == digest, EvidencePack.audience == audience
            )
        ).first()


def record_download(session: Session, pack: EvidencePack, actor: Actor) -> EvidenceDownload:
    """Who took the pack, in the caller's transaction (the pack's own log, beside the audit trail)."""
    download = EvidenceDownload(pack_id=pack.id, order_id=pack.order_id, actor=actor.name, via=actor.via,
                                client_ip=actor.client_ip[:45])
    session.add(download)
    return download


def describe_verdict(verdict: Verdict, gettext, tz) -> list[str]:  # noqa: ANN001
    """The verdict in plain words, sentence by sentence, in the language of `gettext`."""

    def at(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%m-%d %H:%M") if value else "—"

    lines: list[str] = []
    if verdict.promised_delivery_by is None:
        lines.append(gettext(N_("No delivery promise was recorded for this order.")))
    elif verdict.on_time:
        lines.append(gettext(N_("On time: promised delivery by %(promised)s, signed for %(signed)s.")) % {
            "promised": at(verdict.promised_delivery_by), "signed": at(verdict.delivered_at)})
    elif verdict.on_time is False:
        lines.append(gettext(N_("Late: promised delivery by %(promised)s, signed for %(signed)s, %(hours)s h late.")) % {
            "promised": at(verdict.promised_delivery_by), "signed": at(verdict.delivered_at),
            "hours": verdict.delivery_late_hours})
    elif verdict.open_past_promise_hours:
        lines.append(gettext(N_("Not delivered: promised delivery by %(promised)s, now %(hours)s h past the promise.")) % {
            "promised": at(verdict.promised_delivery_by), "hours": verdict.open_past_promise_hours})
    else:
        lines.append(gettext(N_("In progress: promised delivery by %(promised)s.")) % {
            "promised": at(verdict.promised_delivery_by)})
    if verdict.late_side in ("merchant", "both") and verdict.handed_over_at:
        lines.append(gettext(N_("The merchant handed the parcel to the carrier %(handed)s, %(hours)s h after the promised ship-by time %(promised)s.")) % {
            "handed": at(verdict.handed_over_at), "hours": verdict.ship_late_hours,
            "promised": at(verdict.promised_ship_by)})
    elif verdict.late_side in ("merchant", "both"):
        lines.append(gettext(N_("The merchant has not handed the parcel over; the ship-by time %(promised)s passed %(hours)s h ago.")) % {
            "promised": at(verdict.promised_ship_by), "hours": verdict.ship_late_hours})
    if verdict.late_side in ("carrier", "both"):
        lines.append(gettext(N_("The carrier was late: handed over %(handed)s, within the ship-by promise %(promised)s; the delay arose after hand-off.")) % {
            "handed": at(verdict.handed_over_at), "promised": at(verdict.promised_ship_by)}
            if verdict.late_side == "carrier" else
            gettext(N_("The carrier also took longer in transit than the promise allowed.")))
    if verdict.late_side and verdict.last_on_time_event is not None:
        event = verdict.last_on_time_event
        lines.append(gettext(N_("Last carrier event before the promised time: %(at)s %(place)s, “%(text)s”.")) % {
            "at": at(event.occurred_at), "place": event.location, "text": event.raw_text})
    return lines
