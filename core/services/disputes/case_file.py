"""A dispute as staff work it: the page's read (the claim, the shopper's reports and photos,
the replies they were sent, the evidence pack, what may come next) and the audited view of
one of the shopper's photos.

Both are limited to what the staff member may see: a warehouse's staff only their
warehouse's orders; beyond that a dispute does not exist for them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from core.db import Database
from core.errors import NotFound
from core.i18n import N_
from core.models import (
    Dispute,
    DisputeAction,
    DisputePhoto,
    DisputeStatus,
    EvidencePack,
    Order,
    ProblemReport,
    Staff,
)
from core.services.actors import Actor
from core.services.audit import trail as audit
from core.services.disputes.cases import next_states
from core.services.disputes.photos import ShownPhoto, photo_from
from core.services.identity.permissions import Permission
from core.services.orders import lifecycle as order_service
from core.storage import PhotoStorage


@dataclass
class CaseFile:
    dispute: Dispute  # with its timeline (actions)
    order: Order  # fully loaded: history and shipments, for the verdict and the evidence digest
    pack: EvidencePack | None
    owner: Staff | None
    next_states: list[DisputeStatus]
    # The shopper's reports, oldest first, each with its photos.
    reports: list[tuple[ProblemReport, list[DisputePhoto]]]
    # Replies the shopper was sent, with their text.
    replies: list[tuple[DisputeAction, str]]


def _in_scope(actor: Actor, order: Order | None) -> Order:
    if order is None or not actor.may_see(order):
        raise NotFound(N_("No such order."))
    return order


def for_staff(db: Database, actor: Actor, dispute_id: int) -> CaseFile:
    """The dispute page's read; a dispute on an order beyond the actor's scope is not found."""
    with db.read() as session:
        dispute = session.exec(
            select(Dispute).where(Dispute.id == dispute_id).options(selectinload(Dispute.actions))
        ).first()
        if dispute is None:
            raise NotFound(N_("No such dispute."))
        order = _in_scope(actor, session.get(Order, dispute.order_id))
        pack = session.get(EvidencePack, dispute.evidence_pack_id) if dispute.evidence_pack_id else None
        owner = session.get(Staff, dispute.owner_id) if dispute.owner_id else None
        photos: dict[int | None, list[DisputePhoto]] = {}
        for photo in session.exec(select(DisputePhoto).where(DisputePhoto.dispute_id == dispute_id)
                                  .order_by(DisputePhoto.id)).all():
            photos.setdefault(photo.report_id, []).append(photo)
        reports = [(report, photos.get(report.id, [])) for report in session.exec(
            select(ProblemReport).where(ProblemReport.dispute_id == dispute_id).order_by(ProblemReport.id)).all()]
    replies = [(action, json.loads(action.detail).get("text", "")) for action in dispute.actions
               if action.kind == "reply"]
    return CaseFile(dispute=dispute, order=order_service.get_order(db, order.ref), pack=pack, owner=owner,
                    next_states=next_states(dispute), reports=reports, replies=replies)


def _photo_in_scope(session: Session, actor: Actor, dispute_id: int, photo_id: int) -> tuple[DisputePhoto, Order]:
    row = session.exec(
        select(DisputePhoto, Order).join(Dispute, Dispute.id == DisputePhoto.dispute_id)
        .join(Order, Order.id == Dispute.order_id)
        .where(DisputePhoto.id == photo_id, DisputePhoto.dispute_id == dispute_id)
    ).first()
    if row is None:
        raise NotFound(N_("No such photo."))
    photo, order = row
    return photo, _in_scope(actor, order)


def view_photo(db: Database, actor: Actor, dispute_id: int, photo_id: int, *, storage: PhotoStorage) -> ShownPhoto:
    """One of the shopper's photos, for a role allowed to see them; every view is audited.

    The bytes come from the photo store (a bucket is a network call) between a read that finds
    the photo within the actor's scope and the write transaction, so the write lock is never held
    for it; that transaction checks the scope again and appends the audit entry, which therefore
    exists exactly when the photo is handed out."""
    actor.require(Permission.VIEW_CUSTOMER_PHOTOS)
    with db.read() as session:
        photo, _ = _photo_in_scope(session, actor, dispute_id, photo_id)
    shown = photo_from(storage, photo)
    with db.write() as session:
        # Again: retention may have deleted the photo meanwhile.
        _, order = _photo_in_scope(session, actor, dispute_id, photo_id)
        audit.append(session, actor, "photo_view", order_ref=order.ref,
                     detail={"dispute": dispute_id, "photo": photo_id})
    return shown
