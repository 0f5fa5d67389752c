"""Customer sessions after phone verification.

The browser holds a random token; the database keeps its SHA-256, the phone,
and when it was created and last used, so idle and absolute timeouts are
enforced here on the server (a cookie's own expiry is only a hint) and every
app process sees the same sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, delete, select

from core.db import Database
from core.models import CustomerSession, utcnow

# Writing last_seen_at on every request would make each page view a write.
TOUCH_EVERY = timedelta(seconds=60)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, *, phone: str, client_ip: str = "", user_agent: str = "",
                 now: datetime | None = None) -> str:
    """A new session with a fresh token (never reuse one from before sign-in), in the caller's transaction."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        CustomerSession(token_hash=_digest(token), phone=phone, created_at=now, last_seen_at=now,
                        client_ip=client_ip[:45], user_agent=user_agent[:200])
    )
    return token


def close_session(session: Session, token: str | None) -> None:
    """End the session behind `token` (if any) in the caller's transaction."""
    if token:
        session.exec(delete(CustomerSession).where(CustomerSession.token_hash == _digest(token)))


def start_session(db: Database, *, phone: str, client_ip: str = "", user_agent: str = "",
                  now: datetime | None = None) -> str:
    """A session for a phone verified elsewhere (sign-in itself is `shopper_sign_in`)."""
    with db.write() as session:
        return open_session(session, phone=phone, client_ip=client_ip, user_agent=user_agent, now=now)


def session_phone(
    db: Database, token: str | None, *, idle: timedelta, absolute: timedelta, now: datetime | None = None
) -> str | None:
    """The verified phone behind a session token, or None if absent or timed out."""
    if not token:
        return None
    now = now or utcnow()
    digest = _digest(token)
    with db.read() as session:
        row = session.exec(select(CustomerSession).where(CustomerSession.token_hash == digest)).first()
    if row is None:
        return None
    if now - row.last_seen_at > idle or now - row.created_at > absolute:
        end_session(db, token)
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        with db.write() as session:
            fresh = session.exec(select(CustomerSession).where(CustomerSession.token_hash == digest)).first()
            if fresh is not None:
                fresh.last_seen_at = now
                session.add(fresh)
    return row.phone


def end_session(db: Database, token: str | None) -> None:
    """Sign out."""
    if not token:
        return
    with db.write() as session:
        close_session(session, token)


def end_sessions_for_phone(db: Database, phone: str) -> int:
    with db.write() as session:
        result = session.exec(delete(CustomerSession).where(CustomerSession.phone == phone))
    return result.rowcount or 0
