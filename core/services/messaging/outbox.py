"""Customer notifications through one outbox.

`enqueue` writes the message inside the caller's transaction, so it exists
exactly when the change that caused it committed. `deliver_due` (a worker job)
sends what is due: claimed under a lease (a worker that dies mid-send leaves a
lease that expires, and another worker picks the message up: delivery is at
least once), retried with exponential backoff, dead after the last try. A
failing SMS provider never touches the request that queued the message.

Channels: "sms", and "wechat" (a template message) for the events the merchant
configured a template for, when the customer has linked WeChat; besides either, an
"email" copy of some events to customers with an e-mail address (see
core/services/messaging/email_copies.py). A WeChat message
that cannot be delivered (dead after its tries, refused for good, or the link
was removed meanwhile) queues the same news as a text message, once.
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

from core.config import Settings, get_settings
from core.db import Database
from core.email import EmailProvider
from core.models import Customer, MessageTemplate, Order, OutboxMessage, UTCDateTime, utcnow
from core.services.identity.wechat_login import is_linked, openid_of
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
SUPPRESS = "suppress_notifications"
RESENDABLE = ("sms", "email")

DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    "order_confirmed": {
        "zh_CN": "您的订单 {ref} 已付款成功，我们将于 {ship_by} 前发货。查看订单：{link}",
        "en": "Order {ref} is paid; we ship it by {ship_by}. Your order: {link}",
    },
    "shipped": {
        "zh_CN": "您的订单 {ref} 已由{carrier}发出，运单号 {tracking_no}，预计 {expected} 前送达。物流详情：{link}",
        "en": "Order {ref} shipped with {carrier}, tracking number {tracking_no}, expected by {expected}. "
              "Tracking: {link}",
    },
    "address_changed": {
        "zh_CN": "您的订单 {ref} 收货地址已修改为 {place}（收件人 {recipient}），预计 {expected} 前送达。"
                 "如非本人操作请联系客服。",
        "en": "The delivery address of order {ref} is now {place} (recipient {recipient}), expected by {expected}. "
              "If you did not change it, contact us.",
    },
    "delayed": {
        "zh_CN": "抱歉，您的订单 {ref} 已超过承诺送达时间 {promised}，我们正在跟进。补偿规则见服务条款：{link}",
        "en": "Sorry: order {ref} is past its promised delivery time {promised}; we are on it. "
              "What you are owed is in the service terms: {link}",
    },
    "out_for_delivery": {
        "zh_CN": "您的订单 {ref} 正在派送中，请保持电话畅通。物流详情：{link}",
        "en": "Order {ref} is out for delivery today; keep your phone at hand. Tracking: {link}",
    },
    "delivered": {
        "zh_CN": "您的订单 {ref} 已签收。如有问题请在订单页反馈：{link}",
        "en": "Order {ref} was delivered. Something wrong? Tell us on the order page: {link}",
    },
    "dispute_update": {
        "zh_CN": "您就订单 {ref} 提出的问题有了新进展：{status}。详情：{link}",
        "en": "Your case about order {ref} was updated: {status}. Details: {link}",
    },
}


def render(session: Session, event: str, locale: str, params: dict[str, str]) -> str:
    override = session.exec(
        select(MessageTemplate.body).where(MessageTemplate.event == event, MessageTemplate.locale == locale)
    ).first()
    template = override or DEFAULT_TEMPLATES[event].get(locale) or DEFAULT_TEMPLATES[event]["zh_CN"]
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        # A template edited with a placeholder we do not have: fall back to ours, never send "{x}".
        logger.error("template %s/%s does not fit its parameters; using the default", event, locale)
        return DEFAULT_TEMPLATES[event]["zh_CN"].format(**params)


def enqueue(session: Session, order: Order, event: str, params: dict[str, str], *,
            dedupe_key: str | None = None, locale: str = "zh_CN") -> OutboxMessage | None:
    """Queue a text to the order's customer in the caller's transaction."""
    if session.info.get(SUPPRESS):
        return None
    if dedupe_key and session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)).first():
        return None
    customer = session.get(Customer, order.customer_id)
    if customer is None:
        return None
    text = render(session, event, locale, {"ref": order.ref, **params})
    openid = openid_of(session, customer.id) if wechat_template_for(event) else None
    channel, recipient, body = addressed(event, ref=order.ref, phone=customer.phone, openid=openid, text=text,
                                         params=params)
    message = OutboxMessage(channel=channel, recipient=recipient, event=event, order_id=order.id, body=body,
                            dedupe_key=dedupe_key)
    session.add(message)
    copy = email_messages.email_copy(event, email=customer.email, order_id=order.id, text=text,
                                     dedupe_key=dedupe_key)
    if copy is not None:
        session.add(OutboxMessage(**copy))
    return message


def wechat_template_for(event: str) -> str | None:
    """The template id an event goes out with on WeChat, when an official account is configured."""
    settings = get_settings()
    template_id = settings.wechat_template(event) if settings.wechat_enabled else None
    return template_id if template_id and event in wechat_messages.LAYOUTS else None


def wechat_openids(session: Session, customer_ids: list[int], event: str) -> dict[int, str]:
    """openid_of for many customers at once (bulk ingestion); empty when the event does not go by WeChat."""
    if not customer_ids or not wechat_template_for(event):
        return {}
    return {cid: openid for cid in set(customer_ids) if (openid := openid_of(session, cid))}


def addressed(event: str, *, ref: str, phone: str, openid: str | None, text: str,
              params: dict[str, str]) -> tuple[str, str, str]:
    """(channel, recipient, body) of a message: a WeChat template message (carrying its SMS
    fallback) to a customer who linked WeChat when the event has a template, else the text by SMS."""
    template_id = wechat_template_for(event) if openid else None
    if not template_id:
        return "sms", phone, text
    settings = get_settings()
    template = wechat_messages.template_message(
        event, openid=openid, template_id=template_id, url=f"{settings.public_base_url}/orders/{ref}",
        ref=ref, params=params)
    return "wechat", openid, wechat_messages.outbox_body(template, sms_to=phone, sms_text=text)


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


def _claim(db: Database, now: datetime, batch: int, ids: list[int] | None, lease: timedelta) -> list[OutboxMessage]:
    due = or_(
        (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now),
        # A worker died while sending: its lease ran out, the message is due again.
        (OutboxMessage.status == "sending") & (OutboxMessage.lease_until < now),
    )
    if ids is not None:
        due = due & OutboxMessage.id.in_(ids or [-1])
    with db.write() as session:
        rows = list(session.exec(
            select(OutboxMessage).where(due).order_by(OutboxMessage.next_attempt_at).limit(batch)
            .with_for_update(skip_locked=True)
        ).all())
        for message in rows:
            message.status = "sending"
            message.lease_until = now + lease
            message.attempts += 1
            session.add(message)
    return rows


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
    for message in _claim(db, now, batch, ids, lease):
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


@dataclass
class SentMessage:
    """A message to the customer as support sees it on the order page."""

    message: OutboxMessage
    text: str  # what the customer reads (a WeChat message's text is its SMS fallback's)

    @property
    def can_resend(self) -> bool:
        # A dead WeChat message already fell back to SMS; a dead text or e-mail is sent again by hand.
        return self.message.status == "dead" and self.message.channel in RESENDABLE


def messages_for_order(db: Database, order_id: int) -> list[SentMessage]:
    with db.read() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.order_id == order_id)
                            .order_by(OutboxMessage.id.desc()).limit(50)).all()
    # Retention blanks old messages' bodies: nothing to decode then.
    return [SentMessage(message=m, text=wechat_messages.read_outbox_body(m.body).sms_text
                        if m.channel == "wechat" and m.body else m.body) for m in rows]


def resend(db: Database, order_id: int, message_id: int) -> OutboxMessage:
    """Queue a dead text or e-mail again (after the gateway or the address was fixed): a fresh round of tries."""
    from core.errors import DomainError, NotFound
    from core.i18n import N_

    with db.write() as session:
        message = session.exec(select(OutboxMessage).where(OutboxMessage.id == message_id,
                                                           OutboxMessage.order_id == order_id)
                               .with_for_update()).first()
        if message is None:
            raise NotFound(N_("There is no such message."))
        if message.status != "dead" or message.channel not in RESENDABLE:
            raise DomainError(N_("Only a text message or e-mail that failed for good can be sent again."))
        message.status, message.attempts, message.next_attempt_at = "pending", 0, utcnow()
        message.lease_until = None
        session.add(message)
        return message
