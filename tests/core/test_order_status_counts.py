"""The overview's counts per status come from counters the database keeps with triggers;
they must equal an exact count however the orders were written."""

from sqlalchemy import func, text
from sqlmodel import select

from core.models import Order
from core.services.orders import lifecycle as order_service
from tests.factories import deliver, make_order, ship


def exact_counts(db) -> dict[str, int]:
    with db.read() as session:
        rows = session.exec(select(Order.status, func.count()).group_by(Order.status)).all()
    return dict(rows)


def test_counts_follow_creation_payment_shipping_and_delivery(db):
    refs = [make_order(db, paid=i % 2 == 0).ref for i in range(11)]
    assert order_service.count_by_status(db) == {"paid": 6, "pending_payment": 5}

    ship(db, refs[0])
    ship(db, refs[2])
    deliver(db, refs[2])
    assert order_service.count_by_status(db) == {"paid": 4, "pending_payment": 5, "shipped": 1, "delivered": 1}
    assert order_service.count_by_status(db) == exact_counts(db)


def test_counts_hold_for_rows_written_without_the_orm_and_for_deletes(db):
    for _ in range(3):
        make_order(db)
    with db.write() as session:
        # A bulk status fix by hand, as an operator might run it, and a deleted test order.
        session.execute(text("UPDATE orders SET status = 'cancelled' WHERE id IN (SELECT min(id) FROM orders)"))
        session.execute(text("UPDATE orders SET status = status"))  # no change, no count moves
        victim = session.execute(text("SELECT max(id) FROM orders")).scalar_one()
        session.execute(text("DELETE FROM order_history WHERE order_id = :id"), {"id": victim})
        session.execute(text("DELETE FROM order_line WHERE order_id = :id"), {"id": victim})
        session.execute(text("DELETE FROM orders WHERE id = :id"), {"id": victim})
    assert order_service.count_by_status(db) == {"cancelled": 1, "pending_payment": 1}
    assert order_service.count_by_status(db) == exact_counts(db)


def test_a_rolled_back_change_moves_no_count(db):
    make_order(db)
    try:
        with db.write() as session:
            session.execute(text("UPDATE orders SET status = 'paid'"))
            raise RuntimeError("the caller fails after the update")
    except RuntimeError:
        pass
    assert order_service.count_by_status(db) == {"pending_payment": 1}
