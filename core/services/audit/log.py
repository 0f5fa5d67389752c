"""Reading the audit trail: search, export, and checking its hash chain."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import func, select

from core.db import Database
from core.models import AuditEntry
from core.paging import clamp_page
from core.services.audit.trail import link
from core.services.tracking.chain import GENESIS

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditCheck:
    intact: bool
    entries: int
    problem: str | None = None


def verify(db: Database) -> AuditCheck:
    prev, expected = GENESIS, 1
    count = 0
    with db.read() as session:
        for entry in session.exec(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000):
            count += 1
            if entry.seq != expected:
                return AuditCheck(False, count, f"entry #{expected} is missing (removed?)")
            if entry.prev_hash != prev or link(prev, entry) != entry.entry_hash:
                return AuditCheck(False, count, f"entry #{entry.seq} was altered after it was written")
            prev, expected = entry.entry_hash, expected + 1
    return AuditCheck(True, count)


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    page: int
    has_next: bool
    total: int


def search(db: Database, *, actor: str = "", order_ref: str = "", action: str = "", page: int = 1,
           limit: int | None = PAGE_SIZE) -> AuditPage:
    page = clamp_page(page)
    statement = select(AuditEntry)
    if actor:
        statement = statement.where(AuditEntry.actor == actor.strip().lower())
    if order_ref:
        statement = statement.where(AuditEntry.order_ref == order_ref.strip().upper())
    if action:
        statement = statement.where(AuditEntry.action == action)
    with db.read() as session:
        total = session.exec(select(func.count()).select_from(statement.subquery())).one()
        query = statement.order_by(AuditEntry.seq.desc())
        if limit is not None:
            query = query.offset((page - 1) * limit).limit(limit + 1)
        rows = list(session.exec(query).all())
    has_next = limit is not None and len(rows) > limit
    return AuditPage(entries=rows[:limit] if limit else rows, page=page, has_next=has_next, total=total)
