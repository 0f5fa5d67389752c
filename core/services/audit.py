"""The staff audit trail: append-only, hash-chained, searchable, exportable."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, func, select

from core.db import Database, lock_key
from core.models import AuditEntry, Staff, utcnow
from core.services.tracking.chain import GENESIS

PAGE_SIZE = 50


def _canonical(entry: AuditEntry) -> bytes:
    return json.dumps(
        {"seq": entry.seq, "at": entry.at.isoformat(timespec="microseconds"), "staff_id": entry.staff_id,
         "actor": entry.actor, "action": entry.action, "order_ref": entry.order_ref, "detail": entry.detail,
         "client_ip": entry.client_ip},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    ).encode()


def _link(prev: str, entry: AuditEntry) -> str:
    return hashlib.sha256(prev.encode() + b"\n" + _canonical(entry)).hexdigest()


def _lock_chain(session: Session) -> None:
    """One writer at a time extends the chain (SQLite's BEGIN IMMEDIATE already serialises)."""
    lock_key(session, "audit_log")


def append(session: Session, *, staff: Staff | None, action: str, order_ref: str | None = None,
           detail: dict | None = None, client_ip: str = "", at: datetime | None = None) -> AuditEntry:
    _lock_chain(session)
    head = session.exec(select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    entry = AuditEntry(
        seq=seq, at=at or utcnow(), staff_id=staff.id if staff else None,
        actor=staff.email if staff else "system", action=action, order_ref=order_ref,
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True), client_ip=client_ip[:45],
        prev_hash=prev, entry_hash="",
    )
    entry.entry_hash = _link(prev, entry)
    session.add(entry)
    return entry


def record(db: Database, **kwargs) -> AuditEntry:
    with db.write() as session:
        return append(session, **kwargs)


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
            if entry.prev_hash != prev or _link(prev, entry) != entry.entry_hash:
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
    page = max(page, 1)
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
