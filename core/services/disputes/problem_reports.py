"""The shopper's "report a problem": which kinds apply to an order, the report itself
(a dispute for staff, with the evidence pack and the customer's photos), and what the
shopper sees of the case afterwards (its status and staff replies).

A report for an order and kind that already has an open dispute is added to that
dispute (text, photos, a line in its history) instead of opening a second one."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from core.db import Database
from core.errors import DomainError, NotFound
from core.i18n import N_, translate
from core.models import (
    Customer,
    Dispute,
    DisputeAction,
    DisputePhoto,
    DisputeStatus,
    DisputeType,
    EvidencePack,
    Order,
    OrderStatus,
    ProblemReport,
    utcnow,
)
from core.services.actors import Actor, ActorKind, Forbidden
from core.services.disputes.cases import DEFAULT_DUE, OPEN_STATES
from core.services.disputes.photos import MAX_PHOTOS, PreparedPhoto, ShownPhoto, Upload, photo_from, prepare_all
from core.services.orders import for_customer as customer_orders
from core.services.orders import lifecycle as order_service
from core.storage import PhotoStorage

logger = logging.getLogger("orderdesk.problem_reports")

REPORT_KINDS = (DisputeType.NOT_RECEIVED, DisputeType.DAMAGED, DisputeType.WRONG_ITEM, DisputeType.LATE)
DAILY_LIMIT = 10
MAX_DESCRIPTION = 2000
# How the shopper appears in the dispute's timeline and the order's history: as "the customer",
# whatever their Actor's name (the staff's dispute page shows this word).
CUSTOMER_ACTOR = "customer"
# No complaint about an order that was never paid or was undone.
_NOTHING_TO_REPORT = (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED, OrderStatus.REFUNDED)


def offered_kinds(order: Order, now: datetime | None = None) -> list[DisputeType]:
    """The kinds of problem that make sense for the order right now."""
    now = now or utcnow()
    if order.status in _NOTHING_TO_REPORT:
        return []
    delivered = order.delivered_at is not None or order.status == OrderStatus.DELIVERED
    promise_passed = order.promised_delivery_by is not None and now > order.promised_delivery_by
    late = promise_passed or customer_orders.is_late(order, now)
    kinds = []
    if delivered or promise_passed:
        kinds.append(DisputeType.NOT_RECEIVED)
    if delivered:
        kinds += [DisputeType.DAMAGED, DisputeType.WRONG_ITEM]
    if late:
        kinds.append(DisputeType.LATE)
    return kinds


class ReportErrors(DomainError):
    """Several fields of the form are wrong at once; `errors` maps field -> message id (with params)."""

    def __init__(self, errors: dict[str, tuple[str, dict]]) -> None:
        super().__init__(N_("Please correct the marked fields."))
        self.errors = errors

    def translated_errors(self) -> dict[str, str]:

        return {name: translate(message, params)
                for name, (message, params) in self.errors.items()}


class TooManyReports(DomainError):
    """The customer sent DAILY_LIMIT reports in the last 24 hours."""


@dataclass(frozen=True)
class ReportOutcome:
    dispute_id: int
    merged: bool
    photos: int


def _validate(order: Order, kind: str, description: str, uploads: list[Upload],
              now: datetime) -> tuple[DisputeType, str, list[PreparedPhoto]]:
    from core.errors import InvalidInput

    errors: dict[str, tuple[str, dict]] = {}
    offered = offered_kinds(order, now)
    chosen: DisputeType | None = None
    try:
        chosen = DisputeType(kind)
    except ValueError:
        chosen = None
    if chosen not in offered:
        errors["kind"] = (N_("Choose what went wrong."), {})
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = (N_("Please keep it under %(n)s characters."), {"n": MAX_DESCRIPTION})
    elif chosen == DisputeType.WRONG_ITEM and not description:
        errors["description"] = (N_("Tell us what you received instead."), {})
    photos: list[PreparedPhoto] = []
    try:
        photos = prepare_all(uploads)
    except InvalidInput as exc:
        errors["photos"] = (exc.message, exc.params)
    else:
        if chosen == DisputeType.DAMAGED and not photos:
            errors["photos"] = (N_("Add at least one photo of the damage."), {})
    if errors:
        raise ReportErrors(errors)
    return chosen, description, photos


def _reports_since(session: Session, customer_id: int, since: datetime) -> int:
    return session.exec(select(func.count()).select_from(ProblemReport)
                        .where(ProblemReport.customer_id == customer_id, ProblemReport.created_at > since)).one()


def report_problem(
    db: Database,
    actor: Actor,
    ref: str,
    *,
    storage: PhotoStorage,
    kind: str,
    description: str,
    uploads: list[Upload],
    evidence_pack: Callable[[str], EvidencePack | None] | None = None,
    now: datetime | None = None,
) -> ReportOutcome:
    """The shopper's report: one transaction writes the dispute (or adds to the open one), the report,
    its photos' rows and the order's history, after the shopper's scope is checked again under the
    order's lock.

    Everything slow happens before it, outside any write transaction: the photos are decoded and
    re-encoded (CPU), the evidence pack is built, the photos are put in the store. If the
    transaction fails, the stored photos are deleted again."""
    if actor.kind != ActorKind.CUSTOMER:
        raise Forbidden(N_("No such order."))
    now = now or utcnow()
    order = customer_orders.get_customer_order(db, actor.customer_phone, ref)  # another customer's order: NotFound
    # The limit first: a shopper over it must not make the server decode six photos for a 429.
    with db.read() as session:
        _refuse_over_the_limit(session, order.customer_id, now)
    chosen, description, photos = _validate(order, kind, description, uploads, now)
    pack = None
    if evidence_pack is not None and order.shipments:
        try:
            pack = evidence_pack(ref)
        except Exception:
            # Staff can generate it from the dispute page; the shopper's report must not fail for it.
            logger.exception("evidence pack for %s could not be built with the report", ref)

    stored: list[tuple[str, PreparedPhoto]] = []
    try:
        for photo in photos:
            key = f"disputes/{order.id}/{uuid.uuid4().hex}.jpg"
            storage.put(key, photo.data, photo.media_type)
            stored.append((key, photo))
        outcome = _record(db, actor, ref, chosen, description, stored, pack, now)
    except BaseException:
        for key, _ in stored:
            try:
                storage.delete(key)
            except Exception:
                logger.exception("could not remove photo %s after a failed report", key)
        raise
    return outcome


def _refuse_over_the_limit(session: Session, customer_id: int, now: datetime) -> None:
    if _reports_since(session, customer_id, now - timedelta(days=1)) >= DAILY_LIMIT:
        raise TooManyReports(N_("You have sent %(n)s reports today. Please wait a day or contact us."),
                             n=DAILY_LIMIT)


def _record(db: Database, actor: Actor, ref: str, kind: DisputeType, description: str,
            stored: list[tuple[str, PreparedPhoto]], pack: EvidencePack | None, now: datetime) -> ReportOutcome:
    with db.write() as session:
        locked = order_service.lock_for(session, actor, ref)
        # Again under the order's lock: two tabs submitting at once do not both pass.
        _refuse_over_the_limit(session, locked.customer_id, now)
        dispute = session.exec(
            select(Dispute).where(Dispute.order_id == locked.id, Dispute.kind == kind.value,
                                  Dispute.status.in_(OPEN_STATES))
            .order_by(Dispute.created_at).limit(1).with_for_update()
        ).first()
        merged = dispute is not None
        if dispute is None:
            dispute = Dispute(order_id=locked.id, kind=kind.value, claim=description[:4000], due_at=now + DEFAULT_DUE,
                              owner_id=None, created_at=now, updated_at=now)
            session.add(dispute)
            session.flush()
        report = ProblemReport(dispute_id=dispute.id, customer_id=locked.customer_id, kind=kind.value,
                               description=description, created_at=now)
        session.add(report)
        session.flush()
        for key, photo in stored:
            session.add(DisputePhoto(dispute_id=dispute.id, report_id=report.id, storage_key=key,
                                     media_type=photo.media_type, size_bytes=len(photo.data), width=photo.width,
                                     height=photo.height, original_name=photo.original_name, created_at=now))
        detail = {"report": report.id, "photos": len(stored), "via": actor.via}
        if merged:
            session.add(_action(dispute, "customer_report", now, **detail))
        else:
            session.add(_action(dispute, "opened", now, dispute_kind=kind.value, **detail))
        if pack is not None and pack.id != dispute.evidence_pack_id:
            previous = session.get(EvidencePack, dispute.evidence_pack_id) if dispute.evidence_pack_id else None
            dispute.evidence_pack_id = pack.id
            if dispute.status == DisputeStatus.OPEN:
                dispute.status = DisputeStatus.EVIDENCE_READY
            session.add(_action(dispute, "evidence", now, digest=pack.digest, events=pack.event_count,
                                new_version=previous is None or previous.digest != pack.digest))
        dispute.updated_at = now
        session.add(dispute)
        order_service.record(session, locked, "problem_reported", actor=CUSTOMER_ACTOR, via=actor.via, at=now,
                             detail={"dispute": dispute.id, "kind": kind.value, "merged": merged})
        dispute_id = dispute.id
    return ReportOutcome(dispute_id=dispute_id, merged=merged, photos=len(stored))


def _action(dispute: Dispute, kind: str, at: datetime, **detail: object) -> DisputeAction:
    return DisputeAction(dispute_id=dispute.id, actor=CUSTOMER_ACTOR, kind=kind, at=at,
                         detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str))


def forget_customer_content(session: Session, order_ids: list[int]) -> list[str]:
    """Retention: the shopper's words and photos of these orders go (a parcel photo often
    shows the label: name, phone, address). Deletes the rows in the caller's transaction
    and returns the storage keys to delete once it has committed."""
    if not order_ids:
        return []
    dispute_ids = select(Dispute.id).where(Dispute.order_id.in_(order_ids))
    photos = list(session.exec(select(DisputePhoto).where(DisputePhoto.dispute_id.in_(dispute_ids))).all())
    for photo in photos:
        session.delete(photo)
    for report in session.exec(select(ProblemReport).where(ProblemReport.dispute_id.in_(dispute_ids),
                                                           ProblemReport.description != "")).all():
        report.description = ""
        session.add(report)
    for dispute in session.exec(select(Dispute).where(Dispute.order_id.in_(order_ids), Dispute.claim != "")).all():
        dispute.claim = ""
        session.add(dispute)
    return [photo.storage_key for photo in photos]


# --- what the shopper sees ---------------------------------------------------------------------


@dataclass
class CaseMessage:
    at: datetime
    from_customer: bool
    text: str
    photos: list[DisputePhoto] = field(default_factory=list)


@dataclass
class CustomerCase:
    dispute: Dispute
    messages: list[CaseMessage]


def cases_for_order(db: Database, order_id: int) -> list[CustomerCase]:
    """The customer's cases on this order, newest first: their reports and the staff
    replies, oldest first within a case. Internal notes and steps are not shown.
    One query when there are none (the usual order page)."""
    with db.read() as session:
        reports = list(session.exec(
            select(ProblemReport, Dispute).join(Dispute, Dispute.id == ProblemReport.dispute_id)
            .where(Dispute.order_id == order_id).order_by(ProblemReport.id)
        ).all())
        if not reports:
            return []
        dispute_ids = sorted({d.id for _, d in reports})
        photos = list(session.exec(select(DisputePhoto).where(DisputePhoto.dispute_id.in_(dispute_ids))
                                   .order_by(DisputePhoto.id)).all())
        replies = list(session.exec(select(DisputeAction).where(DisputeAction.dispute_id.in_(dispute_ids),
                                                                DisputeAction.kind == "reply")
                                    .order_by(DisputeAction.id)).all())
    by_report: dict[int, list[DisputePhoto]] = {}
    for photo in photos:
        by_report.setdefault(photo.report_id, []).append(photo)
    cases: dict[int, CustomerCase] = {}
    for report, dispute in reports:
        case = cases.setdefault(dispute.id, CustomerCase(dispute=dispute, messages=[]))
        case.messages.append(CaseMessage(at=report.created_at, from_customer=True, text=report.description,
                                         photos=by_report.get(report.id, [])))
    for reply in replies:
        cases[reply.dispute_id].messages.append(
            CaseMessage(at=reply.at, from_customer=False, text=json.loads(reply.detail).get("text", "")))
    for case in cases.values():
        case.messages.sort(key=lambda m: m.at)
    return sorted(cases.values(), key=lambda c: c.dispute.created_at, reverse=True)


def customer_photo(db: Database, actor: Actor, ref: str, photo_id: int, *, storage: PhotoStorage) -> ShownPhoto:
    """One of the shopper's own photos: it belongs to a case on this order and the actor owns the order."""
    if actor.kind != ActorKind.CUSTOMER:
        raise NotFound(N_("No such photo."))
    with db.read() as session:
        photo = session.exec(
            select(DisputePhoto)
            .join(Dispute, Dispute.id == DisputePhoto.dispute_id)
            .join(Order, Order.id == Dispute.order_id)
            .join(Customer, Customer.id == Order.customer_id)
            .where(DisputePhoto.id == photo_id, Order.ref == ref, Customer.phone == actor.customer_phone)
        ).first()
    if photo is None:
        raise NotFound(N_("No such photo."))
    return photo_from(storage, photo)


__all__ = ["MAX_PHOTOS", "REPORT_KINDS", "ReportErrors", "TooManyReports", "cases_for_order", "offered_kinds",
           "report_problem"]
