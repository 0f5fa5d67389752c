"""Stock follows the order: reserved when paid, released when cancelled, taken when shipped, never below zero."""

from sqlmodel import select

from core.models import OrderLine, SkuStock
from core.services.actors import Actor
from core.services.orders import for_staff as admin_orders
from core.services.orders import lifecycle as order_service
from core.services.orders import shipping
from tests.factories import add_warehouse, make_order, set_stock


def stock(db, sku, warehouse_id):
    with db.read() as session:
        return session.exec(select(SkuStock).where(SkuStock.sku == sku, SkuStock.warehouse_id == warehouse_id)).one()


def test_paid_reserves_cancel_releases(db):
    warehouse = add_warehouse(db)
    set_stock(db, "TEA", warehouse.id, on_hand=10)
    order = make_order(db, lines=[("TEA", "龙井", 3, 100)], warehouse_id=warehouse.id)
    assert stock(db, "TEA", warehouse.id).reserved == 0
    order_service.mark_paid(db, order.ref, paid_minor=300)
    assert (stock(db, "TEA", warehouse.id).reserved, stock(db, "TEA", warehouse.id).available) == (3, 7)
    admin_orders.cancel(db, Actor.system(via="admin"), order.ref, "客户取消")
    assert (stock(db, "TEA", warehouse.id).reserved, stock(db, "TEA", warehouse.id).on_hand) == (0, 10)


def test_shipping_takes_the_units_off_the_shelf(db):
    warehouse = add_warehouse(db)
    set_stock(db, "TEA", warehouse.id, on_hand=10)
    order = make_order(db, lines=[("TEA", "龙井", 4, 100)], warehouse_id=warehouse.id, paid=True)
    shipping.mark_shipped(db, Actor.integration("wh", via="admin"), order.ref, carrier="SF", tracking_no="SF0001")
    row = stock(db, "TEA", warehouse.id)
    assert (row.on_hand, row.reserved) == (6, 0)


def test_never_below_zero_the_shortfall_stays_visible(db):
    warehouse = add_warehouse(db)
    set_stock(db, "TEA", warehouse.id, on_hand=2)
    order = make_order(db, lines=[("TEA", "龙井", 5, 100)], warehouse_id=warehouse.id, paid=True)
    row = stock(db, "TEA", warehouse.id)
    assert (row.reserved, row.available) == (2, 0)
    with db.read() as session:
        line = session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).one()
    assert line.reserved_qty == 2
    second = make_order(db, lines=[("TEA", "龙井", 1, 100)], warehouse_id=warehouse.id, paid=True)
    assert stock(db, "TEA", warehouse.id).reserved == 2 and second.status == "paid"
