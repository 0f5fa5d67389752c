"""The warehouse hands the parcel to a carrier: the tracking-number rule and the hand-off itself."""

from __future__ import annotations

from datetime import datetime

from core.db import Database
from core.errors import InvalidInput
from core.i18n import N_
from core.models import Carrier, Shipment, utcnow
from core.services.actors import Actor
from core.services.audit import trail as audit
from core.services.orders import lifecycle as order_service

# The bounds the push API's schema sets too (api/schemas.py): they catch a slip of the hand, not a fake.
TRACKING_NO_LENGTH = range(4, 41)


def check_tracking_number(carrier: str, tracking_no: str) -> str:
    """The tracking number as it is stored (trimmed), or InvalidInput naming what to fix."""
    tracking_no = tracking_no.strip()
    if carrier not in set(Carrier) or len(tracking_no) not in TRACKING_NO_LENGTH:
        raise InvalidInput("tracking_no", N_("Choose the carrier and enter the tracking number."))
    return tracking_no


def mark_shipped(db: Database, actor: Actor, ref: str, *, carrier: str, tracking_no: str,
                 at: datetime | None = None) -> Shipment:
    """The parcel leaves with `carrier`. Under the order's row lock, the lock an address change takes
    too, so exactly one of the two wins; a staff member's hand-off is audited in the same transaction."""
    with db.write() as session:
        # The scope check comes first: beyond the actor's scope the order does not exist, whatever was typed.
        order = order_service.lock_for(session, actor, ref)
        tracking_no = check_tracking_number(carrier, tracking_no)
        shipment = order_service.add_shipment(session, order, carrier=carrier, tracking_no=tracking_no,
                                              at=at or utcnow(), actor=actor.name, via=actor.via)
        if actor.is_staff:
            audit.append(session, actor, "mark_shipped", order_ref=ref,
                         detail={"carrier": carrier, "tracking_no": tracking_no})
    return shipment
