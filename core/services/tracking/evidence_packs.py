"""Getting an order's evidence pack for a download.

Rendering and signing a pack takes seconds, so it happens before any write transaction (the pack of
a chain state is cached, see evidence.get_or_build_pack); then one short transaction checks the
actor's scope under the order's row lock, records the download and, for staff, the audit entry.
"""

from __future__ import annotations

from sqlmodel import select

from core.config import Settings
from core.db import Database
from core.errors import NotFound
from core.i18n import N_
from core.models import EvidencePack, Order
from core.services.actors import Actor
from core.services.audit import trail as audit
from core.services.identity.permissions import Permission
from core.services.orders import lifecycle as order_service
from core.services.tracking import evidence


def audience_for(actor: Actor) -> str:
    """Whose rendering of the pack the actor gets: the customer's own, full personal data for staff whose
    role may see it, masked for the rest of the staff."""
    if not actor.is_staff:
        return "customer"
    return "staff" if actor.can(Permission.VIEW_FULL_PII) else "masked"


def require_visible(db: Database, actor: Actor, ref: str) -> None:
    """NotFound unless the actor may see the order: checked before anything is rendered for them."""
    with db.read() as session:
        order = session.exec(select(Order).where(Order.ref == ref)).first()
        if order is None:
            raise NotFound(N_("No such order."))
        order_service.require_scope(session, actor, order)


def pack_for_download(db: Database, settings: Settings, actor: Actor, ref: str) -> EvidencePack:
    """The pack of the order's current state in the actor's audience, its download recorded (and, for
    staff, audited as "evidence_download"). A customer downloads only their own order's pack."""
    require_visible(db, actor, ref)
    audience = audience_for(actor)
    pack = build_pack(db, settings, ref, audience=audience)
    with db.write() as session:
        order_service.lock_for(session, actor, ref)
        evidence.record_download(session, pack, actor)
        if actor.is_staff:
            audit.append(session, actor, "evidence_download", order_ref=ref,
                         detail={"digest": pack.digest, "audience": audience})
    return pack


def build_pack(db: Database, settings: Settings, ref: str, *, audience: str) -> EvidencePack:
    """The pack of the order's current state (cached per state), without recording a download."""
    from core.pdf.evidence import render_evidence
    from core.pdf.signing import sign_pdf

    return evidence.get_or_build_pack(
        db, ref, audience=audience,
        render=lambda content, aud: render_evidence(content, aud, settings),
        sign=lambda pdf: sign_pdf(pdf, var_dir=settings.var_dir, p12_path=settings.evidence_signing_p12 or None,
                                  p12_password=settings.evidence_signing_p12_password or None),
    )
