"""Idempotency-Key: a request repeated with the same key gets the first answer again.

The answer is stored in the same write transaction as the request's effects, so
either both exist or neither does. The key is claimed first (a row under a unique
constraint): a concurrent duplicate blocks on that row until the first request
commits (PostgreSQL) or waits for the write lock (SQLite BEGIN IMMEDIATE), then
finds the stored answer and replays it without doing anything. Kept 24 hours per
integration; older entries are ignored and purged by the hourly job.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.db import Database
from core.errors import DomainError
from core.models import ApiIdempotency, utcnow

RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(f"{method.upper()}\n{path}\n".encode() + body).hexdigest()


class KeyReused(Exception):
    """The same Idempotency-Key came with a different request."""


@dataclass(frozen=True)
class Reply:
    status_code: int
    body: dict
    replayed: bool = False


Action = Callable[[Session], Reply]
ErrorReply = Callable[[DomainError], Reply]


@dataclass(frozen=True)
class Once:
    """A push-API request as idempotency knows it: the integration, its Idempotency-Key
    (None: no key, the request runs every time) and the request's fingerprint (`request_hash`).

    A use case that takes one runs through `run`: the answer it gives is stored with the
    request's effects, so the use case also takes the caller's `answer` (outcome -> Reply) and
    `refusal` (DomainError -> Reply), plain functions the API's controller supplies."""

    integration_id: int
    key: str | None
    fingerprint: str


def _run_action(session: Session, action: Action, on_error: ErrorReply) -> Reply:
    """A refusal (a domain error) is an answer too: its partial effects are undone, the answer kept."""
    try:
        with session.begin_nested():
            return action(session)
    except DomainError as exc:
        return on_error(exc)


def run_once(db: Database, once: Once, action: Action, on_error: ErrorReply) -> Reply:
    return run(db, integration_id=once.integration_id, key=once.key, fingerprint=once.fingerprint, action=action,
               on_error=on_error)


def run(db: Database, *, integration_id: int, key: str | None, fingerprint: str, action: Action,
        on_error: ErrorReply, now: datetime | None = None) -> Reply:
    """Run `action` in one write transaction, at most once per (integration, key) within 24 h."""
    now = now or utcnow()
    last_error: IntegrityError | None = None
    # A unique-key clash means another request got there first (the same idempotency key,
    # or the same new order from another request): the second try sees its result.
    for _attempt in range(3):
        try:
            with db.write() as session:
                if key is None:
                    return _run_action(session, action, on_error)
                stored = session.exec(
                    select(ApiIdempotency).where(ApiIdempotency.integration_id == integration_id,
                                                 ApiIdempotency.idempotency_key == key).with_for_update()
                ).first()
                if stored is not None and stored.created_at < now - RETENTION:
                    session.delete(stored)
                    session.flush()
                    stored = None
                if stored is not None:
                    if stored.request_hash != fingerprint:
                        raise KeyReused(key)
                    return Reply(stored.status_code, json.loads(stored.response_body), replayed=True)
                claim = ApiIdempotency(integration_id=integration_id, idempotency_key=key, request_hash=fingerprint,
                                       created_at=now)
                session.add(claim)
                session.flush()
                reply = _run_action(session, action, on_error)
                claim.status_code = reply.status_code
                claim.response_body = json.dumps(reply.body, ensure_ascii=False, sort_keys=True)
                session.add(claim)
                return reply
        except IntegrityError as exc:
            last_error = exc
    raise last_error  # type: ignore[misc]


def purge(db: Database, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - RETENTION
    with db.write() as session:
        result = session.execute(delete(ApiIdempotency).where(ApiIdempotency.created_at < cutoff))
    return result.rowcount or 0
