"""Retention: the personal data of orders completed longer ago than the retention period is
forgotten: the address on the order, and what other records picked up along the way. The
order, its amounts, its status history and its carrier-event chain stay, so the order
remains a verifiable record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from core.db import Database
from core.models import (
    Customer,
    Dispute,
    DisputeAction,
    EvidenceDownload,
    Order,
    OrderHistory,
    OrderStatus,
    OutboxMessage,
    WarehouseTask,
)
from core.services.actors import Actor
from core.services.orders import lifecycle as order_service

# Never shorter, whatever the settings say: disputes and chargebacks come back for years.
RETENTION_YEARS_MIN = 3
# Orders per transaction: the first run on an old shop must not hold the write lock for minutes.
BATCH = 500
CLOSED = (OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REFUNDED)
ANONYMISED_RECIPIENT = "已匿名"


@dataclass(frozen=True)
class Anonymised:
    orders: int
    # Customers' photos whose rows are gone: the caller deletes the files once this has committed.
    photo_keys: list[str]


def retention_years(configured: int) -> int:
    return max(configured, RETENTION_YEARS_MIN)


def anonymise_batch(db: Database, actor: Actor, *, years: int, now: datetime, batch: int = BATCH) -> Anonymised:
    """Anonymise up to `batch` closed orders untouched for `years`, everything they left elsewhere,
    and the customers who have no order with an address any more; one transaction. Run again until
    it returns fewer than `batch` orders. Idempotent: an anonymised order has no phone to match."""
    # The one place orders reach into disputes (which import orders): the shopper's words and photos
    # on a case are personal data of the order too.
    from core.services.disputes import problem_reports

    cutoff = now - timedelta(days=365 * years)
    with db.write() as session:
        orders = session.exec(select(Order).where(
            Order.status.in_(CLOSED), Order.updated_at < cutoff, Order.ship_phone != "",
        ).order_by(Order.id).limit(batch).with_for_update()).all()
        for order in orders:
            order.ship_recipient, order.ship_phone, order.ship_street, order.ship_postal_code = (
                ANONYMISED_RECIPIENT, "", "", "")
            session.add(order)
            order_service.record(session, order, "anonymised", actor=actor.name, via=actor.via,
                                 detail={"retention_years": years})
        order_ids = [order.id for order in orders]
        photo_keys = problem_reports.forget_customer_content(session, order_ids)
        forget_order_records(session, order_ids)
        forget_customers_without_addresses(session)
    return Anonymised(orders=len(orders), photo_keys=photo_keys)


def forget_customers_without_addresses(session: Session) -> int:
    """Customers none of whose orders still holds an address lose their name and e-mail address."""
    customers = session.exec(select(Customer).where(
        ~Customer.id.in_(select(Order.customer_id).where(Order.ship_phone != "")),
        (Customer.name != "") | Customer.email.is_not(None))).all()
    for customer in customers:
        customer.name, customer.email = "", None
        session.add(customer)
    return len(customers)

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
