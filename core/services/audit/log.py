"""Reading the audit trail: search, checking its hash chain, and the export (itself audited)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, func, select

from core.db import Database
from core.models import AuditEntry
from core.paging import clamp_page
from core.services.actors import Actor
from core.services.audit.trail import append, link
from core.services.identity.permissions import Permission
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
    with db.read() as session:
        return _search(session, actor=actor, order_ref=order_ref, action=action, page=page, limit=limit)


def export(db: Database, actor: Actor, *, actor_filter: str = "", order_ref: str = "", action: str = "") -> AuditPage:
    """Every entry a search finds, for a download: handed out only with the export's own entry written
    (appended after the read, so the download does not contain it)."""
    actor.require(Permission.MANAGE_STAFF)
    with db.write() as session:
        result = _search(session, actor=actor_filter, order_ref=order_ref, action=action, limit=None)
        append(session, actor, "export_audit",
               detail={"rows": result.total, "actor": actor_filter, "order": order_ref, "action": action})
    return result


def _search(session: Session, *, actor: str, order_ref: str, action: str, page: int = 1,
            limit: int | None) -> AuditPage:
    page = clamp_page(page)
    statement = select(AuditEntry)
    if actor:
        statement = statement.where(AuditEntry.actor == actor.strip().lower())
    if order_ref:
        statement = statement.where(AuditEntry.order_ref == order_ref.strip().upper())
    if action:
        statement = statement.where(AuditEntry.action == action)
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    query = statement.order_by(AuditEntry.seq.desc())
    if limit is not None:
        query = query.offset((page - 1) * limit).limit(limit + 1)
    rows = list(session.exec(query).all())
    has_next = limit is not None and len(rows) > limit
    return AuditPage(entries=rows[:limit] if limit else rows, page=page, has_next=has_next, total=total)
