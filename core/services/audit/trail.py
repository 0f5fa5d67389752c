"""Writing the audit trail: append-only and hash-chained.

Only use cases (core/services) append, inside the transaction of the action they record: if the
entry cannot be written, the action did not happen either. Controllers read the trail through
`core.services.audit.log`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlmodel import Session, select

from core.db import lock_key
from core.models import AuditEntry, utcnow
from core.services.actors import Actor
from core.services.tracking.chain import GENESIS


def canonical(entry: AuditEntry) -> bytes:
    return json.dumps(
        {"seq": entry.seq, "at": entry.at.isoformat(timespec="microseconds"), "staff_id": entry.staff_id,
         "actor": entry.actor, "action": entry.action, "order_ref": entry.order_ref, "detail": entry.detail,
         "client_ip": entry.client_ip},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    ).encode()


def link(prev: str, entry: AuditEntry) -> str:
    return hashlib.sha256(prev.encode() + b"\n" + canonical(entry)).hexdigest()


def _lock_chain(session: Session) -> None:
    """One writer at a time extends the chain (SQLite's BEGIN IMMEDIATE already serialises)."""
    lock_key(session, "audit_log")


def append(session: Session, actor: Actor, action: str, *, order_ref: str | None = None,
           detail: dict | None = None, at: datetime | None = None) -> AuditEntry:
    _lock_chain(session)
    head = session.exec(select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    entry = AuditEntry(
        seq=seq, at=at or utcnow(), staff_id=actor.staff_id, actor=actor.name, action=action, order_ref=order_ref,
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True), client_ip=actor.client_ip[:45],
        prev_hash=prev, entry_hash="",
    )
    entry.entry_hash = link(prev, entry)
    session.add(entry)
    return entry
