"""E-mail copies of order news, beside the SMS or WeChat message.

Policy: every event goes to the customer by WeChat when linked, else by SMS (every
order has a phone). A customer whose order gave an e-mail address *also* gets an
e-mail copy of the news a receipt-like trail needs (EMAIL_EVENTS), queued in the
same transaction, deduped like its SMS/WeChat twin ("email:" + its key). The
e-mail's text is the same rendered text as the SMS (staff edit it at
/admin/messages); its subject comes from DEFAULT_SUBJECTS when it is sent.
"""

from __future__ import annotations

from sqlmodel import Session

from core.config import get_settings
from core.email import EmailError, EmailProvider
from core.models import Order

EMAIL_EVENTS = frozenset({"order_confirmed", "shipped", "delivered", "dispute_update"})

DEFAULT_SUBJECTS: dict[str, dict[str, str]] = {
    "order_confirmed": {"zh_CN": "订单 {ref} 已付款成功", "en": "Order {ref} is paid"},
    "shipped": {"zh_CN": "订单 {ref} 已发货", "en": "Order {ref} has shipped"},
    "delivered": {"zh_CN": "订单 {ref} 已签收", "en": "Order {ref} was delivered"},
    "dispute_update": {"zh_CN": "订单 {ref} 的问题有新进展", "en": "News about your case on order {ref}"},
}


def subject(event: str, ref: str, locale: str = "zh_CN") -> str:
    texts = DEFAULT_SUBJECTS.get(event)
    if texts is None:
        return f"订单 {ref}"
    return (texts.get(locale) or texts["zh_CN"]).format(ref=ref)


def email_copy(event: str, *, email: str | None, order_id: int, text: str,
               dedupe_key: str | None) -> dict | None:
    """The outbox fields of the e-mail copy of a message, or None when there is none to send."""
    if not email or event not in EMAIL_EVENTS or not get_settings().email_enabled:
        return None
    return {"channel": "email", "recipient": email, "event": event, "order_id": order_id, "body": text,
            "dedupe_key": f"email:{dedupe_key}" if dedupe_key else None}


def send(session: Session, provider: EmailProvider | None, *, to: str, event: str, order_id: int | None,
         text: str) -> tuple[str | None, str, bool]:
    """(provider message id, error, final) of one try."""
    if provider is None:
        return None, "no e-mail provider (EMAIL_PROVIDER=off)", False
    order = session.get(Order, order_id) if order_id is not None else None
    try:
        receipt = provider.send(to, subject(event, order.ref if order else ""), text)
    except EmailError as exc:
        return None, str(exc)[:500], exc.final
    return receipt.message_id, "", False
