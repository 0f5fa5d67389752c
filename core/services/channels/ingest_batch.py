"""Many incoming orders at once (a file import, a push of up to 500): the same outcome as
`ingest.upsert_checked` one by one, in a handful of statements per batch instead of a dozen per order.

Orders we have not seen before and that no warehouse stock depends on are written
with bulk INSERTs: their customers, lines, history and confirmation texts are built
here exactly as the lifecycle in core/services/orders/lifecycle.py builds them (tests compare
both paths). Everything else (an order we already have, a repeat within the batch,
an order that reserves warehouse stock) goes through `ingest.upsert_checked`.

`store_batch` is what imports and the push API call: the bulk path in one savepoint and,
should anything in it be refused, every order in its own savepoint, so that one bad order
is one refused entry and the others still go in.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from types import SimpleNamespace

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from core.config import get_settings
from core.errors import DomainError
from core.i18n import N_
from core.models import (
    Customer,
    MessageTemplate,
    Order,
    OrderHistory,
    OrderLine,
    OrderStatus,
    OutboxMessage,
    ServiceTerms,
    UTCDateTime,
    utcnow,
)
from core.services.channels import ingest
from core.services.channels.ingest import NEW, IncomingOrder, UpsertResult
from core.services.messaging import email_copies as email_messages
from core.services.messaging import outbox as notifications
from core.services.orders.lifecycle import new_order_refs, promise_times
from core.services.tracking.links import link_url

logger = logging.getLogger("orderdesk.ingest")

_IN_CHUNK = 500
REFUSED = "refused"


class RefusedByDatabase(DomainError):
    """The database refused an order whose data passed every check (a constraint, a trigger,
    a value beyond a column's range): the order is refused, the rest of its batch goes in."""


@dataclass
class BatchEntry:
    """What became of one order of a batch: stored (new, updated or unchanged, with its ref),
    or refused, with the reason."""

    outcome: str
    ref: str | None = None
    refusal: DomainError | None = None


def store_batch(session: Session, checked: list[tuple[IncomingOrder, OrderStatus]], *, via: str,
                actor: str) -> list[BatchEntry]:
    """Orders that passed `ingest.check_incoming`, in the caller's write transaction; entries in input order.

    All of them in a few statements when nothing says no; otherwise each order on its own in
    its own savepoint, in the order given (callers that take row locks sort the batch first)."""
    if not checked:
        return []
    try:
        with session.begin_nested():
            upserted = upsert_orders(session, checked, via=via, actor=actor)
        return [BatchEntry(result.outcome, result.ref) for result in upserted]
    except (DomainError, SQLAlchemyError) as exc:
        logger.info("batch of %d orders refused in bulk (%s); storing them one by one", len(checked),
                    exc.__class__.__name__)
    return [_store_one(session, incoming, target, via=via, actor=actor) for incoming, target in checked]


def _store_one(session: Session, incoming: IncomingOrder, target: OrderStatus, *, via: str,
               actor: str) -> BatchEntry:
    failure: SQLAlchemyError | None = None
    # A second try: a unique clash with a concurrent writer (the same new customer from another
    # call) is resolved once that writer has committed, which the clash waited for.
    for _attempt in range(2):
        try:
            with session.begin_nested():
                result = ingest.upsert_checked(session, incoming, target, via=via, actor=actor)
            return BatchEntry(result.outcome, result.ref)
        except DomainError as exc:
            return BatchEntry(REFUSED, refusal=exc)
        except SQLAlchemyError as exc:
            failure = exc
    logger.warning("order %s %s refused by the database: %s", incoming.order.channel, incoming.order.channel_order_no,
                   failure)
    return BatchEntry(REFUSED, refusal=RefusedByDatabase(N_("The database refused this order (%(error)s)."),
                                                         error=failure.__class__.__name__))


@dataclass
class _Confirmation:
    template: str | None

    def body(self, session: Session, params: dict[str, str]) -> str:
        if self.template is not None:
            try:
                return self.template.format(**params)
            except (KeyError, IndexError, ValueError):
                pass
        return notifications.render(session, "order_confirmed", "zh_CN", params)


@lru_cache(maxsize=64)
def _status_detail(before: str, after: str) -> str:
    return json.dumps({"from": before, "to": after}, ensure_ascii=False, sort_keys=True)


def upsert_orders(session: Session, checked: list[tuple[IncomingOrder, OrderStatus]], *, via: str,
                  actor: str) -> list[UpsertResult]:
    """Orders that passed `ingest.check_incoming`, in the caller's write transaction, results in input order."""
    nos = sorted({incoming.order.channel_order_no for incoming, _ in checked})
    existing: set[tuple[str, str]] = set()
    for start in range(0, len(nos), _IN_CHUNK):
        existing.update((channel, no) for channel, no in session.connection().execute(
            select(Order.channel, Order.channel_order_no).where(Order.channel_order_no.in_(nos[start:start + _IN_CHUNK]))
        ))
    seen: set[tuple[str, str]] = set()
    bulk: list[int] = []
    one_by_one: list[int] = []
    for index, (incoming, _) in enumerate(checked):
        key = (incoming.order.channel, incoming.order.channel_order_no)
        if key in existing or key in seen or incoming.order.warehouse_id is not None:
            one_by_one.append(index)
        else:
            bulk.append(index)
        seen.add(key)
    results: list[UpsertResult | None] = [None] * len(checked)
    refs = _create_all(session, [checked[i] for i in bulk], via=via, actor=actor)
    for index, ref in zip(bulk, refs, strict=True):
        results[index] = UpsertResult(NEW, ref)
    session.expire_all()
    for index in one_by_one:
        incoming, target = checked[index]
        results[index] = ingest.upsert_checked(session, incoming, target, via=via, actor=actor)
    return results  # type: ignore[return-value]


def _bulk_insert(session: Session, table, rows: list[dict]) -> None:  # noqa: ANN001
    """executemany straight on the driver, the values converted by each column's own type
    (UTC times as the models store them): the Core insert spends more time building
    parameters than the database spends inserting them."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    columns = list(rows[0])
    processors = [_sqlite_utc_text if dialect.name == "sqlite" and isinstance(table.c[name].type, UTCDateTime)
                  else table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    quoted = ", ".join(f'"{name}"' for name in columns)
    # Table and column names come from the models, never from input.
    sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join([marker] * len(columns))})'  # noqa: S608
    converted = [(index, process) for index, process in enumerate(processors) if process is not None]
    values = []
    for row in rows:
        value = [row[name] for name in columns]
        for index, process in converted:
            if value[index] is not None:
                value[index] = process(value[index])
        values.append(tuple(value))
    connection.exec_driver_sql(sql, values)


def _sqlite_utc_text(value: datetime) -> str:
    """What UTCDateTime stores on SQLite ('2026-11-11 00:05:00.000000', UTC), five times faster."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given; store timezone-aware times only")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _customers(session: Session, batch: list[tuple[IncomingOrder, OrderStatus]],
               now: datetime) -> dict[str, tuple[int, str | None]]:
    """phone -> (customer id, e-mail address): as get_or_create_customer one by one, the e-mail
    address of the last order that gives one replaces the one on file."""
    connection = session.connection()
    names: dict[str, str] = {}
    emails: dict[str, str] = {}
    for incoming, _ in batch:
        names.setdefault(incoming.order.customer_phone, incoming.order.customer_name)
        if incoming.order.customer_email:
            emails[incoming.order.customer_phone] = incoming.order.customer_email
    phones = sorted(names)
    known: dict[str, tuple[int, str | None]] = {}
    for start in range(0, len(phones), _IN_CHUNK):
        known.update((phone, (customer_id, email)) for phone, customer_id, email in connection.execute(
            select(Customer.phone, Customer.id, Customer.email).where(Customer.phone.in_(phones[start:start + _IN_CHUNK]))
        ))
    changed = [{"b_phone": phone, "b_email": emails[phone]} for phone, (_, email) in known.items()
               if phone in emails and emails[phone] != email]
    if changed:
        connection.execute(update(Customer.__table__).where(Customer.__table__.c.phone == bindparam("b_phone"))
                           .values(email=bindparam("b_email")), changed)
    customers = {phone: (customer_id, emails.get(phone, email)) for phone, (customer_id, email) in known.items()}
    missing = [{"phone": phone, "name": names[phone][:64], "email": emails.get(phone), "created_at": now}
               for phone in phones if phone not in known]
    if missing:
        # A plain executemany, then the new ids by their unique phone: RETURNING with guaranteed
        # order would cost SQLite one statement per row.
        _bulk_insert(session, Customer.__table__, missing)
        added = [row["phone"] for row in missing]
        for start in range(0, len(added), _IN_CHUNK):
            customers.update((phone, (customer_id, emails.get(phone))) for phone, customer_id in connection.execute(
                select(Customer.phone, Customer.id).where(Customer.phone.in_(added[start:start + _IN_CHUNK]))
            ))
    return customers


