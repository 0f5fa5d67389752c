"""Signed, expiring, revocable tracking links (/t/<token>) for SMS and QR codes.

The token names the order by its reference only; it carries no personal data.
It is signed with SECRET_KEY, expires, and dies when the order's link version
is bumped (revocation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import joinedload
from sqlmodel import select

from core.config import Settings
from core.db import Database
from core.errors import NotFound
from core.i18n import N_
from core.models import Order, Shipment, utcnow
from core.services.orders.for_customer import TIMELINE_COLUMNS
from core.signatures import same_secret


def _signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), b"track:" + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def make_token(order: Order, *, secret: str, valid_for: timedelta, now: datetime | None = None) -> str:
    expires = int(((now or utcnow()) + valid_for).timestamp())
    payload = f"{order.ref}.{order.link_version}.{expires:x}"
    return f"{payload}.{_signature(secret, payload)}"


def resolve(db: Database, token: str, *, secret: str, now: datetime | None = None) -> Order:
    """The order behind a valid token; NotFound for anything forged, expired or revoked."""
    parts = token.split(".")
    if len(parts) != 4:
        raise NotFound(N_("This tracking link is not valid."))
    ref, version, expires_hex, signature = parts
    payload = f"{ref}.{version}.{expires_hex}"
    if not same_secret(_signature(secret, payload), signature):
        raise NotFound(N_("This tracking link is not valid."))
    try:
        expires = int(expires_hex, 16)
        version_no = int(version)
    except ValueError as exc:
        raise NotFound(N_("This tracking link is not valid.")) from exc
    if (now or utcnow()).timestamp() > expires:
        raise NotFound(N_("This tracking link has expired."))
    with db.read() as session:
        # What the tracking page shows: shipments, their events, the terms behind the expected date.
        order = session.exec(
            select(Order)
            .where(Order.ref == ref)
            .options(joinedload(Order.terms),
                     joinedload(Order.shipments).selectinload(Shipment.events).load_only(*TIMELINE_COLUMNS))
        ).unique().first()
    if order is None or order.link_version != version_no:
        raise NotFound(N_("This tracking link is not valid."))
    return order


def revoke(db: Database, ref: str) -> int:
    """Invalidate every link handed out for the order; returns the new link version."""
    with db.write() as session:
        # One statement reads and bumps the version: two revocations at once both count.
        version = session.execute(
            update(Order).where(Order.ref == ref).values(link_version=Order.link_version + 1)
            .returning(Order.link_version)
        ).scalar_one_or_none()
    if version is None:
        raise NotFound(N_("No such order."))
    return version


def link_url(order: Order, settings: Settings, now: datetime | None = None) -> str:
    """The public tracking URL for SMS and QR codes."""
    token = make_token(order, secret=settings.secret_key, valid_for=timedelta(days=settings.tracking_link_days),
                       now=now)
    return f"{settings.public_base_url}/t/{token}"
