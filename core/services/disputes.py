"""Disputes: a claim on an order, its owner and due date, its evidence and outcome."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case
from sqlalchemy.orm import selectinload
from sqlmodel import select

from core.config import get_settings
from core.db import Database
from core.errors import InvalidInput, NotFound, TransitionNotAllowed
from core.i18n import N_
from core.models import Dispute, DisputeAction, DisputeStatus, DisputeType, EvidencePack, Order, Staff, utcnow
from core.services import orders as order_service

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
# The outcomes a customer hears about; internal steps (evidence ready) are not texted.
CUSTOMER_VISIBLE = (DisputeStatus.SUBMITTED, DisputeStatus.WON, DisputeStatus.LOST, DisputeStatus.WITHDRAWN)


def _act(dispute: Dispute, actor: str, action: str, **detail: object) -> DisputeAction:
    return DisputeAction(dispute_id=dispute.id, actor=actor, kind=action,
                         detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str))


def open_dispute(db: Database, staff: Staff, ref: str, *, kind: str, claim: str, due_at: datetime | None = None,
                 owner_id: int | None = None, now: datetime | None = None) -> Dispute:
    now = now or utcnow()
    try:
        DisputeType(kind)
    except ValueError as exc:
        raise InvalidInput("kind", N_("Choose the kind of dispute.")) from exc
    claim = claim.strip()
    if not claim:
        raise InvalidInput("claim", N_("Write down what the customer claims."))
    due = due_at or now + DEFAULT_DUE
    if due <= now:
        raise InvalidInput("due_at", N_("The due date must be in the future."))
    with db.write() as session:
        order = order_service.lock_order(session, ref)
        dispute = Dispute(order_id=order.id, kind=kind, claim=claim[:4000], due_at=due,
                          owner_id=owner_id or staff.id, created_at=now, updated_at=now)
        session.add(dispute)
        session.flush()
        session.add(_act(dispute, staff.email, "opened", dispute_kind=kind))
        order_service.record(session, order, "dispute_opened", actor=staff.email, via="admin",
                             detail={"dispute": dispute.id, "kind": kind})
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


def attach_evidence(db: Database, staff: Staff, dispute_id: int, pack: EvidencePack) -> bool:
    """Attach a pack; True when it is a new version (the chain grew since the last one)."""
    with db.write() as session:
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
        session.add(_act(dispute, staff.email, "evidence", digest=pack.digest, events=pack.event_count,
                         new_version=is_new))
    return is_new


def set_status(db: Database, staff: Staff, dispute_id: int, status: str, note: str = "") -> Dispute:
    try:
        target = DisputeStatus(status)
    except ValueError as exc:
        raise InvalidInput("status", N_("Unknown dispute status.")) from exc
    with db.write() as session:
        dispute = session.exec(select(Dispute).where(Dispute.id == dispute_id).with_for_update()).first()
        if dispute is None:
            raise NotFound(N_("No such dispute."))
        current = DisputeStatus(dispute.status)
        if target not in NEXT_STATES[current]:
            raise TransitionNotAllowed(N_("A dispute that is %(current)s cannot become %(new)s."),
                                       current=current.value, new=target.value)
        dispute.status = target
        dispute.updated_at = utcnow()
        session.add(dispute)
        session.add(_act(dispute, staff.email, "status", to=target.value, note=note.strip()[:500]))
        if target in CUSTOMER_VISIBLE:
            from core.i18n import translations_for
            from core.labels import DISPUTE_STATUS
            from core.services import notifications
            from core.services.tracking_links import link_url

            order = session.get(Order, dispute.order_id)
            notifications.enqueue(session, order, "dispute_update", {
                "status": translations_for("zh_CN").gettext(DISPUTE_STATUS[target.value]), "link": link_url(order, get_settings())},
                dedupe_key=f"dispute:{dispute.id}:{target.value}")
    return dispute


@dataclass
class DisputeBoard:
    disputes: list[tuple[Dispute, Order]]
    by_status: Counter
    by_kind: Counter
    overdue: int


def board(db: Database, *, status: str = "", kind: str = "", now: datetime | None = None) -> DisputeBoard:
    now = now or utcnow()
    overdue_first = case((Dispute.status.in_(OPEN_STATES) & (Dispute.due_at < now), 0), else_=1)
    with db.read() as session:
        statement = select(Dispute, Order).join(Order, Order.id == Dispute.order_id)
        if status:
            statement = statement.where(Dispute.status == status)
        if kind:
            statement = statement.where(Dispute.kind == kind)
        rows = list(session.exec(statement.order_by(overdue_first, Dispute.due_at).limit(500)).all())
        all_rows = session.exec(select(Dispute.status, Dispute.kind, Dispute.due_at)).all()
    by_status = Counter(s for s, _, _ in all_rows)
    by_kind = Counter(k for _, k, _ in all_rows)
    overdue = sum(1 for s, _, due in all_rows if s in OPEN_STATES and due < now)
    return DisputeBoard(disputes=[(d, o) for d, o in rows], by_status=by_status, by_kind=by_kind, overdue=overdue)


def for_order(db: Database, order_id: int) -> list[Dispute]:
    with db.read() as session:
        return list(session.exec(select(Dispute).where(Dispute.order_id == order_id)
                                 .order_by(Dispute.created_at.desc())).all())
