"""Staff accounts: argon2 passwords, lockout after repeated failures, sessions."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError, VerifyMismatchError
from sqlmodel import delete, select

from core.db import Database
from core.errors import DomainError, InvalidInput
from core.i18n import N_
from core.models import Staff, StaffSession, utcnow
from core.services.identity.permissions import Role

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 12
SESSION_IDLE = timedelta(hours=8)
SESSION_MAX = timedelta(hours=12)
_hasher = PasswordHasher()
# Verifying against this keeps the time of an unknown e-mail equal to a wrong password.
_DUMMY_HASH = _hasher.hash("orderdesk-dummy-password")


class LoginFailed(DomainError):
    pass


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("password", N_("A password needs at least 12 characters."))


def create_staff(db: Database, *, email: str, role: str, password: str, name: str = "",
                 warehouse_id: int | None = None) -> Staff:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInput("email", N_("Enter a valid e-mail address."))
    try:
        Role(role)
    except ValueError as exc:
        raise InvalidInput("role", N_("Unknown role %(role)s."), role=role) from exc
    _check_password(password)
    with db.write() as session:
        if session.exec(select(Staff).where(Staff.email == email)).first():
            raise InvalidInput("email", N_("There is already an account for %(email)s."), email=email)
        staff = Staff(email=email, name=name, role=role, password_hash=_hasher.hash(password),
                      warehouse_id=warehouse_id)
        session.add(staff)
    return staff


def reset_password(db: Database, *, email: str, password: str) -> None:
    _check_password(password)
    with db.write() as session:
        staff = session.exec(select(Staff).where(Staff.email == email.strip().lower())).first()
        if staff is None:
            raise InvalidInput("email", N_("No account for %(email)s."), email=email)
        staff.password_hash = _hasher.hash(password)
        staff.failed_logins = 0
        staff.locked_until = None
        session.add(staff)
        # A new password ends every existing session.
        session.exec(delete(StaffSession).where(StaffSession.staff_id == staff.id))


def authenticate(db: Database, *, email: str, password: str, now: datetime | None = None) -> Staff:
    now = now or utcnow()
    failure = N_("Wrong e-mail or password.")
    with db.write() as session:
        staff = session.exec(select(Staff).where(Staff.email == (email or "").strip().lower())).first()
        if staff is None or not staff.active:
            with contextlib.suppress(VerificationError):
                _hasher.verify(_DUMMY_HASH, password or "x")
            raise LoginFailed(failure)
        if staff.locked_until and staff.locked_until > now:
            minutes = int((staff.locked_until - now).total_seconds() // 60) + 1
            raise LoginFailed(N_("Too many failed sign-ins. Try again in %(minutes)s minutes."), minutes=minutes)
        try:
            _hasher.verify(staff.password_hash, password or "")
        except (VerifyMismatchError, VerificationError):
            staff.failed_logins += 1
            if staff.failed_logins >= MAX_FAILED_LOGINS:
                staff.locked_until = now + LOCKOUT
                staff.failed_logins = 0
            session.add(staff)
            rejected = True
        else:
            rejected = False
            staff.failed_logins = 0
            staff.locked_until = None
            if _hasher.check_needs_rehash(staff.password_hash):
                staff.password_hash = _hasher.hash(password)
            session.add(staff)
    if rejected:
        raise LoginFailed(failure)
    return staff


def start_session(db: Database, staff: Staff, *, client_ip: str = "") -> str:
    token = secrets.token_urlsafe(32)
    with db.write() as session:
        session.add(StaffSession(token_hash=_digest(token), staff_id=staff.id, client_ip=client_ip[:45]))
    return token


def session_staff(db: Database, token: str | None, now: datetime | None = None) -> Staff | None:
    if not token:
        return None
    now = now or utcnow()
    with db.read() as session:
        row = session.exec(select(StaffSession).where(StaffSession.token_hash == _digest(token))).first()
        staff = session.get(Staff, row.staff_id) if row else None
    if row is None or staff is None or not staff.active:
        return None
    if now - row.last_seen_at > SESSION_IDLE or now - row.created_at > SESSION_MAX:
        end_session(db, token)
        return None
    if now - row.last_seen_at > timedelta(seconds=60):
        with db.write() as session:
            fresh = session.get(StaffSession, row.id)
            if fresh is not None:
                fresh.last_seen_at = now
                session.add(fresh)
    return staff


def end_session(db: Database, token: str | None) -> None:
    if token:
        with db.write() as session:
            session.exec(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))


def list_staff(db: Database) -> list[Staff]:
    with db.read() as session:
        return list(session.exec(select(Staff).order_by(Staff.email)).all())
