"""Exception triage: the rule engine.

`evaluate` is pure: an order's facts and the rules in, the hits out. `scan` loads the facts of
the orders still worth watching in batches, evaluates them and opens a tag for each new hit.
`preview` answers "which orders would this edited rule tag?" without writing anything.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import selectinload
from sqlmodel import Session, func, select

from core.db import Database, lock_key
from core.models import (
    Dispute,
    Order,
    OrderLine,
    OrderStatus,
    OrderTag,
    SkuStock,
    TrackingEvent,
    TrackingTag,
    TriageRule,
    utcnow,
)
from core.services.triage.checks import (
    CHECKS,
    OPEN_DISPUTE_STATES,
    LineFacts,
    OrderFacts,
    ShipmentFacts,
)
from core.services.triage.rules import RuleSpec, spec_of

logger = logging.getLogger("orderdesk.triage")

# Orders older than this are no longer watched (their exceptions were found long ago).
LOOKBACK = timedelta(days=90)
WATCHED = (OrderStatus.PAID, OrderStatus.PICKING, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.REFUNDED)
BATCH = 500
PREVIEW_LIMIT = 20


@dataclass(frozen=True)
class Hit:
    order_id: int
    ref: str
    rule_code: str
    tag: str
    queue: str
    detail: dict
    fingerprint: str
    sla_hours: int


def evaluate(order_facts: OrderFacts, rules: list[RuleSpec], now: datetime) -> list[Hit]:
    """Every enabled rule whose check finds something on this order."""
    hits = []
    for rule in rules:
        check = CHECKS.get(rule.code)
        if check is None or not rule.enabled:
            continue
        finding = check(order_facts, rule.params, now)
        if finding is not None:
            hits.append(Hit(order_id=order_facts.order_id, ref=order_facts.ref, rule_code=rule.code, tag=rule.tag,
                            queue=rule.queue, detail=finding.detail, fingerprint=finding.fingerprint,
                            sla_hours=int(rule.params.get("sla_hours", 24))))
    return hits


# --- loading the facts -----------------------------------------------------------------------


def _batches(db: Database, now: datetime, sold: dict, order_ids: list[int] | None = None,
             ) -> Iterator[tuple[list[Order], list[OrderFacts]]]:
    """Orders worth watching with their facts, BATCH at a time in id order: keyset pages, each
    read in its own short session, so a million orders neither sit in memory nor hold a snapshot."""
    last_id = 0
    while True:
        with db.read() as session:
            statement = select(Order).where(Order.id > last_id, Order.status.in_(WATCHED),
                                            Order.created_at >= now - LOOKBACK, Order.created_at <= now)
            if order_ids is not None:
                statement = statement.where(Order.id.in_(order_ids))
            batch = list(session.exec(statement.order_by(Order.id).limit(BATCH)
                                      .options(selectinload(Order.lines), selectinload(Order.shipments))).all())
            if not batch:
                return
            facts = _facts_for(session, batch, sold)
        yield batch, facts
        last_id = batch[-1].id


def _sold_last_24h(session: Session, now: datetime) -> dict[tuple[str, int], int]:
    rows = session.exec(
        select(OrderLine.sku, Order.warehouse_id, func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.created_at > now - timedelta(hours=24), Order.created_at <= now,
               Order.status != OrderStatus.CANCELLED, Order.warehouse_id.is_not(None))
        .group_by(OrderLine.sku, Order.warehouse_id)
    ).all()
    return {(sku, warehouse): int(units) for sku, warehouse, units in rows}


def _facts_for(session: Session, orders: list[Order], sold: dict[tuple[str, int], int]) -> list[OrderFacts]:
    ids = [o.id for o in orders]
    wanted = {(line.sku, o.warehouse_id) for o in orders if o.warehouse_id for line in o.lines}
    stock: dict[tuple[str, int], int] = {}
    if wanted:
        skus = {sku for sku, _ in wanted}
        for row in session.exec(select(SkuStock).where(SkuStock.sku.in_(skus))).all():
            stock[(row.sku, row.warehouse_id)] = row.on_hand - row.reserved
    disputes: dict[int, set[str]] = defaultdict(set)
    for order_id, kind in session.exec(select(Dispute.order_id, Dispute.kind).where(
            Dispute.order_id.in_(ids), Dispute.status.in_(OPEN_DISPUTE_STATES))).all():
        disputes[order_id].add(kind)
    # The sub-status of the newest event, only for parcels in trouble (it is not on the shipment).
    troubled = [s.id for o in orders for s in o.shipments if s.tag == TrackingTag.EXCEPTION]
    sub_status: dict[int, str | None] = {}
    if troubled:
        # Newest by occurrence, as the shipment's own tag is (core.services.tracking.events).
        newest = (select(TrackingEvent.shipment_id, func.max(TrackingEvent.occurred_at).label("at"))
                  .where(TrackingEvent.shipment_id.in_(troubled)).group_by(TrackingEvent.shipment_id).subquery())
        for shipment_id, value in session.exec(
                select(TrackingEvent.shipment_id, TrackingEvent.sub_status).join(
                    newest, (TrackingEvent.shipment_id == newest.c.shipment_id)
                    & (TrackingEvent.occurred_at == newest.c.at)).order_by(TrackingEvent.seq)
        ).all():
            sub_status[shipment_id] = value
    return [facts_of(o, stock=stock, sold=sold, dispute_kinds=disputes.get(o.id, set()), sub_status=sub_status)
            for o in orders]


def facts_of(order: Order, *, stock: dict | None = None, sold: dict | None = None,
             dispute_kinds: set[str] | None = None, sub_status: dict | None = None) -> OrderFacts:
    stock, sold, sub_status = stock or {}, sold or {}, sub_status or {}
    return OrderFacts(
        order_id=order.id, ref=order.ref, status=order.status, created_at=order.created_at,
        total_minor=order.total_minor, paid_minor=order.paid_minor, paid_at=order.paid_at, currency=order.currency,
        phone=order.ship_phone, province=order.ship_province, district=order.ship_district, street=order.ship_street,
        warehouse_id=order.warehouse_id, presale_ships_on=order.presale_ships_on,
        customs_declaration_no=order.customs_declaration_no,
        # What each line still needs beyond the units it already holds in reserve.
        lines=tuple(LineFacts(sku=line.sku, quantity=line.quantity - line.reserved_qty,
                              available=stock.get((line.sku, order.warehouse_id)),
                              sold_24h=sold.get((line.sku, order.warehouse_id), 0)) for line in order.lines),
        shipments=tuple(ShipmentFacts(carrier=s.carrier, tracking_no=s.tracking_no, shipped_at=s.shipped_at, tag=s.tag,
                                      last_event_at=s.last_event_at, last_sub_status=sub_status.get(s.id))
                        for s in sorted(order.shipments, key=lambda s: (s.shipped_at, s.id))),
        open_dispute_kinds=frozenset(dispute_kinds or ()),
    )


def load_rules(session: Session) -> list[RuleSpec]:
    return [spec_of(rule) for rule in session.exec(select(TriageRule).order_by(TriageRule.code)).all()]


def _existing(session: Session, order_ids: list[int], rule_codes: set[str] | None = None) -> dict:
    """(order, rule) -> ("open", None) or ("resolved", {fingerprints}) for the given orders."""
    statement = select(OrderTag.order_id, OrderTag.rule_code, OrderTag.resolved_at, OrderTag.fingerprint).where(
        OrderTag.order_id.in_(order_ids))
    if rule_codes is not None:
        statement = statement.where(OrderTag.rule_code.in_(rule_codes))
    state: dict[tuple[int, str], tuple[str, set[str]]] = {}
    for order_id, code, resolved_at, fingerprint in session.exec(statement).all():
        key = (order_id, code)
        if resolved_at is None:
            state[key] = ("open", set())
        elif state.get(key, ("", set()))[0] != "open":
            state.setdefault(key, ("resolved", set()))[1].add(fingerprint)
    return state


def is_new(hit: Hit, existing: dict) -> bool:
    """Open a tag unless one is open for this order and rule, or the same situation was resolved."""
    kind, fingerprints = existing.get((hit.order_id, hit.rule_code), ("", set()))
    return kind == "" or (kind == "resolved" and hit.fingerprint not in fingerprints)


# --- scan ------------------------------------------------------------------------------------


@dataclass
class ScanResult:
    orders: int = 0
    hits: int = 0
    opened: int = 0
    already_open: int = 0
    kept_resolved: int = 0
    by_rule: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _lock_scan(session: Session) -> None:
    """One scan writes at a time (SQLite's BEGIN IMMEDIATE already serialises writers)."""
    lock_key(session, "triage_scan")


def scan(db: Database, now: datetime | None = None, *, order_ids: list[int] | None = None) -> ScanResult:
    now = now or utcnow()
    result = ScanResult()
    with db.read() as session:
        rules = [r for r in load_rules(session) if r.enabled]
        sold = _sold_last_24h(session, now)
    for _orders, facts in _batches(db, now, sold, order_ids):
        hits = [hit for order_facts in facts for hit in evaluate(order_facts, rules, now)]
        result.orders += len(facts)
        result.hits += len(hits)
        if not hits:
            continue
        with db.write() as session:
            _lock_scan(session)
            # Checked again under the lock: a concurrent scan may have opened some meanwhile.
            existing = _existing(session, sorted({h.order_id for h in hits}))
            for hit in hits:
                kind = existing.get((hit.order_id, hit.rule_code), ("", set()))[0]
                if not is_new(hit, existing):
                    if kind == "open":
                        result.already_open += 1
                    else:
                        result.kept_resolved += 1
                    continue
                session.add(OrderTag(
                    order_id=hit.order_id, tag=hit.tag, rule_code=hit.rule_code, queue=hit.queue,
                    detail=json.dumps(hit.detail, ensure_ascii=False, sort_keys=True), fingerprint=hit.fingerprint,
                    opened_at=now, sla_due_at=now + timedelta(hours=hit.sla_hours)))
                existing[(hit.order_id, hit.rule_code)] = ("open", set())
                result.opened += 1
                result.by_rule[hit.rule_code] += 1
    logger.info("triage scan: %s orders, %s hits, %s tags opened", result.orders, result.hits, result.opened)
    return result


# --- preview ---------------------------------------------------------------------------------


@dataclass
class PreviewOrder:
    ref: str
    channel: str
    status: str
    detail: dict


@dataclass
class Preview:
    matching: int = 0          # orders the edited rule matches
    matching_now: int = 0      # orders the rule as saved matches
    would_tag: int = 0         # of those, how many a scan would open a new tag for
    orders: list[PreviewOrder] = field(default_factory=list)  # the first PREVIEW_LIMIT of would_tag


def preview(db: Database, rule_with_changed_params: RuleSpec, now: datetime | None = None) -> Preview:
    """What a scan would do with the edited rule, computed in a read-only session."""
    now = now or utcnow()
    edited = rule_with_changed_params
    result = Preview()
    with db.read() as session:
        saved = session.exec(select(TriageRule).where(TriageRule.code == edited.code)).first()
        current = spec_of(saved) if saved else None
        sold = _sold_last_24h(session, now)
    for batch, facts in _batches(db, now, sold):
        new_hits = [h for f in facts for h in evaluate(f, [edited], now)]
        result.matching += len(new_hits)
        if current is not None:
            result.matching_now += sum(len(evaluate(f, [current], now)) for f in facts)
        if not new_hits:
            continue
        with db.read() as session:
            existing = _existing(session, [h.order_id for h in new_hits], {edited.code})
        by_id = {o.id: o for o in batch}
        for hit in new_hits:
            if not is_new(hit, existing):
                continue
            result.would_tag += 1
            if len(result.orders) < PREVIEW_LIMIT:
                order = by_id[hit.order_id]
                result.orders.append(PreviewOrder(ref=order.ref, channel=order.channel, status=order.status,
                                                  detail=hit.detail))
    return result
