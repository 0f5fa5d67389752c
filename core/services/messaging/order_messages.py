"""The messages sent to an order's customer, as support sees them, and sending a dead one again."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from core.db import Database
from core.errors import DomainError, NotFound
from core.i18n import N_
from core.models import OutboxMessage, utcnow
from core.services.actors import Actor
from core.services.audit import trail as audit
from core.services.identity.permissions import Permission
from core.services.messaging import wechat_templates as wechat_messages
from core.services.messaging.outbox import RESENDABLE
from core.services.orders import lifecycle as order_service


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


def resend(db: Database, actor: Actor, ref: str, message_id: int) -> OutboxMessage:
    """Queue a dead text or e-mail of the order again (after the gateway or the address was fixed): a fresh
    round of tries, audited. Delivery picks it up after the commit."""
    actor.require(Permission.RESEND_MESSAGE)
    with db.write() as session:
        order = order_service.lock_for(session, actor, ref)
        message = session.exec(select(OutboxMessage).where(OutboxMessage.id == message_id,
                                                           OutboxMessage.order_id == order.id)
                               .with_for_update()).first()
        if message is None:
            raise NotFound(N_("There is no such message."))
        if message.status != "dead" or message.channel not in RESENDABLE:
            raise DomainError(N_("Only a text message or e-mail that failed for good can be sent again."))
        message.status, message.attempts, message.next_attempt_at = "pending", 0, utcnow()
        message.lease_until = None
        session.add(message)
        audit.append(session, actor, "resend_message", order_ref=ref, detail={"message": message_id})
    return message
