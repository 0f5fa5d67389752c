"""Orders from a channel go in exactly once; a later status wins only when it is newer."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.errors import InvalidInput
from core.models import Order, OrderHistory, OutboxMessage, SkuStock
from core.services.channels import ingest
from core.services.channels.ingest import IncomingOrder
from core.services.orders.lifecycle import NewLine, NewOrder
from tests.factories import add_warehouse, address, make_order, set_stock

T0 = datetime(2026, 11, 11, 0, 5, tzinfo=UTC)


def incoming(no="TB1001", status="paid", at=T0, *, warehouse_id=None, qty=2, **kwargs) -> IncomingOrder:
    return IncomingOrder(
        order=NewOrder(
            channel=kwargs.pop("channel", "taobao"), channel_order_no=no, customer_phone="13800138000",
            customer_name="张三", address=address(), lines=[NewLine("TEA", "龙井茶", qty, 1990)],
            created_at=T0 - timedelta(minutes=5), warehouse_id=warehouse_id,
        ),
        status=status, status_at=at, **kwargs,
    )


def upsert(db, item, via="import"):
    with db.write() as session:
        return ingest.upsert_order(session, item, via=via, actor="tester")


def stored(db, no="TB1001") -> Order:
    with db.read() as session:
        return session.exec(select(Order).where(Order.channel_order_no == no)).one()


def history(db, ref):
    with db.read() as session:
        order = session.exec(select(Order).where(Order.ref == ref)).one()
        return [(h.kind, h.via) for h in session.exec(
            select(OrderHistory).where(OrderHistory.order_id == order.id).order_by(OrderHistory.id))]


def messages(db):
    with db.read() as session:
        return [m.event for m in session.exec(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_a_new_paid_order_is_created_paid_confirmed_and_recorded_as_imported(db):
    result = upsert(db, incoming(paid_minor=3980, paid_at=T0))
    assert result.outcome == "new"
    order = stored(db)
    assert (order.ref, order.status, order.paid_minor, order.total_minor) == (result.ref, "paid", 3980, 3980)
    assert order.paid_at == T0 and order.source_status_at == T0
    assert history(db, result.ref) == [("created", "import"), ("status", "import")]
    assert messages(db) == ["order_confirmed"]


def test_the_same_order_twice_is_unchanged_and_creates_nothing(db):
    first = upsert(db, incoming())
    second = upsert(db, incoming())
    assert (second.outcome, second.ref) == ("unchanged", first.ref)
    with db.read() as session:
        assert len(session.exec(select(Order)).all()) == 1
    assert messages(db) == ["order_confirmed"]


def test_a_newer_status_updates_and_an_older_one_does_not(db):
    upsert(db, incoming(status="pending_payment", at=T0))
    assert upsert(db, incoming(status="paid", at=T0 + timedelta(hours=1))).outcome == "updated"
    assert stored(db).status == "paid"
    # An older report (the channel said "cancelled" before it said "paid"): ignored.
    assert upsert(db, incoming(status="cancelled", at=T0 + timedelta(minutes=30))).outcome == "unchanged"
    order = stored(db)
    assert (order.status, order.source_status_at) == ("paid", T0 + timedelta(hours=1))


def test_a_newer_status_that_goes_backwards_in_the_lifecycle_is_unchanged(db):
    upsert(db, incoming(status="shipped", at=T0))
    assert upsert(db, incoming(status="paid", at=T0 + timedelta(days=1))).outcome == "unchanged"
    assert stored(db).status == "shipped"


def test_paid_reserves_stock_and_a_later_cancel_releases_it(db):
    warehouse = add_warehouse(db)
    set_stock(db, "TEA", warehouse.id, on_hand=10)
    upsert(db, incoming(warehouse_id=warehouse.id, qty=3))
    with db.read() as session:
        assert session.exec(select(SkuStock)).one().reserved == 3
    assert upsert(db, incoming(status="cancelled", at=T0 + timedelta(hours=2), warehouse_id=warehouse.id)).outcome \
        == "updated"
    with db.read() as session:
        row = session.exec(select(SkuStock)).one()
    assert (row.reserved, row.on_hand) == (0, 10)
    assert stored(db).status == "cancelled"


def test_an_order_first_seen_shipped_neither_reserves_nor_texts(db):
    warehouse = add_warehouse(db)
    set_stock(db, "TEA", warehouse.id, on_hand=10)
    upsert(db, incoming(status="delivered", warehouse_id=warehouse.id))
    order = stored(db)
    assert order.status == "delivered" and order.paid_at == T0 and order.delivered_at == T0
    with db.read() as session:
        row = session.exec(select(SkuStock)).one()
    assert (row.reserved, row.on_hand) == (0, 10)
    assert messages(db) == []


def test_a_paid_order_that_ships_takes_its_units_off_the_shelf(db):
    warehouse = add_warehouse(db)
    set_stock(db, "TEA", warehouse.id, on_hand=10)
    upsert(db, incoming(warehouse_id=warehouse.id, qty=4))
    upsert(db, incoming(status="shipped", at=T0 + timedelta(days=1), warehouse_id=warehouse.id))
    with db.read() as session:
        row = session.exec(select(SkuStock)).one()
    assert (row.on_hand, row.reserved) == (6, 0)


def test_an_order_created_in_orderdesk_takes_a_channel_status(db):
    order = make_order(db, channel="jd", channel_order_no="JD77")
    result = upsert(db, incoming("JD77", channel="jd", status="paid"), via="api")
    assert (result.outcome, result.ref) == ("updated", order.ref)
    assert history(db, order.ref)[-1] == ("status", "api")


@pytest.mark.parametrize(("change", "field"), [
    ({"status": "teleported"}, "status"),
    ({"at": datetime(2026, 11, 11, 8, 0)}, "status_at"),
    ({"channel": "ebay"}, "channel"),
    ({"paid_minor": -1}, "paid_minor"),
])
def test_bad_data_is_refused_with_the_field_and_nothing_is_written(db, change, field):
    with pytest.raises(InvalidInput) as raised:
        upsert(db, incoming(**change))
    assert raised.value.field == field
    with db.read() as session:
        assert session.exec(select(Order)).all() == []


def test_a_bad_phone_in_the_address_names_the_phone(db):
    item = incoming()
    item.order.address = address(phone="12")
    with pytest.raises(InvalidInput) as raised:
        upsert(db, item)
    assert raised.value.field == "phone"


def test_lifecycle_path_walks_forward_only():
    from core.models import OrderStatus as S

    assert ingest.lifecycle_path(S.PENDING_PAYMENT, S.DELIVERED) == [S.PAID, S.SHIPPED, S.DELIVERED]
    assert ingest.lifecycle_path(S.SHIPPED, S.PAID) == []
    assert ingest.lifecycle_path(S.PAID, S.PAID) == []


@pytest.mark.parametrize("status", ["pending_payment", "paid", "picking", "shipped", "delivered", "cancelled",
                                    "refunded"])
def test_the_batch_path_writes_what_the_one_by_one_path_writes(db, status):
    from core.services.channels import ingest_batch
    from tests.factories import add_terms

    add_terms(db)
    with db.write() as session:
        one = ingest.upsert_order(session, incoming("ONE", status=status, raw={"a": 1}), via="import", actor="t")
        batch = ingest_batch.upsert_orders(session, [ingest.check_incoming(incoming("MANY", status=status,
                                                                                   raw={"a": 1}))],
                                           via="import", actor="t")
    assert [r.outcome for r in batch] == ["new"]

    def snapshot(ref):
        with db.read() as session:
            order = session.exec(select(Order).where(Order.ref == ref)).one()
            fields = order.model_dump(exclude={"id", "ref", "channel_order_no"})
            entries = [(h.kind, h.actor, h.via, h.at, h.detail) for h in session.exec(
                select(OrderHistory).where(OrderHistory.order_id == order.id).order_by(OrderHistory.id))]
            texts = [(m.event, m.recipient, m.status, m.body.replace(ref, "REF").split("/t/")[0])
                     for m in session.exec(select(OutboxMessage).where(OutboxMessage.order_id == order.id))]
            return fields, entries, texts

    assert snapshot(one.ref) == snapshot(batch[0].ref)
    from sqlalchemy import text

    with db.read() as session:  # stored alike, not just read back alike (SQLite keeps times as text)
        stored_times = session.execute(text(
            "SELECT created_at, updated_at, paid_at, source_status_at FROM orders ORDER BY id")).all()
    assert stored_times[0] == stored_times[1]


def test_a_status_time_in_the_future_is_refused(db):
    with pytest.raises(InvalidInput) as refused:
        upsert(db, incoming(at=datetime.now(UTC) + timedelta(days=400)))
    assert refused.value.field == "status_at" and "future" in str(refused.value)
    upsert(db, incoming(at=datetime.now(UTC) + timedelta(minutes=2)))  # a channel clock a little ahead is fine
