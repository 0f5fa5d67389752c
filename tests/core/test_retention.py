"""Retention as a use case: a batch of old orders anonymised in one transaction, by the system,
with its history entry; the job runs batches until none is full."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from core.config import get_settings
from core.jobs import tasks
from core.models import Customer, Order, OrderHistory, OrderStatus
from core.services.actors import Actor
from core.services.orders import lifecycle as order_service
from core.services.orders import retention
from tests.factories import make_order

JOB = Actor.system(via="job")
NOW = datetime.now(UTC)


def closed_long_ago(db, phone: str = "+8613912345678"):  # noqa: ANN001
    order = make_order(db, paid=True, phone=phone)
    with db.write() as session:
        order_service.transition(session, order_service.lock_order(session, order.ref), OrderStatus.CANCELLED,
                                 actor="t", via="admin")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET updated_at = :t WHERE id = :id"),
                     {"t": NOW - timedelta(days=365 * 3 + 10), "id": order.id})
    return order


def anonymised_refs(db) -> list[str]:  # noqa: ANN001
    with db.read() as session:
        return sorted(order.ref for order in session.exec(select(Order)).all()
                      if order.ship_recipient == retention.ANONYMISED_RECIPIENT)


def test_a_batch_takes_at_most_its_size_and_the_next_takes_the_rest(db):
    orders = [closed_long_ago(db, f"+861391234567{n}") for n in range(3)]
    first = retention.anonymise_batch(db, JOB, years=3, now=NOW, batch=2)
    assert first.orders == 2 and len(anonymised_refs(db)) == 2
    assert retention.anonymise_batch(db, JOB, years=3, now=NOW, batch=2).orders == 1
    assert retention.anonymise_batch(db, JOB, years=3, now=NOW, batch=2).orders == 0
    assert anonymised_refs(db) == sorted(order.ref for order in orders)


def test_each_anonymised_order_says_so_in_its_history_by_whom(db):
    order = closed_long_ago(db)
    retention.anonymise_batch(db, JOB, years=4, now=NOW + timedelta(days=365))
    with db.read() as session:
        entry = session.exec(select(OrderHistory).where(OrderHistory.order_id == order.id)
                             .order_by(OrderHistory.id.desc())).first()
    assert (entry.kind, entry.actor, entry.via) == ("anonymised", "system", "job")
    assert json.loads(entry.detail) == {"retention_years": 4}


def test_retention_is_never_shorter_than_three_years(db):
    assert retention.retention_years(1) == 3 and retention.retention_years(7) == 7
    order = make_order(db, paid=True)
    with db.write() as session:
        order_service.transition(session, order_service.lock_order(session, order.ref), OrderStatus.CANCELLED,
                                 actor="t", via="admin")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET updated_at = :t WHERE id = :id"),
                     {"t": NOW - timedelta(days=400), "id": order.id})
    settings = dataclasses.replace(get_settings(), retention_years=1)
    assert tasks.retention(db, settings, NOW) == "0 orders anonymised (older than 3 years), 0 photos deleted"


def test_a_batch_that_fails_half_way_anonymises_nothing(db, monkeypatch):
    closed_long_ago(db)

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("disk full")

    monkeypatch.setattr(retention, "forget_order_records", broken)
    with pytest.raises(RuntimeError):
        retention.anonymise_batch(db, JOB, years=3, now=NOW)
    assert anonymised_refs(db) == []
    with db.read() as session:
        assert session.exec(select(OrderHistory).where(OrderHistory.kind == "anonymised")).all() == []
        assert [c.name for c in session.exec(select(Customer)).all()] == ["张三"]


def test_the_job_runs_batches_until_one_is_not_full(db, monkeypatch):
    for n in range(5):
        closed_long_ago(db, f"+861381234567{n}")
    monkeypatch.setattr(retention, "BATCH", 2)
    assert tasks.retention(db, get_settings(), NOW) == "5 orders anonymised (older than 3 years), 0 photos deleted"
    assert len(anonymised_refs(db)) == 5
