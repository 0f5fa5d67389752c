"""An address change and the warehouse's hand-off racing for the same order.

Both take the order's row lock (SELECT ... FOR UPDATE on PostgreSQL, BEGIN
IMMEDIATE on SQLite), so exactly one order of events is possible per order:
either the change lands first and the label carries the new address, or the
parcel leaves first and the change is refused. Never a parcel labelled with an
address the order no longer has. Runs on both backends: on SQLite it also
proves that the two writers queue instead of failing with "database is locked".
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import select

from core.errors import TransitionNotAllowed
from core.models import OrderStatus, WarehouseTask
from core.services.actors import Actor
from core.services.orders import lifecycle as order_service
from core.services.orders import shipping
from core.services.orders.address_change import AlreadyShipped, change_address
from core.services.orders.addresses import address_of
from tests.factories import address, make_order

ORDERS = 20
ORIGINAL_STREET = address().street

SYSTEM = Actor.system(via="test")


def new_address(n: int) -> dict[str, str]:
    return {"recipient": "王五", "phone": "13700137000", "province": "广东省", "city": "深圳市",
            "district": "南山区", "street": f"科技园南区 {n} 号 3 栋 1201", "postal_code": "518057"}


def test_address_change_racing_the_hand_off_never_changes_a_shipped_order(db):
    refs = [make_order(db, paid=True).ref for _ in range(ORDERS)]
    start = threading.Barrier(2 * ORDERS, timeout=60)

    def attempt_change(n: int, ref: str) -> str:
        start.wait()
        try:
            change_address(db, SYSTEM, ref, new_address(n))
        except AlreadyShipped:
            return "refused"
        return "changed"

    def attempt_ship(n: int, ref: str) -> str:
        start.wait()
        try:
            shipping.mark_shipped(db, Actor.integration("warehouse", via="api"), ref, carrier="SF",
                                  tracking_no=f"SFRACE{n:04d}")
        except TransitionNotAllowed:
            return "refused"
        return "shipped"

    with ThreadPoolExecutor(max_workers=2 * ORDERS) as pool:
        changes = [pool.submit(attempt_change, n, ref) for n, ref in enumerate(refs)]
        shipments = [pool.submit(attempt_ship, n, ref) for n, ref in enumerate(refs)]
        # .result() re-raises anything other than the two refusals: any other error fails the test.
        change_outcomes = [future.result(timeout=120) for future in changes]
        ship_outcomes = [future.result(timeout=120) for future in shipments]

    assert ship_outcomes == ["shipped"] * ORDERS, "a change of address never blocks the hand-off"
    with db.read() as session:
        task_orders = Counter(task.order_id for task in session.exec(select(WarehouseTask)).all())

    for n, (ref, outcome) in enumerate(zip(refs, change_outcomes, strict=True)):
        order = order_service.get_order(db, ref)
        assert order.status == OrderStatus.SHIPPED
        [shipment] = order.shipments
        assert shipment.ship_to == address_of(order).label_line, f"{ref}: address changed after shipping"
        ship_entry = next(h for h in order.history if h.kind == "status" and json.loads(h.detail)["to"] == "shipped")
        changes = [h for h in order.history if h.kind == "address_changed"]
        if outcome == "changed":
            assert order.ship_street == new_address(n)["street"]
            [change] = changes
            assert change.id < ship_entry.id and change.at <= ship_entry.at, f"{ref}: change recorded after shipping"
            assert task_orders[order.id] == 1
        else:
            assert order.ship_street == ORIGINAL_STREET
            assert changes == []
            assert task_orders[order.id] == 0