def _outbox_row(fields: dict, now: datetime) -> dict:
    """A pending outbox row as OutboxMessage's defaults make it."""
    return {**fields, "status": "pending", "attempts": 0, "next_attempt_at": now, "lease_until": None,
            "last_error": "", "provider_message_id": "", "created_at": now, "sent_at": None}


def _create_all(session: Session, batch: list[tuple[IncomingOrder, OrderStatus]], *, via: str,
                actor: str) -> list[str]:
    if not batch:
        return []
    connection = session.connection()
    now = utcnow()
    settings = get_settings()
    customers = _customers(session, batch, now)
    all_terms = list(session.execute(
        select(ServiceTerms.id, ServiceTerms.effective_from, ServiceTerms.ship_within_hours,
               ServiceTerms.delivery_within_days).order_by(ServiceTerms.effective_from.desc())
    ).all())
    notify = not session.info.get(notifications.SUPPRESS)
    override = session.execute(select(MessageTemplate.body).where(
        MessageTemplate.event == "order_confirmed", MessageTemplate.locale == "zh_CN")).scalars().first()
    confirmation = _Confirmation(override or notifications.DEFAULT_TEMPLATES["order_confirmed"]["zh_CN"])

    order_rows: list[dict] = []
    histories: list[list[dict]] = []
    confirmations: list[datetime | None] = []  # promised_ship_by of those that get a text
    fresh_refs = iter(new_order_refs(len(batch)))
    for incoming, target in batch:
        new = incoming.order
        created_at = new.created_at or now
        terms = next((t for t in all_terms if t.effective_from <= created_at), None)
        items_total = sum(line.quantity * line.unit_price_minor for line in new.lines)
        address = new.address
        row = {
            "ref": new.ref or next(fresh_refs), "channel": new.channel, "channel_order_no": new.channel_order_no,
            "customer_id": customers[new.customer_phone][0], "status": OrderStatus.PENDING_PAYMENT.value,
            "currency": new.currency, "items_total_minor": items_total, "shipping_minor": new.shipping_minor,
            "discount_minor": new.discount_minor,
            "total_minor": items_total + new.shipping_minor - new.discount_minor, "paid_minor": None,
            "created_at": created_at, "updated_at": created_at, "paid_at": None, "promised_ship_by": None,
            "promised_delivery_by": None, "delivered_at": None, "cancelled_at": None,
            "presale_ships_on": new.presale_ships_on, "source_status_at": incoming.status_at,
            "warehouse_id": None, "terms_id": terms.id if terms else None, "is_priority": False,
            "link_version": 0, "ship_recipient": address.recipient, "ship_phone": address.phone,
            "ship_province": address.province, "ship_city": address.city, "ship_district": address.district,
            "ship_street": address.street, "ship_postal_code": address.postal_code, "customs_declaration_no": "",
        }
        history = [{"kind": "created", "actor": actor, "via": via, "at": created_at,
                    "detail": json.dumps({"raw": incoming.raw} if incoming.raw else {}, ensure_ascii=False,
                                         sort_keys=True)}]
        quiet = target in ingest._PAST_PAYMENT
        texted = None
        for step in ingest.lifecycle_path(OrderStatus.PENDING_PAYMENT, target):
            when = (incoming.paid_at or incoming.status_at) if step == OrderStatus.PAID else incoming.status_at
            history.append({"kind": "status", "actor": actor, "via": via, "at": when,
                            "detail": _status_detail(row["status"], step.value)})
            row["status"], row["updated_at"] = step.value, when
            if step == OrderStatus.PAID:
                row["paid_at"] = when
                row["paid_minor"] = incoming.paid_minor if incoming.paid_minor is not None else row["total_minor"]
                row["promised_ship_by"], row["promised_delivery_by"] = promise_times(
                    SimpleNamespace(presale_ships_on=new.presale_ships_on), terms, when)
                if not quiet and notify:
                    texted = row["promised_ship_by"]
            elif step == OrderStatus.CANCELLED:
                row["cancelled_at"] = when
            elif step == OrderStatus.DELIVERED:
                row["delivered_at"] = when
        order_rows.append(row)
        histories.append(history)
        confirmations.append(texted)

    _bulk_insert(session, Order.__table__, order_rows)
    refs = [row["ref"] for row in order_rows]
    id_of: dict[str, int] = {}
    for start in range(0, len(refs), _IN_CHUNK):
        id_of.update((ref, order_id) for ref, order_id in connection.execute(
            select(Order.ref, Order.id).where(Order.ref.in_(refs[start:start + _IN_CHUNK]))))
    order_ids = [id_of[ref] for ref in refs]
    lines, history_rows, messages = [], [], []
    zone = settings.tz
    # Customers who linked WeChat get the confirmation as a template message, as one by one.
    openids = notifications.wechat_openids(
        session, [row["customer_id"] for row, texted in zip(order_rows, confirmations, strict=True) if texted],
        "order_confirmed")
    for order_id, row, history, texted, (incoming, _) in zip(
            order_ids, order_rows, histories, confirmations, batch, strict=True):
        lines.extend({"order_id": order_id, "sku": line.sku, "name": line.name, "quantity": line.quantity,
                      "unit_price_minor": line.unit_price_minor, "reserved_qty": 0} for line in incoming.order.lines)
        history_rows.extend({"order_id": order_id, **entry} for entry in history)
        if texted is not None:
            link = link_url(SimpleNamespace(ref=row["ref"], link_version=0), settings)
            params = {"ship_by": texted.astimezone(zone).strftime("%m-%d %H:%M"), "link": link}
            text = confirmation.body(session, {"ref": row["ref"], **params})
            channel, recipient, body = notifications.addressed(
                "order_confirmed", ref=row["ref"], phone=incoming.order.customer_phone,
                openid=openids.get(row["customer_id"]), text=text, params=params)
            dedupe_key = f"confirmed:{order_id}"
            messages.append(_outbox_row({"channel": channel, "recipient": recipient, "event": "order_confirmed",
                                         "body": body, "order_id": order_id, "dedupe_key": dedupe_key}, now))
            copy = email_messages.email_copy("order_confirmed", email=customers[incoming.order.customer_phone][1],
                                             order_id=order_id, text=text, dedupe_key=dedupe_key)
            if copy is not None:
                messages.append(_outbox_row(copy, now))
    _bulk_insert(session, OrderLine.__table__, lines)
    _bulk_insert(session, OrderHistory.__table__, history_rows)
    _bulk_insert(session, OutboxMessage.__table__, messages)
    return [row["ref"] for row in order_rows]
