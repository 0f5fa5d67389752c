"""Service terms: versions are published, never edited; orders keep the version in force."""

from __future__ import annotations

from sqlmodel import select

from core.db import Database
from core.models import ServiceTerms, utcnow
from core.services.orders.lifecycle import terms_in_force


def current_terms(db: Database) -> ServiceTerms | None:
    with db.read() as session:
        return terms_in_force(session, utcnow())


def all_versions(db: Database) -> list[ServiceTerms]:
    with db.read() as session:
        return list(session.exec(select(ServiceTerms).order_by(ServiceTerms.effective_from.desc())).all())
