"""An address change and what it writes beside the order (history, warehouse task, the text to the
customer, the staff audit entry) happen together or not at all: when the outbox or the audit insert
fails inside the use case, the order keeps its old address and nothing else is left behind.

The failure is raised by the database session at flush time (a mapper event), as a refused INSERT
would be, not by replacing our own code."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlmodel import select

from core.models import AuditEntry, OrderHistory, OutboxMessage, WarehouseTask
from core.services.actors import Actor
from core.services.identity import staff as staff_service
from core.services.orders import lifecycle as order_service
from core.services.orders.address_change import change_address
from core.services.orders.addresses import address_of
from tests.factories import ALICE_PHONE, make_order

NEW_ADDRESS = {"recipient": "王五", "phone": "13700137000", "province": "广东省", "city": "深圳市",
               "district": "南山区", "street": "科技园 8 号 1201"}

# Who creates the test cast's staff accounts (the command line, in real life).
SEEDER = Actor.system(via="test")


class InsertRefused(Exception):
    pass


@pytest.fixture
def refuse_inserts_of():
    """refuse_inserts_of(Model): every INSERT of that model fails until the test ends."""
    listeners = []

    def refuse(model) -> None:  # noqa: ANN001
        def fail(*_args) -> None:  # noqa: ANN002
            raise InsertRefused(f"{model.__name__} insert refused")

        event.listen(model, "before_insert", fail)
        listeners.append((model, fail))

    yield refuse
    for model, fail in listeners:
        event.remove(model, "before_insert", fail)


def _side_effects(db, order_id: int) -> dict[str, int]:  # noqa: ANN001
    with db.read() as session:
        return {
            "history": len(session.exec(select(OrderHistory).where(OrderHistory.order_id == order_id,
                                                                   OrderHistory.kind == "address_changed")).all()),
            "tasks": len(session.exec(select(WarehouseTask).where(WarehouseTask.order_id == order_id)).all()),
            "messages": len(session.exec(select(OutboxMessage).where(OutboxMessage.order_id == order_id,
                                                                     OutboxMessage.event == "address_changed")).all()),
            "audit": len(session.exec(select(AuditEntry).where(AuditEntry.action == "change_address")).all()),
        }


def test_shopper_address_change_whose_text_cannot_be_queued_does_not_happen(db, refuse_inserts_of):
    order = make_order(db, paid=True)
    before = address_of(order)
    refuse_inserts_of(OutboxMessage)

    with pytest.raises(InsertRefused):
        change_address(db, Actor.customer(f"+86{ALICE_PHONE}"), order.ref, NEW_ADDRESS)

    assert address_of(order_service.get_order(db, order.ref)) == before
    assert _side_effects(db, order.id) == {"history": 0, "tasks": 0, "messages": 0, "audit": 0}


def test_staff_address_change_whose_audit_entry_cannot_be_written_does_not_happen(db, refuse_inserts_of):
    order = make_order(db, paid=True)
    before = address_of(order)
    agent = staff_service.create_staff(db, SEEDER, email="agent@shop.test", role="support", password="correct horse battery")
    refuse_inserts_of(AuditEntry)

    with pytest.raises(InsertRefused):
        change_address(db, Actor.staff_member(agent, client_ip="203.0.113.9"), order.ref, NEW_ADDRESS)

    assert address_of(order_service.get_order(db, order.ref)) == before
    assert _side_effects(db, order.id) == {"history": 0, "tasks": 0, "messages": 0, "audit": 0}


def test_the_same_change_goes_through_whole_once_nothing_refuses(db):
    """The control case: the counts above are zero because of the failure, not because nothing is written."""
    order = make_order(db, paid=True)
    agent = staff_service.create_staff(db, SEEDER, email="agent@shop.test", role="support", password="correct horse battery")

    change_address(db, Actor.staff_member(agent, client_ip="203.0.113.9"), order.ref, NEW_ADDRESS)

    assert address_of(order_service.get_order(db, order.ref)).street == NEW_ADDRESS["street"]
    assert _side_effects(db, order.id) == {"history": 1, "tasks": 1, "messages": 1, "audit": 1}
