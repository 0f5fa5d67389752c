"""Sending what the outbox holds: claimed under a lease, retried with backoff, dead after the last try.

A worker that dies mid-send leaves a lease that expires, and another worker picks the message up
(delivery is at least once). A WeChat message that cannot be delivered queues its text by SMS, once.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import type_coerce
from sqlmodel import Session, func, or_, select

from core.config import Settings
from core.db import Database
from core.email import EmailProvider
from core.models import OutboxMessage, UTCDateTime, utcnow
from core.services.identity.wechat_login import is_linked
from core.services.messaging import email_copies as email_messages
from core.services.messaging import wechat_templates as wechat_messages
from core.services.messaging.wechat_tokens import WechatSender
from core.sms import SmsError, SmsProvider
from core.wechat import TOKEN_ERRCODES, WechatApiError, WechatError, WechatUnavailable, client_from_settings

logger = logging.getLogger("orderdesk.notifications")

MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
LEASE = timedelta(minutes=5)


@contextmanager
def wechat_sender(db: Database, settings: Settings) -> Iterator[WechatSender | None]:
    """The template-message sender when an official account is configured (else None)."""
    client = client_from_settings(settings)
    if client is None:
        yield None
        return
    try:
        yield WechatSender(db, client)
    finally:
        client.close()


def _backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)


def _claim_next(db: Database, now: datetime, ids: list[int] | None, lease: timedelta,
                skip: set[int]) -> OutboxMessage | None:
    """Take the next due message for sending right now, and count the attempt.

    One message at a time: a worker that dies holds only the message it was sending (which may then
    go out twice: delivery is at least once), never a batch of healthy messages whose attempts were
    counted without a send, waiting for their lease to run out."""
    due = or_(
        (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now),
        # A worker died while sending: its lease ran out, the message is due again.
        (OutboxMessage.status == "sending") & (OutboxMessage.lease_until < now),
    )
    if ids is not None:
        due = due & OutboxMessage.id.in_(ids or [-1])
    if skip:
        due = due & OutboxMessage.id.not_in(skip)
    with db.write() as session:
        message = session.exec(
            select(OutboxMessage).where(due).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if message is None:
            return None
        message.status = "sending"
        message.lease_until = now + lease
        message.attempts += 1
        session.add(message)
    return message


@dataclass
class DeliveryRound:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    fallbacks: int = 0


@dataclass
class Attempt:
    message_id: str | None = None
    error: str = ""
    final: bool = False  # retrying cannot help


def _send_sms(sms: SmsProvider, message: OutboxMessage) -> Attempt:
    try:
        receipt = sms.send(message.recipient, message.body)
    except SmsError as exc:
        return Attempt(error=str(exc)[:500])
    return Attempt(message_id=receipt.message_id)


# Besides a bad token (refreshed once by the sender), WeChat's API quota (45009) passes with time.
RETRYABLE_ERRCODES = TOKEN_ERRCODES | {45009}


def _send_wechat(db: Database, wechat: WechatSender | None, message: OutboxMessage) -> Attempt:
    if wechat is None:
        return Attempt(error="WeChat is not configured (WECHAT_APP_ID)", final=True)
    with db.read() as session:
        if not is_linked(session, message.recipient):
            return Attempt(error="the customer removed the WeChat link", final=True)
    queued = wechat_messages.read_outbox_body(message.body)
    try:
        return Attempt(message_id=wechat.send(queued.message))
    except WechatUnavailable as exc:
        return Attempt(error=f"WeChat unavailable: {exc}"[:500])
    except WechatApiError as exc:
        return Attempt(error=f"WeChat refused: {exc}"[:500], final=exc.errcode not in RETRYABLE_ERRCODES)
    except WechatError as exc:
        return Attempt(error=str(exc)[:500])


def _send_email(db: Database, email: EmailProvider | None, message: OutboxMessage) -> Attempt:
    with db.read() as session:
        message_id, error, final = email_messages.send(session, email, to=message.recipient, event=message.event,
                                                       order_id=message.order_id, text=message.body)
    return Attempt(message_id=message_id, error=error, final=final)


def _queue_fallback(session: Session, message: OutboxMessage) -> bool:
    """The text message in place of an undeliverable WeChat message, queued once."""
    key = f"wechat-fallback:{message.id}"
    if session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first():
        return False
    queued = wechat_messages.read_outbox_body(message.body)
    session.add(OutboxMessage(channel="sms", recipient=queued.sms_to, event=message.event,
                              order_id=message.order_id, body=queued.sms_text, dedupe_key=key))
    return True


def deliver_due(db: Database, sms: SmsProvider, *, wechat: WechatSender | None = None,
                email: EmailProvider | None = None, now: datetime | None = None, batch: int = 50,
                ids: list[int] | None = None, lease: timedelta = LEASE) -> DeliveryRound:
    """Send what is due (or just `ids`, right after the request that queued them)."""
    now = now or utcnow()
    result = DeliveryRound()
    handled: set[int] = set()
    while len(handled) < batch and (message := _claim_next(db, now, ids, lease, handled)) is not None:
        handled.add(message.id)
        if message.channel == "wechat":
            attempt = _send_wechat(db, wechat, message)
        elif message.channel == "email":
            attempt = _send_email(db, email, message)
        else:
            attempt = _send_sms(sms, message)
        error = attempt.error
        with db.write() as session:
            fresh = session.get(OutboxMessage, message.id)
            fresh.lease_until = None
            if attempt.message_id is not None:
                fresh.status, fresh.sent_at = "sent", utcnow()
                fresh.provider_message_id = attempt.message_id[:100]
                result.sent += 1
            elif attempt.final or fresh.attempts >= MAX_ATTEMPTS:
                fresh.status, fresh.last_error = "dead", error
                result.dead += 1
                logger.error("message %s to %s is dead after %d tries: %s", fresh.id, fresh.event,
                             fresh.attempts, error)
                if fresh.channel == "wechat" and _queue_fallback(session, fresh):
                    result.fallbacks += 1
            else:
                fresh.status, fresh.last_error = "pending", error
                fresh.next_attempt_at = now + _backoff(fresh.attempts)
                result.retried += 1
            session.add(fresh)
    return result


@dataclass
class OutboxStats:
    by_status: Counter
    oldest_pending: datetime | None
    recent_problems: list[OutboxMessage]


def stats(db: Database) -> OutboxStats:
    with db.read() as session:
        counts = Counter(dict(session.exec(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()))
        oldest = session.exec(select(type_coerce(func.min(OutboxMessage.created_at), UTCDateTime()))
                              .where(OutboxMessage.status == "pending")).one()
        problems = list(session.exec(
            select(OutboxMessage).where(OutboxMessage.last_error != "").order_by(OutboxMessage.id.desc()).limit(20)
        ).all())
    return OutboxStats(by_status=counts, oldest_pending=oldest, recent_problems=problems)
