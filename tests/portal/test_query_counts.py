"""The portal's busiest pages run a fixed, small number of SQL statements however
many orders, items and carrier events they show (no query per order or per event)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from core.config import get_settings
from core.services.tracking import links as tracking_links
from tests.factories import add_event, add_terms, make_order, ship


@contextmanager
def statements(db) -> Iterator[list[str]]:  # noqa: ANN001
    """The SQL statements (not BEGIN/ROLLBACK) the database runs inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        if statement.lstrip().split(None, 1)[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def shipped_orders(db, count: int, *, events_each: int = 3) -> list:  # noqa: ANN001
    now = datetime.now(UTC)
    orders = []
    for n in range(count):
        order = make_order(db, paid=True, created_at=now - timedelta(days=n + 1),
                           lines=[("TEA-1", "西湖龙井", 1, 1990), ("CUP-1", "玻璃茶杯", 2, 8900)])
        shipment = ship(db, order.ref, at=now - timedelta(days=n, hours=20))
        for k in range(events_each):
            add_event(db, shipment.id, occurred_at=now - timedelta(days=n, hours=19 - k), raw_text=f"到达第 {k} 站")
        orders.append(order)
    return orders


def test_order_list_with_ten_orders_runs_four_statements(alice, db):
    add_terms(db)
    shipped_orders(db, 10)
    alice.get("/orders")  # the session's first use may record when it was last seen
    with statements(db) as seen:
        page = alice.get("/orders")
    assert page.status_code == 200
    assert page.text.count('class="card order-card"') == 10
    # session, orders with their shipments, their lines, the newest event of each shipment
    assert len(seen) == 4, seen


def test_order_list_does_not_query_more_for_more_orders(alice, db):
    add_terms(db)
    shipped_orders(db, 2)
    alice.get("/orders")
    with statements(db) as few:
        alice.get("/orders")
    shipped_orders(db, 8, events_each=6)
    with statements(db) as many:
        alice.get("/orders")
    assert len(few) == len(many) == 4


def test_order_page_runs_five_statements_whatever_its_events(alice, db):
    add_terms(db)
    short, long = shipped_orders(db, 2, events_each=2)
    for k in range(28):
        shipment_id = ship_id(db, long.ref)
        add_event(db, shipment_id, occurred_at=datetime.now(UTC) - timedelta(minutes=60 - k), raw_text=f"分拣 {k}")
    alice.get(f"/orders/{short.ref}")
    counts = {}
    for order, events in ((short, 2), (long, 30)):
        with statements(db) as seen:
            page = alice.get(f"/orders/{order.ref}")
        assert page.text.count('class="event') == events
        counts[events] = len(seen)
    # session, order with terms and shipments, events, lines, history
    assert counts == {2: 5, 30: 5}


def test_tracking_link_page_runs_two_statements(stranger, db):
    add_terms(db)
    (order,) = shipped_orders(db, 1, events_each=5)
    token = tracking_links.make_token(order, secret=get_settings().secret_key, valid_for=timedelta(days=1))
    with statements(db) as seen:
        page = stranger.get(f"/t/{token}")
    assert page.status_code == 200
    assert page.text.count('class="event') == 5
    assert len(seen) == 2, seen  # order with terms and shipments, events


def ship_id(db, ref: str) -> int:  # noqa: ANN001
    from core.services.orders import lifecycle as order_service

    return order_service.get_order(db, ref).shipments[0].id
