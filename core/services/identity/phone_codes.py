"""Phone verification with one-time SMS codes.

Rules: a 6-digit code from a secure source, stored only as an HMAC, valid for
5 minutes, single use, dead after 5 wrong tries. A new code at most once per
60 s and 5 times per hour per phone, 20 per hour per client IP, only to
allowed country codes (SMS pumping costs money), and a phone that keeps
failing waits longer and longer. Every limit is computed from rows in the
database, so all app processes share it.

The answer does not depend on whether the phone has orders: every valid,
allowed number gets a code, and an empty order list after signing in.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import type_coerce
from sqlmodel import Session, func, select

from core.db import Database, lock_key
from core.errors import DomainError, InvalidInput
from core.i18n import N_
from core.models import LoginCode, UTCDateTime, utcnow
from core.phones import mask_phone, normalize_phone
from core.sms import SmsError, SmsProvider

logger = logging.getLogger("orderdesk.verification")

CODE_TTL = timedelta(minutes=5)
MAX_WRONG_TRIES = 5
RESEND_GAP = timedelta(seconds=60)
MAX_CODES_PER_HOUR = 5
MAX_CODES_PER_IP_HOUR = 20
# After this many wrong codes in 24 h, each further step waits twice as long.
FAILURES_BEFORE_BACKOFF = 5
BACKOFF_START = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)


class RateLimited(DomainError):
    """Too soon; `retry_after` says how many seconds to wait."""

    def __init__(self, message: str, retry_after: int, **params: object) -> None:
        super().__init__(message, **params)
        self.retry_after = max(int(retry_after), 1)


class CodeRejected(InvalidInput):
    """The code is wrong, expired, used or dead; the form says which."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__("code", message, **params)


@dataclass(frozen=True)
class CodeSent:
    challenge: str
    masked_phone: str
    expires_at: datetime
    resend_at: datetime


def _hash(secret: str, *parts: str) -> str:
    return hmac.new(secret.encode(), ":".join(parts).encode(), hashlib.sha256).hexdigest()


def _lock_requester(session: Session, phone: str, client_ip: str) -> None:
    """Serialise code requests for one phone, and for one client IP, so that neither
    limit can be overrun by requests checking at the same moment. Always phone first,
    then IP: two requests never wait on each other in opposite order. SQLite's
    BEGIN IMMEDIATE already serialises every writer."""
    for key in ("otp:" + phone, "otp-ip:" + client_ip):
        lock_key(session, key)


def _backoff_wait(session: Session, phone: str, now: datetime) -> timedelta:
    since = now - timedelta(hours=24)
    failures, last_failed = session.exec(
        select(
            func.coalesce(func.sum(LoginCode.wrong_attempts), 0),
            type_coerce(func.max(LoginCode.last_failed_at), UTCDateTime()),
        ).where(
            LoginCode.phone == phone, LoginCode.created_at >= since
        )
    ).one()
    if failures < FAILURES_BEFORE_BACKOFF or last_failed is None:
        return timedelta(0)
    wait = min(BACKOFF_START * 2 ** (failures - FAILURES_BEFORE_BACKOFF), BACKOFF_MAX)
    return max(last_failed + wait - now, timedelta(0))


def allowed_phone(raw_phone: str, allowed_country_codes: tuple[int, ...]) -> str:
    phone = normalize_phone(raw_phone, mobile_only=True)
    if phonenumbers.parse(phone).country_code not in allowed_country_codes:
        raise InvalidInput("phone", N_("We cannot send text messages to numbers in this country or region."))
    return phone


