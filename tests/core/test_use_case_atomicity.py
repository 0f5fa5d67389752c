"""A staff action and its audit entry are one transaction: when the audit log refuses the entry,
the action did not happen either (no status change, no history row, no shipment, no message, no stock
movement), on SQLite and on PostgreSQL.

The audit table itself refuses the insert (a trigger), so the failure comes from the database at
flush or commit time, after the action's own rows were written in the same transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import func, select

from core.models import AuditEntry, OrderHistory, OrderNote, OutboxMessage, Shipment, SkuStock
from core.services.actors import Actor
from core.services.identity import staff as staff_service
from core.services.messaging import order_messages
from core.services.orders import for_staff as staff_orders
from core.services.orders import lifecycle as order_service
from core.services.orders import shipping
from tests.factories import add_warehouse, make_order, set_stock

# Who creates the test cast's staff accounts (the command line, in real life).
SEEDER = Actor.system(via="test")


@pytest.fixture
def audit_refuses(db) -> Iterator[None]:
    """Every insert into the audit log fails until the test ends."""
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.execute(text("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
                              "BEGIN SELECT RAISE(ABORT, 'the audit log refuses the entry'); END"))
        else:
            conn.execute(text("CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
                              "$$ BEGIN RAISE EXCEPTION 'the audit log refuses the entry'; END $$"))
            conn.execute(text("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
                              "FOR EACH ROW EXECUTE FUNCTION refuse_audit()"))
    yield
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.execute(text("DROP TRIGGER refuse_audit"))
        else:
            conn.execute(text("DROP TRIGGER refuse_audit ON audit_log"))
            conn.execute(text("DROP FUNCTION refuse_audit()"))


@pytest.fixture
def supervisor(db) -> Actor:
    staff = staff_service.create_staff(db, SEEDER, email="supervisor@shop.test", role="supervisor",
                                       password="correct horse battery staple")
    return Actor.staff_member(staff, via="admin", client_ip="203.0.113.7")


@pytest.fixture
def paid_order(db):
    warehouse = add_warehouse(db)
    set_stock(db, "TEA", warehouse.id, on_hand=10)
    return make_order(db, paid=True, warehouse_id=warehouse.id, lines=[("TEA", "龙井", 3, 100)])


def count(db, model, *where) -> int:  # noqa: ANN001
    with db.read() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def history_kinds(db, order) -> list[str]:  # noqa: ANN001
    with db.read() as session:
        return [h.kind for h in session.exec(select(OrderHistory).where(OrderHistory.order_id == order.id)
                                             .order_by(OrderHistory.id)).all()]


def stock_row(db, order) -> tuple[int, int]:  # noqa: ANN001
    with db.read() as session:
        row = session.exec(select(SkuStock).where(SkuStock.sku == "TEA",
                                                  SkuStock.warehouse_id == order.warehouse_id)).one()
        return row.on_hand, row.reserved


def test_the_audit_trigger_is_what_fails_the_action(db, supervisor, paid_order):
    """Without the refusal the same call succeeds and is audited: the tests below fail for the right reason."""
    staff_orders.cancel(db, supervisor, paid_order.ref, "客户要求取消")
    assert order_service.get_order(db, paid_order.ref).status == "cancelled"
    assert count(db, AuditEntry, AuditEntry.action == "cancel_order") == 1


def test_a_cancel_whose_audit_entry_fails_did_not_happen(db, supervisor, paid_order, audit_refuses):
    before = history_kinds(db, paid_order), stock_row(db, paid_order)
    with pytest.raises(DBAPIError, match="the audit log refuses the entry"):
        staff_orders.cancel(db, supervisor, paid_order.ref, "客户要求取消")
    order = order_service.get_order(db, paid_order.ref)
    assert (order.status, order.cancelled_at) == ("paid", None)
    assert (history_kinds(db, paid_order), stock_row(db, paid_order)) == before  # nor the reserved stock released
    assert count(db, AuditEntry) == 0


def test_a_hand_off_whose_audit_entry_fails_did_not_happen(db, supervisor, paid_order, audit_refuses):
    before = history_kinds(db, paid_order), stock_row(db, paid_order)
    messages = count(db, OutboxMessage, OutboxMessage.order_id == paid_order.id)
    with pytest.raises(DBAPIError, match="the audit log refuses the entry"):
        shipping.mark_shipped(db, supervisor, paid_order.ref, carrier="SF", tracking_no="SF1234567890")
    assert order_service.get_order(db, paid_order.ref).status == "paid"
    assert count(db, Shipment, Shipment.order_id == paid_order.id) == 0
    assert (history_kinds(db, paid_order), stock_row(db, paid_order)) == before  # stock still on the shelf
    assert count(db, OutboxMessage, OutboxMessage.order_id == paid_order.id) == messages  # no "shipped" text
    assert count(db, AuditEntry) == 0


def test_a_note_whose_audit_entry_fails_is_not_kept(db, supervisor, paid_order, audit_refuses):
    before = history_kinds(db, paid_order)
    with pytest.raises(DBAPIError):
        staff_orders.add_note(db, supervisor, paid_order.ref, "客户来电催发货")
    assert count(db, OrderNote) == 0 and history_kinds(db, paid_order) == before


def test_a_resend_whose_audit_entry_fails_leaves_the_message_dead(db, supervisor, paid_order, audit_refuses):
    with db.write() as session:
        message = session.exec(select(OutboxMessage).where(OutboxMessage.order_id == paid_order.id)).first()
        message.status, message.attempts = "dead", 6
        session.add(message)
    with pytest.raises(DBAPIError):
        order_messages.resend(db, supervisor, paid_order.ref, message.id)
    with db.read() as session:
        assert (session.get(OutboxMessage, message.id).status, session.get(OutboxMessage, message.id).attempts) \
            == ("dead", 6)


def test_no_order_page_without_its_audit_entry(db, supervisor, paid_order, audit_refuses):
    """Revealing the full personal data is the audit entry's whole point: no entry, no page."""
    with pytest.raises(DBAPIError):
        staff_orders.view_order(db, supervisor, paid_order.ref, reveal=True)
