"""What the retention job forgets of an order besides its address: the personal data that
other records picked up along the way. The order, its amounts, its status history and
its carrier-event chain stay, so the order remains a verifiable record."""

from __future__ import annotations

import json

from sqlalchemy import update
from sqlmodel import Session, select

from core.models import (
    Dispute,
    DisputeAction,
    EvidenceDownload,
    OrderHistory,
    OutboxMessage,
    WarehouseTask,
)

REDACTED = json.dumps({"redacted": "retention"})
# History entries whose detail holds an address, the channel's raw row or words to the customer.
PERSONAL_KINDS = ("created", "address_changed", "reply", "cancel_reason", "hurry")


def forget_order_records(session: Session, order_ids: list[int]) -> int:
    """Blank the personal data the orders' history, tasks, messages and download log hold;
    returns how many records were changed."""
    if not order_ids:
        return 0
    changed = 0
    for entry in session.exec(select(OrderHistory).where(OrderHistory.order_id.in_(order_ids))).all():
        detail = REDACTED if entry.kind in PERSONAL_KINDS or '"raw"' in entry.detail else entry.detail
        # "customer:+86..." names the shopper by phone; the role is all the record needs.
        actor = "customer" if entry.actor.startswith("customer:") else entry.actor
        if (detail, actor) != (entry.detail, entry.actor):
            entry.detail, entry.actor = detail, actor
            session.add(entry)
            changed += 1
    for statement in (
        update(WarehouseTask).where(WarehouseTask.order_id.in_(order_ids), WarehouseTask.detail != "{}")
        .values(detail="{}"),
        update(OutboxMessage).where(OutboxMessage.order_id.in_(order_ids), OutboxMessage.recipient != "")
        .values(recipient="", body=""),
        update(EvidenceDownload).where(EvidenceDownload.order_id.in_(order_ids),
                                       EvidenceDownload.actor.startswith("customer:"))
        .values(actor="customer", client_ip=""),
        # What staff and shopper wrote on the case (replies name people, notes quote addresses);
        # the case's steps and their times stay.
        update(DisputeAction).where(DisputeAction.dispute_id.in_(select(Dispute.id).where(
            Dispute.order_id.in_(order_ids))), DisputeAction.detail != "{}").values(detail=REDACTED),
    ):
        changed += session.execute(statement.execution_options(synchronize_session=False)).rowcount
    return changed
