"""A dispute's evidence pack: generating it (it becomes the dispute's evidence) and downloading it.

As for an order's pack (core.services.tracking.evidence_packs), the rendering runs before the write
transaction; the transaction checks scope under the order's row lock, records and audits.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Settings
from core.db import Database
from core.models import EvidencePack, Order
from core.services.actors import Actor
from core.services.audit import trail as audit
from core.services.disputes import cases
from core.services.identity.permissions import Permission
from core.services.orders import lifecycle as order_service
from core.services.tracking import evidence
from core.services.tracking.evidence_packs import audience_for, build_pack, require_visible


@dataclass(frozen=True)
class DisputePack:
    order: Order
    pack: EvidencePack | None  # None: no pack was generated for the dispute yet
    new_version: bool = False  # generated: the chain grew since the pack attached before


def generate_pack(db: Database, settings: Settings, actor: Actor, dispute_id: int) -> DisputePack:
    """The pack of the order's current state becomes the dispute's evidence (an open dispute is then
    "evidence ready"), recorded as a download by the actor and audited as "evidence_generate"."""
    actor.require(Permission.CREATE_DISPUTE)
    _dispute, order, _attached = cases.get(db, dispute_id)
    require_visible(db, actor, order.ref)
    pack = build_pack(db, settings, order.ref, audience=audience_for(actor))
    with db.write() as session:
        order_service.lock_for(session, actor, order.ref)
        evidence.record_download(session, pack, actor)
        is_new = cases.attach_evidence(session, actor, dispute_id, pack)
        audit.append(session, actor, "evidence_generate", order_ref=order.ref,
                     detail={"dispute": dispute_id, "digest": pack.digest, "new_version": is_new})
    return DisputePack(order=order, pack=pack, new_version=is_new)


def download_pack(db: Database, settings: Settings, actor: Actor, dispute_id: int) -> DisputePack:
    """The dispute's attached pack, recorded and audited as "evidence_download". A pack rendered with
    full personal data goes only to roles that may see it; the others get the masked rendering of the
    same chain state."""
    actor.require(Permission.VIEW_ORDER)
    _dispute, order, pack = cases.get(db, dispute_id)
    require_visible(db, actor, order.ref)
    if pack is None:
        return DisputePack(order=order, pack=None)
    if pack.audience == "staff" and not actor.can(Permission.VIEW_FULL_PII):
        pack = build_pack(db, settings, order.ref, audience="masked")
    with db.write() as session:
        order_service.lock_for(session, actor, order.ref)
        evidence.record_download(session, pack, actor)
        audit.append(session, actor, "evidence_download", order_ref=order.ref,
                     detail={"dispute": dispute_id, "digest": pack.digest, "audience": pack.audience})
    return DisputePack(order=order, pack=pack)
