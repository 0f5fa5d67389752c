"""Customer notifications through one outbox.

`enqueue` writes the message inside the caller's transaction, so it exists
exactly when the change that caused it committed; only use cases (core/services)
call it. `delivery.deliver_due` (a worker job) sends what is due, after commit: a
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

from sqlmodel import Session, select

from core.config import get_settings
from core.models import Customer, MessageTemplate, Order, OutboxMessage
from core.services.identity.wechat_login import openid_of
from core.services.messaging import email_copies as email_messages
from core.services.messaging import wechat_templates as wechat_messages

logger = logging.getLogger("orderdesk.notifications")

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
