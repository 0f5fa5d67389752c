"""Staff accounts: argon2 passwords, lockout after repeated failures, sessions."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError, VerifyMismatchError
from sqlmodel import Session, delete, select

from core.db import Database
from core.errors import DomainError, InvalidInput
from core.i18n import N_
from core.models import Staff, StaffSession, utcnow
from core.services.actors import Actor, ActorKind
from core.services.audit import trail as audit
from core.services.identity.permissions import Permission, Role

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


def create_staff(db: Database, actor: Actor, *, email: str, role: str, password: str, name: str = "",
                 warehouse_id: int | None = None) -> Staff:
    actor.require(Permission.MANAGE_STAFF)
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInput("email", N_("Enter a valid e-mail address."))
    try:
        Role(role)
    except ValueError as exc:
        raise InvalidInput("role", N_("Unknown role %(role)s."), role=role) from exc
    _check_password(password)
    # Hashed before the transaction: argon2 is slow on purpose, and SQLite holds its write lock throughout.
    password_hash = _hasher.hash(password)
    with db.write() as session:
        if session.exec(select(Staff).where(Staff.email == email)).first():
            raise InvalidInput("email", N_("There is already an account for %(email)s."), email=email)
        staff = Staff(email=email, name=name, role=role, password_hash=password_hash, warehouse_id=warehouse_id)
        session.add(staff)
    return staff


def reset_password(db: Database, actor: Actor, *, email: str, password: str) -> None:
    actor.require(Permission.MANAGE_STAFF)
    _check_password(password)
    password_hash = _hasher.hash(password)
    with db.write() as session:
        staff = session.exec(select(Staff).where(Staff.email == email.strip().lower()).with_for_update()).first()
        if staff is None:
            raise InvalidInput("email", N_("No account for %(email)s."), email=email)
        staff.password_hash = password_hash
        staff.failed_logins = 0
        staff.locked_until = None
        session.add(staff)
        # A new password ends every existing session.
        session.exec(delete(StaffSession).where(StaffSession.staff_id == staff.id))


@dataclass(frozen=True)
class SignedIn:
    staff: Staff
    session_token: str


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerifyMismatchError, VerificationError):
        return False


def sign_in(db: Database, *, email: str, password: str, client_ip: str = "", replaces: str | None = None,
            via: str = "admin", now: datetime | None = None) -> SignedIn:
    """One sign-in attempt: the password check, the failure count and lockout, the new session (ending
    the one `replaces` names) and the audit entry ("login", or "login_failed" by "system" with the
    e-mail typed) commit together or not at all. Raises LoginFailed after the failure is committed.

    Who signs in is what this finds out, so it takes the client's address rather than an Actor."""
    now = now or utcnow()
    failure = N_("Wrong e-mail or password.")
    # argon2 is slow on purpose: the password is checked before the write transaction, against the
    # hash read here; the transaction re-reads the account under its row lock and decides.
    with db.read() as session:
        account = session.exec(select(Staff).where(Staff.email == (email or "").strip().lower())).first()
    checked_hash, matches = None, False
    if account is None or not account.active:
        # Keeps the time of an unknown e-mail equal to a wrong password.
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password or "x")
    elif not (account.locked_until and account.locked_until > now):
        checked_hash, matches = account.password_hash, _password_matches(account.password_hash, password)
    new_hash = _hasher.hash(password) if matches and _hasher.check_needs_rehash(checked_hash) else None
    # A failed attempt has no staff member to name: the trail records it as the system's, from the address.
    visitor = Actor(ActorKind.SYSTEM, "system", via, client_ip[:45])
    rejection: LoginFailed | None = None
    with db.write() as session:
        staff = None
        if account is not None:
            staff = session.exec(select(Staff).where(Staff.id == account.id).with_for_update()).first()
        if staff is None or not staff.active:
            rejection = LoginFailed(failure)
        elif staff.locked_until and staff.locked_until > now:
            minutes = int((staff.locked_until - now).total_seconds() // 60) + 1
            rejection = LoginFailed(N_("Too many failed sign-ins. Try again in %(minutes)s minutes."), minutes=minutes)
        else:
            if staff.password_hash != checked_hash:
                # The password changed (or the lock ended) since the read: check against what is stored now.
                matches, new_hash = _password_matches(staff.password_hash, password), None
            if matches:
                staff.failed_logins = 0
                staff.locked_until = None
                if new_hash is not None:
                    staff.password_hash = new_hash
                session.add(staff)
                # A fresh session identifier at every sign-in; whatever session came before ends here.
                _close_session(session, replaces)
                token = _open_session(session, staff, client_ip=client_ip)
                audit.append(session, Actor.staff_member(staff, via=via, client_ip=client_ip), "login")
                return SignedIn(staff=staff, session_token=token)
            staff.failed_logins += 1
            if staff.failed_logins >= MAX_FAILED_LOGINS:
                staff.locked_until = now + LOCKOUT
                staff.failed_logins = 0
            session.add(staff)
            rejection = LoginFailed(failure)
        audit.append(session, visitor, "login_failed", detail={"email": (email or "")[:254]})
    raise rejection


def _open_session(session: Session, staff: Staff, *, client_ip: str = "") -> str:
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_digest(token), staff_id=staff.id, client_ip=client_ip[:45]))
    return token


def start_session(db: Database, staff: Staff, *, client_ip: str = "") -> str:
    """A session for a staff member signed in elsewhere (sign-in itself is `sign_in`)."""
    with db.write() as session:
        return _open_session(session, staff, client_ip=client_ip)


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


def _close_session(session: Session, token: str | None) -> None:
    if token:
        session.exec(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))


def end_session(db: Database, token: str | None) -> None:
    """Sign out."""
    if token:
        with db.write() as session:
            _close_session(session, token)


def list_staff(db: Database) -> list[Staff]:
    with db.read() as session:
        return list(session.exec(select(Staff).order_by(Staff.email)).all())
