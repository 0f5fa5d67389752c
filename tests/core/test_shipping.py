"""Handing a parcel to the carrier: the tracking-number rule lives in the use case (not the admin form),
the warehouse scope is checked under the order's lock, and a staff hand-off is audited with it."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from core.errors import InvalidInput, NotFound, TransitionNotAllowed
from core.models import AuditEntry, OrderStatus
from core.services.actors import Actor
from core.services.identity import staff as staff_service
from core.services.orders import lifecycle as order_service
from core.services.orders import shipping
from tests.factories import add_warehouse, make_order

PASSWORD = "correct horse battery staple"

# Who creates the test cast's staff accounts (the command line, in real life).
SEEDER = Actor.system(via="test")


def warehouse_hand(db, warehouse) -> Actor:  # noqa: ANN001
    staff = staff_service.create_staff(db, SEEDER, email=f"packer-{warehouse.code}@shop.test", role="warehouse",
                                       password=PASSWORD, warehouse_id=warehouse.id)
    return Actor.staff_member(staff, via="admin", client_ip="198.51.100.4")


def audit_entries(db) -> list[AuditEntry]:  # noqa: ANN001
    with db.read() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all())


@pytest.mark.parametrize(("carrier", "tracking_no"), [
    ("SF", "SF1"),            # too short
    ("SF", "   "),            # blank
    ("SF", "S" * 41),         # too long
    ("DHL", "1234567890"),    # not a carrier we ship with
    ("", "SF1234567890"),     # no carrier chosen
])
def test_a_malformed_tracking_number_is_refused_and_nothing_ships(db, carrier, tracking_no):
    order = make_order(db, paid=True)
    with pytest.raises(InvalidInput) as refused:
        shipping.mark_shipped(db, Actor.system(via="admin"), order.ref, carrier=carrier, tracking_no=tracking_no)
    assert refused.value.field == "tracking_no"
    assert refused.value.message == "Choose the carrier and enter the tracking number."
    reloaded = order_service.get_order(db, order.ref)
    assert reloaded.status == OrderStatus.PAID and reloaded.shipments == []


@pytest.mark.parametrize("tracking_no", ["SF12", "S" * 40, "  SF1234567890  "])
def test_the_bounds_are_four_to_forty_characters_after_trimming(db, tracking_no):
    order = make_order(db, paid=True)
    shipment = shipping.mark_shipped(db, Actor.system(via="admin"), order.ref, carrier="SF", tracking_no=tracking_no)
    assert shipment.tracking_no == tracking_no.strip()


def test_a_staff_hand_off_is_audited_with_the_carrier_and_number(db):
    warehouse = add_warehouse(db)
    actor = warehouse_hand(db, warehouse)
    order = make_order(db, paid=True, warehouse_id=warehouse.id)
    shipping.mark_shipped(db, actor, order.ref, carrier="ZTO", tracking_no=" 7300999001 ")
    [entry] = audit_entries(db)
    assert (entry.action, entry.actor, entry.order_ref, entry.client_ip) == (
        "mark_shipped", actor.name, order.ref, "198.51.100.4")
    assert json.loads(entry.detail) == {"carrier": "ZTO", "tracking_no": "7300999001"}
    history = order_service.get_order(db, order.ref).history[-1]
    assert (history.kind, history.actor, history.via) == ("status", actor.name, "admin")


def test_a_hand_off_by_an_integration_is_in_the_history_not_the_staff_audit(db):
    order = make_order(db, paid=True)
    shipping.mark_shipped(db, Actor.integration("wms", via="api"), order.ref, carrier="SF", tracking_no="SF1234567")
    assert audit_entries(db) == []
    assert order_service.get_order(db, order.ref).history[-1].actor == "wms"


def test_another_warehouses_order_does_not_exist_for_warehouse_staff(db):
    hangzhou, guangzhou = add_warehouse(db, "HZ"), add_warehouse(db, "GZ")
    order = make_order(db, paid=True, warehouse_id=guangzhou.id)
    actor = warehouse_hand(db, hangzhou)
    # Out of scope wins over a malformed number: the answer must not tell that the order exists.
    for tracking_no in ("SF1234567", "x"):
        with pytest.raises(NotFound):
            shipping.mark_shipped(db, actor, order.ref, carrier="SF", tracking_no=tracking_no)
    assert order_service.get_order(db, order.ref).status == OrderStatus.PAID
    assert audit_entries(db) == []


def test_an_unpaid_order_cannot_be_handed_over(db):
    order = make_order(db)
    with pytest.raises(TransitionNotAllowed):
        shipping.mark_shipped(db, Actor.system(via="admin"), order.ref, carrier="SF", tracking_no="SF1234567")
