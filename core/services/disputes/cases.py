"""Disputes: a claim on an order, its owner and due date, its evidence and outcome.

Every staff action on a dispute is one use case and one transaction: the check that the
staff member may touch the order (a warehouse's staff: their warehouse's orders only),
under the order's row lock, the change, the line in the dispute's timeline and the
order's history, the text to the customer, and the audit entry. If any of them cannot be
written, none is."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import func, true
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from core.config import get_settings
from core.db import Database
from core.errors import InvalidInput, NotFound, TransitionNotAllowed
from core.i18n import N_, translations_for
from core.labels import CASE_STATUS
from core.models import Dispute, DisputeAction, DisputeStatus, DisputeType, EvidencePack, Order, utcnow
from core.services.actors import Actor
from core.services.audit import trail as audit
from core.services.identity.permissions import Permission
from core.services.messaging import outbox as notifications
from core.services.orders import lifecycle as order_service

OPEN_STATES = (DisputeStatus.OPEN, DisputeStatus.EVIDENCE_READY, DisputeStatus.SUBMITTED)
NEXT_STATES = {
    DisputeStatus.OPEN: {DisputeStatus.EVIDENCE_READY, DisputeStatus.SUBMITTED, DisputeStatus.WITHDRAWN},
    DisputeStatus.EVIDENCE_READY: {DisputeStatus.SUBMITTED, DisputeStatus.WITHDRAWN},
    DisputeStatus.SUBMITTED: {DisputeStatus.WON, DisputeStatus.LOST, DisputeStatus.WITHDRAWN},
    DisputeStatus.WON: set(),
    DisputeStatus.LOST: set(),
    DisputeStatus.WITHDRAWN: set(),
}
DEFAULT_DUE = timedelta(days=3)
# A due date chosen as a day means the end of that working day, in the shop's time zone.
DUE_TIME_OF_DAY = time(18, 0)
# The outcomes a customer hears about; internal steps (evidence ready) are not texted.
CUSTOMER_VISIBLE = (DisputeStatus.SUBMITTED, DisputeStatus.WON, DisputeStatus.LOST, DisputeStatus.WITHDRAWN)
MAX_REPLY = 2000


def next_states(dispute: Dispute) -> list[DisputeStatus]:
    """What the dispute may become from here, in a stable order for the status form."""
    return sorted(NEXT_STATES[DisputeStatus(dispute.status)])


def is_overdue(dispute: Dispute, now: datetime) -> bool:
    """Still being worked and past its due date."""
    return dispute.status in OPEN_STATES and dispute.due_at < now


def due_at_for(due_on: str | date | None, tz: tzinfo) -> datetime | None:
    """The moment a due date chosen as a day falls due: that day at 18:00 in `tz`.
    None when no day is given or it is not a date (the dispute then gets the default)."""
    if not due_on:
        return None
    if isinstance(due_on, str):
        try:
            due_on = datetime.fromisoformat(due_on).date()
        except ValueError:
            return None
    elif isinstance(due_on, datetime):
        due_on = due_on.date()
    return datetime.combine(due_on, DUE_TIME_OF_DAY, tz)


def _act(dispute: Dispute, actor: str, action: str, **detail: object) -> DisputeAction:
    return DisputeAction(dispute_id=dispute.id, actor=actor, kind=action,
                         detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str))


def _lock_dispute(session: Session, actor: Actor, dispute_id: int) -> tuple[Dispute, Order]:
    """The dispute and its order, both locked, if the actor may touch the order. The order is
    locked first, as every order use case (and the shopper's report) does, so two of them
    never wait on each other's locks."""
    ref = session.exec(select(Order.ref).join(Dispute, Dispute.order_id == Order.id)
                       .where(Dispute.id == dispute_id)).first()
    if ref is None:
        raise NotFound(N_("No such dispute."))
    order = order_service.lock_for(session, actor, ref)
    dispute = session.exec(select(Dispute).where(Dispute.id == dispute_id).with_for_update()).one()
    return dispute, order


def open_dispute(db: Database, actor: Actor, ref: str, *, kind: str, claim: str, due_on: str | date | None = None,
                 due_at: datetime | None = None, owner_id: int | None = None,
                 now: datetime | None = None) -> Dispute:
    """Open a dispute on an order. `due_on` is the day staff chose on the form (18:00 that day),
    `due_at` an exact moment; without either the dispute is due in DEFAULT_DUE."""
    actor.require(Permission.CREATE_DISPUTE)
    now = now or utcnow()
    try:
        DisputeType(kind)
    except ValueError as exc:
        raise InvalidInput("kind", N_("Choose the kind of dispute.")) from exc
    claim = claim.strip()
    if not claim:
        raise InvalidInput("claim", N_("Write down what the customer claims."))
    due = due_at or due_at_for(due_on, get_settings().tz) or now + DEFAULT_DUE
    if due <= now:
        raise InvalidInput("due_at", N_("The due date must be in the future."))
    with db.write() as session:
        order = order_service.lock_for(session, actor, ref)
        dispute = Dispute(order_id=order.id, kind=kind, claim=claim[:4000], due_at=due,
                          owner_id=owner_id or actor.staff_id, created_at=now, updated_at=now)
        session.add(dispute)
        session.flush()
        session.add(_act(dispute, actor.name, "opened", dispute_kind=kind))
        order_service.record(session, order, "dispute_opened", actor=actor.name, via=actor.via,
                             detail={"dispute": dispute.id, "kind": kind})
        audit.append(session, actor, "open_dispute", order_ref=order.ref, detail={"dispute": dispute.id, "kind": kind})
    return dispute


def get(db: Database, dispute_id: int) -> tuple[Dispute, Order, EvidencePack | None]:
    with db.read() as session:
        dispute = session.exec(
            select(Dispute).where(Dispute.id == dispute_id).options(selectinload(Dispute.actions))
        ).first()
        if dispute is None:
            raise NotFound(N_("No such dispute."))
        order = session.get(Order, dispute.order_id)
        pack = session.get(EvidencePack, dispute.evidence_pack_id) if dispute.evidence_pack_id else None
    return dispute, order, pack


def attach_evidence(session: Session, actor: Actor, dispute_id: int, pack: EvidencePack) -> bool:
    """Attach a pack in the caller's transaction; True when it is a new version (the chain grew since the
    last one). The use case is core.services.disputes.evidence.generate_pack."""
    dispute = session.exec(select(Dispute).where(Dispute.id == dispute_id).with_for_update()).first()
    if dispute is None:
        raise NotFound(N_("No such dispute."))
    previous = session.get(EvidencePack, dispute.evidence_pack_id) if dispute.evidence_pack_id else None
    is_new = previous is None or previous.digest != pack.digest
    dispute.evidence_pack_id = pack.id
    if dispute.status == DisputeStatus.OPEN:
        dispute.status = DisputeStatus.EVIDENCE_READY
    dispute.updated_at = utcnow()
    session.add(dispute)
    session.add(_act(dispute, actor.name, "evidence", digest=pack.digest, events=pack.event_count,
                     new_version=is_new))
    return is_new


def set_status(db: Database, actor: Actor, dispute_id: int, status: str, note: str = "") -> Dispute:
    """Move the dispute on (NEXT_STATES); an outcome the customer hears about is texted to them."""
    actor.require(Permission.CREATE_DISPUTE)
    try:
        target = DisputeStatus(status)
    except ValueError as exc:
        raise InvalidInput("status", N_("Unknown dispute status.")) from exc
    with db.write() as session:
        dispute, order = _lock_dispute(session, actor, dispute_id)
        current = DisputeStatus(dispute.status)
        if target not in NEXT_STATES[current]:
            raise TransitionNotAllowed(N_("A dispute that is %(current)s cannot become %(new)s."),
                                       current=current.value, new=target.value)
        dispute.status = target
        dispute.updated_at = utcnow()
        session.add(dispute)
        session.add(_act(dispute, actor.name, "status", to=target.value, note=note.strip()[:500]))
        if target in CUSTOMER_VISIBLE:
            # The status in the shopper's words (not "won"/"lost"), and the order page, where the case is shown.
            notifications.enqueue(session, order, "dispute_update", {
                "status": translations_for("zh_CN").gettext(CASE_STATUS[target.value]), "link": _order_page(order)},
                dedupe_key=f"dispute:{dispute.id}:{target.value}")
        audit.append(session, actor, "dispute_status", order_ref=order.ref,
                     detail={"dispute": dispute.id, "status": target.value})
    return dispute


def _order_page(order: Order) -> str:
    return f"{get_settings().public_base_url}/orders/{order.ref}"


def reply_to_customer(db: Database, actor: Actor, dispute_id: int, text: str) -> DisputeAction:
    """A reply the shopper reads on the order page, and is told about by text message.
    Internal notes stay on the status form."""
    actor.require(Permission.CREATE_DISPUTE)
    text = text.strip()
    if not text:
        raise InvalidInput("reply", N_("Write the reply to the customer."))
    if len(text) > MAX_REPLY:
        raise InvalidInput("reply", N_("Please keep it under %(n)s characters."), n=MAX_REPLY)
    with db.write() as session:
        dispute, order = _lock_dispute(session, actor, dispute_id)
        dispute.updated_at = utcnow()
        session.add(dispute)
        action = _act(dispute, actor.name, "reply", text=text)
        session.add(action)
        session.flush()
        order_service.record(session, order, "reply", actor=actor.name, via=actor.via,
                             detail={"dispute": dispute.id})
        notifications.enqueue(session, order, "dispute_update", {
            "status": translations_for("zh_CN").gettext(N_("customer service replied")),
            "link": _order_page(order)},
            dedupe_key=f"dispute:{dispute.id}:reply:{action.id}")
        audit.append(session, actor, "dispute_reply", order_ref=order.ref, detail={"dispute": dispute.id})
    return action


BOARD_SIZE = 50


@dataclass
class DisputeBoard:
    disputes: list[tuple[Dispute, Order]]
    by_status: Counter
    by_kind: Counter
    overdue: int
    # How many disputes match the filters (the list shows the BOARD_SIZE most urgent).
    matching: int = 0
    now: datetime | None = None

    def is_overdue(self, dispute: Dispute) -> bool:
        """Overdue as of the moment the board was read, so the list and the tile agree."""
        return is_overdue(dispute, self.now or utcnow())


def board(db: Database, actor: Actor, *, status: str = "", kind: str = "", now: datetime | None = None) -> DisputeBoard:
    """The most urgent disputes first: open ones past their due date, then all others
    by due date. Two index walks (status+due, due) stopped at BOARD_SIZE, and counts
    done by the database, so the board costs the same with ten disputes or ten thousand.
    Only the disputes on orders the actor may open are listed and counted (warehouse staff: their
    warehouse's), as each dispute page is a 404 beyond that scope."""
    now = now or utcnow()
    overdue_open = Dispute.status.in_(OPEN_STATES) & (Dispute.due_at < now)
    scope = actor.orders_in_scope()
    in_scope = true() if scope is None else Dispute.order_id.in_(select(Order.id).where(scope))
    with db.read() as session:
        statement = select(Dispute, Order).join(Order, Order.id == Dispute.order_id).where(in_scope)
        filters = []
        if status:
            filters.append(Dispute.status == status)
        if kind:
            filters.append(Dispute.kind == kind)
        statement = statement.where(*filters)
        rows = list(session.exec(statement.where(overdue_open).order_by(Dispute.due_at).limit(BOARD_SIZE)).all())
        if len(rows) < BOARD_SIZE:
            rows += session.exec(statement.where(~overdue_open).order_by(Dispute.due_at)
                                 .limit(BOARD_SIZE - len(rows))).all()
        by_status = Counter(dict(session.exec(select(Dispute.status, func.count()).where(in_scope)
                                              .group_by(Dispute.status)).all()))
        by_kind = Counter(dict(session.exec(select(Dispute.kind, func.count()).where(in_scope)
                                            .group_by(Dispute.kind)).all()))
        overdue = session.exec(select(func.count()).select_from(Dispute).where(overdue_open, in_scope)).one()
        if status and kind:
            matching = session.exec(select(func.count()).select_from(Dispute).where(*filters, in_scope)).one()
        else:
            matching = by_status[status] if status else by_kind[kind] if kind else sum(by_status.values())
    return DisputeBoard(disputes=[(d, o) for d, o in rows], by_status=by_status, by_kind=by_kind, overdue=overdue,
                        matching=matching, now=now)


def for_order(db: Database, order_id: int) -> list[Dispute]:
    with db.read() as session:
        return list(session.exec(select(Dispute).where(Dispute.order_id == order_id)
                                 .order_by(Dispute.created_at.desc())).all())