def _refusal(session: Session, phone: str, client_ip: str, now: datetime) -> RateLimited | None:
    """Why no code may be sent now, or None."""
    recent = session.exec(
        select(LoginCode.created_at)
        .where(LoginCode.phone == phone, LoginCode.created_at >= now - timedelta(hours=1))
        .order_by(LoginCode.created_at)
    ).all()
    if recent and now - recent[-1] < RESEND_GAP:
        wait = (recent[-1] + RESEND_GAP - now).total_seconds()
        return RateLimited(N_("A code was just sent. You can ask for a new one in %(seconds)s seconds."),
                           retry_after=wait, seconds=int(wait) + 1)
    if len(recent) >= MAX_CODES_PER_HOUR:
        wait = (recent[0] + timedelta(hours=1) - now).total_seconds()
        return RateLimited(N_("Too many codes for this number. Try again in %(minutes)s minutes."),
                           retry_after=wait, minutes=int(wait // 60) + 1)
    from_ip = session.exec(
        select(func.count()).where(LoginCode.client_ip == client_ip, LoginCode.created_at >= now - timedelta(hours=1))
    ).one()
    if from_ip >= MAX_CODES_PER_IP_HOUR:
        return RateLimited(N_("Too many codes requested from this network. Try again later."), retry_after=3600)
    backoff = _backoff_wait(session, phone, now)
    if backoff:
        return RateLimited(N_("Too many wrong codes. Try again in %(seconds)s seconds."),
                           retry_after=backoff.total_seconds(), seconds=int(backoff.total_seconds()) + 1)
    return None


def request_code(
    db: Database,
    sms: SmsProvider,
    *,
    raw_phone: str,
    client_ip: str,
    secret: str,
    allowed_country_codes: tuple[int, ...] = (86,),
    now: datetime | None = None,
) -> CodeSent:
    phone = allowed_phone(raw_phone, allowed_country_codes)
    now = now or utcnow()
    code = f"{secrets.randbelow(10**6):06d}"
    challenge = secrets.token_urlsafe(32)
    # Most requests past a limit are refused from a plain read, without queueing for the
    # write lock; the check that counts is repeated under the lock before a code is stored.
    with db.read() as session:
        refusal = _refusal(session, phone, client_ip, now)
    if refusal is not None:
        raise refusal
    with db.write() as session:
        _lock_requester(session, phone, client_ip)
        refusal = _refusal(session, phone, client_ip, now)
        if refusal is not None:
            raise refusal
        session.add(
            LoginCode(
                phone=phone,
                challenge_hash=_hash(secret, "challenge", challenge),
                code_hash=_hash(secret, "code", challenge, code),
                client_ip=client_ip,
                created_at=now,
                expires_at=now + CODE_TTL,
            )
        )
    try:
        sms.send(phone, f"您的验证码是 {code}，5 分钟内有效。请勿告诉他人。Your code: {code}")
    except SmsError as exc:
        logger.error("login code to %s not sent: %s", mask_phone(phone), exc)
        raise DomainError(N_("We could not send the text message. Please try again in a minute.")) from exc
    return CodeSent(challenge=challenge, masked_phone=mask_phone(phone), expires_at=now + CODE_TTL,
                    resend_at=now + RESEND_GAP)


def pending_phone(db: Database, *, challenge: str, secret: str) -> str | None:
    """The phone a challenge was issued for (to show it masked on the code form)."""
    with db.read() as session:
        row = session.exec(
            select(LoginCode).where(LoginCode.challenge_hash == _hash(secret, "challenge", challenge))
        ).first()
    return row.phone if row else None


def typed_code(code: str | None) -> str:
    """The six digits the shopper typed (spaces allowed), or CodeRejected before anything is looked up:
    a mistyped code does not count as a try."""
    code = "".join(ch for ch in (code or "") if not ch.isspace())
    if not (code.isdigit() and len(code) == 6):
        raise CodeRejected(N_("Enter the 6-digit code from the text message."))
    return code


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of one try: the verified `phone`, or the `rejection` to answer with. A wrong code is
    counted on its row; the caller commits that count before raising the rejection."""

    phone: str | None = None
    rejection: DomainError | None = None


def use_code(session: Session, *, phone: str, challenge: str, code: str, secret: str, now: datetime) -> CodeCheck:
    """Check a typed code (from `typed_code`) for `phone` against its challenge under the row lock, and
    mark it used. A code proves only the phone it was sent to: any other is an unknown challenge.

    Raises CodeRejected / RateLimited when nothing is to be written (unknown, used, expired, dead code;
    a phone that must wait); returns a CodeCheck otherwise."""
    row = session.exec(
        select(LoginCode)
        .where(LoginCode.challenge_hash == _hash(secret, "challenge", challenge), LoginCode.phone == phone)
        .with_for_update()
    ).first()
    if row is None or row.used_at is not None or now >= row.expires_at:
        raise CodeRejected(N_("This code has expired or was already used. Ask for a new one."))
    if row.wrong_attempts >= MAX_WRONG_TRIES:
        raise CodeRejected(N_("Too many wrong tries. Ask for a new code."))
    backoff = _backoff_wait(session, row.phone, now)
    if backoff:
        raise RateLimited(N_("Too many wrong codes. Try again in %(seconds)s seconds."),
                          retry_after=backoff.total_seconds(), seconds=int(backoff.total_seconds()) + 1)
    if not hmac.compare_digest(_hash(secret, "code", challenge, code), row.code_hash):
        row.wrong_attempts += 1
        row.last_failed_at = now
        session.add(row)
        left = MAX_WRONG_TRIES - row.wrong_attempts
        return CodeCheck(rejection=(
            CodeRejected(N_("That code is not right. %(left)s tries left."), left=left)
            if left
            else CodeRejected(N_("Too many wrong tries. Ask for a new code."))
        ))
    row.used_at = now
    session.add(row)
    return CodeCheck(phone=row.phone)
