"""The scan over real orders: facts from the database, tags opened once, resolved ones respected,
and the preview that writes nothing."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from core.models import Order, OrderTag, TriageRule
from core.services.actors import Actor
from core.services.disputes import cases as disputes
from core.services.identity.staff import create_staff
from core.services.orders.address_change import change_address
from core.services.triage.engine import preview, scan
from core.services.triage.queue import resolve_tag
from core.services.triage.rules import spec_of
from tests.factories import address
from tests.triage_factories import (
    add_tag,
    add_warehouse,
    all_tags,
    carrier_event,
    install_rules,
    open_tags,
    paid_order,
    set_stock,
    ship,
)

NOW = datetime.now(UTC).replace(microsecond=0)
H = timedelta(hours=1)

SYSTEM = Actor.system(via="test")


@pytest.fixture
def hz(db):
    install_rules(db)
    return add_warehouse(db)


@pytest.fixture
def agent(db):
    return create_staff(db, SYSTEM, email="agent@example.com", role="support", password="correct horse battery")


def test_scan_opens_a_tag_routed_to_its_queue_with_its_sla(db, hz):
    order = paid_order(db, at=NOW - 2 * H, warehouse_id=hz.id, address=address(street="文三路 100 号菜鸟驿站"))
    result = scan(db, NOW)
    assert (result.orders, result.opened) == (1, 1)
    [tag] = open_tags(db)
    assert (tag.order_id, tag.rule_code, tag.tag, tag.queue) == (order.id, "address_proxy_words", "address_risk",
                                                                 "customer_service")
    assert tag.opened_at == NOW and tag.sla_due_at == NOW + 8 * H
    assert json.loads(tag.detail) == {"reason": "proxy_word", "word": "驿站"}
    assert tag.owner_id is None and tag.resolved_at is None


def test_several_tags_on_one_order(db, hz):
    set_stock(db, "SKU-1", hz.id, on_hand=1)
    order = paid_order(db, at=NOW - 2 * H, warehouse_id=hz.id, paid_minor=100,
                       address=address(phone="+862161234567", district="", street="文三路 100 号菜鸟驿站"))
    scan(db, NOW)
    tags = open_tags(db, order.id)
    assert sorted(t.rule_code for t in tags) == ["address_no_district", "address_phone_not_mobile",
                                                 "address_proxy_words", "payment_amount_mismatch", "stock_short"]
    assert {t.queue for t in tags} == {"customer_service", "finance", "warehouse"}


def test_rescanning_does_not_duplicate_open_tags(db, hz):
    paid_order(db, at=NOW - 2 * H, warehouse_id=hz.id, address=address(district="", street="文三路菜鸟驿站"))
    first = scan(db, NOW)
    second = scan(db, NOW + H)
    assert (first.opened, second.opened, second.already_open) == (2, 0, 2)
    assert len(all_tags(db)) == 2


def test_resolved_tag_stays_resolved_on_rescan(db, hz, agent):
    paid_order(db, at=NOW - 2 * H, warehouse_id=hz.id, address=address(street="文三路 100 号菜鸟驿站"))
    scan(db, NOW)
    [tag] = open_tags(db)
    resolve_tag(db, Actor.staff_member(agent), tag.id, "客户确认由驿站代收", now=NOW + H)
    again = scan(db, NOW + 2 * H)
    assert (again.opened, again.kept_resolved) == (0, 1)
    assert open_tags(db) == []
    [kept] = all_tags(db)
    assert (kept.resolved_by, kept.resolution) == ("agent@example.com", "客户确认由驿站代收")


def test_a_new_situation_after_resolution_opens_a_new_tag(db, hz, agent):
    order = paid_order(db, at=NOW - 2 * H, warehouse_id=hz.id, address=address(street="文三路 100 号菜鸟驿站"))
    scan(db, NOW)
    resolve_tag(db, Actor.staff_member(agent), open_tags(db)[0].id, "已确认", now=NOW)
    change_address(db, SYSTEM, order.ref, {**address(street="古墩路 8 号丰巢快递柜").as_dict(), "phone": "13800138000"})
    assert scan(db, NOW + H).opened == 1
    assert [json.loads(t.detail)["word"] for t in open_tags(db)] == ["快递柜"]
    assert len(all_tags(db)) == 2


def test_the_database_allows_one_open_tag_per_order_and_rule(db, hz):
    order = paid_order(db, at=NOW - 2 * H, warehouse_id=hz.id)
    fields = dict(rule_code="address_no_district", tag="address_risk", queue="customer_service")
    add_tag(db, order, opened_at=NOW - 3 * H, resolved_after=H, **fields)
    add_tag(db, order, opened_at=NOW, **fields)  # a resolved one does not block a new open one
    with pytest.raises(IntegrityError):
        add_tag(db, order, opened_at=NOW, **fields)


def test_stock_comes_from_the_orders_warehouse_and_the_last_24_hours(db, hz):
    gz = add_warehouse(db, code="GZ", name="广州仓")
    line = [("SKU-1", "龙井茶", 7, 1990)]
    # Paid before the warehouses counted this SKU: nothing is held in reserve for these lines.
    paid_order(db, at=NOW - 2 * H, warehouse_id=hz.id, lines=line)
    paid_order(db, at=NOW - 3 * H, warehouse_id=hz.id, lines=line)
    paid_order(db, at=NOW - 25 * H, warehouse_id=hz.id, lines=line)  # outside the 24 h
    paid_order(db, at=NOW - 2 * H, warehouse_id=gz.id, lines=[("SKU-1", "龙井茶", 7, 1990)])  # other warehouse
    set_stock(db, "SKU-1", hz.id, on_hand=12, reserved=4)  # 8 available: below 10
    set_stock(db, "SKU-1", gz.id, on_hand=0)
    scan(db, NOW)
    assert [t.rule_code for t in open_tags(db)] == ["stock_short"]  # only the GZ order, which has none
    paid_order(db, at=NOW - 4 * H, warehouse_id=hz.id, lines=line)  # 21 units at HZ in 24 h: more than 20
    set_stock(db, "SKU-1", hz.id, on_hand=12, reserved=4)  # the new order holds its 7; count 8 available again
    scan(db, NOW)
    assert sorted(t.rule_code for t in open_tags(db)) == ["stock_low_selling_fast"] * 4 + ["stock_short"]
    detail = json.loads(open_tags(db)[-1].detail)
    assert detail["skus"] == [{"sku": "SKU-1", "available": 8, "sold_24h": 21}]


def test_no_pickup_and_stalled_parcels(db, hz):
    quiet = paid_order(db, at=NOW - 40 * H, warehouse_id=hz.id)
    ship(db, quiet.ref, at=NOW - 30 * H)
    stuck = paid_order(db, at=NOW - 90 * H, warehouse_id=hz.id)
    parcel = ship(db, stuck.ref, at=NOW - 80 * H)
    carrier_event(db, parcel, at=NOW - 79 * H, tag="info_received")
    carrier_event(db, parcel, at=NOW - 49 * H)
    moving = paid_order(db, at=NOW - 40 * H, warehouse_id=hz.id)
    carrier_event(db, ship(db, moving.ref, at=NOW - 30 * H), at=NOW - 2 * H)
    scan(db, NOW)
    assert {(t.order_id, t.rule_code) for t in open_tags(db)} == {(quiet.id, "logistics_no_pickup"),
                                                                  (stuck.id, "logistics_stalled")}


def test_returned_parcel_is_read_from_the_newest_carrier_event(db, hz):
    order = paid_order(db, at=NOW - 50 * H, warehouse_id=hz.id)
    parcel = ship(db, order.ref, at=NOW - 40 * H)
    carrier_event(db, parcel, at=NOW - 39 * H)
    carrier_event(db, parcel, at=NOW - 20 * H, tag="exception", sub_status="returning", text="收件人拒收，退回中")
    scan(db, NOW)
    [tag] = open_tags(db)
    assert tag.rule_code == "logistics_returned"
    assert json.loads(tag.detail)["sub_status"] == "returning"


def test_delivered_order_with_an_open_not_received_dispute(db, hz, agent):
    order = paid_order(db, at=NOW - 90 * H, warehouse_id=hz.id)
    parcel = ship(db, order.ref, at=NOW - 80 * H)
    carrier_event(db, parcel, at=NOW - 30 * H, tag="delivered", text="已签收")
    scan(db, NOW)
    assert open_tags(db) == []
    disputes.open_dispute(db, Actor.staff_member(agent), order.ref, kind="not_received", claim="客户称未收到", now=NOW)
    scan(db, NOW)
    assert [t.rule_code for t in open_tags(db)] == ["logistics_delivered_not_received"]


def test_cross_border_order_without_customs_data(db, hz):
    hk = address(province="香港特别行政区", city="香港", district="九龙城区", phone="+85291234567",
                 street="太子道西 100 号 5 楼 A 室")
    order = paid_order(db, at=NOW - 2 * H, warehouse_id=hz.id, address=hk)
    declared = paid_order(db, at=NOW - 2 * H, warehouse_id=hz.id, address=hk)
    with db.write() as session:
        row = session.get(Order, declared.id)
        row.customs_declaration_no = "531620261120000001"
        session.add(row)
    scan(db, NOW)
    assert [(t.order_id, t.rule_code, t.queue) for t in open_tags(db)] == [
        (order.id, "compliance_customs_missing", "compliance")]


def test_old_and_future_orders_are_not_scanned(db, hz):
    paid_order(db, at=NOW - timedelta(days=91), warehouse_id=hz.id, address=address(street="文三路菜鸟驿站"))
    assert scan(db, NOW).orders == 0
    assert scan(db, NOW - timedelta(days=92)).orders == 0


def _snapshot(db) -> dict:
    """Every row of every table, to prove that nothing was written."""
    with db.read() as session:
        return {table.name: [tuple(row) for row in session.execute(text(f'SELECT * FROM "{table.name}"')).all()]
                for table in SQLModel.metadata.sorted_tables}


def test_preview_lists_the_orders_an_edit_would_tag_and_writes_nothing(db, hz):
    kwargs = dict(at=NOW - 2 * H, warehouse_id=hz.id)
    tagged = paid_order(db, address=address(street="文三路 9 号物业代收"), **kwargs)
    front_desk = paid_order(db, address=address(street="文三路 100 号物业前台"), **kwargs)
    office = paid_order(db, address=address(street="古墩路 8 号物业管理处"), **kwargs)
    paid_order(db, address=address(street="古墩路 8 号门卫室"), **kwargs)
    scan(db, NOW)
    assert [t.order_id for t in open_tags(db)] == [tagged.id]
    with db.read() as session:
        rule = session.exec(select(TriageRule).where(TriageRule.code == "address_proxy_words")).one()
    edited = replace(spec_of(rule), params={**spec_of(rule).params, "words": ["物业"]})
    before = _snapshot(db)

    result = preview(db, edited, NOW)

    assert _snapshot(db) == before
    assert (result.matching, result.matching_now, result.would_tag) == (3, 1, 2)
    assert {o.ref for o in result.orders} == {front_desk.ref, office.ref}
    assert all(o.detail == {"reason": "proxy_word", "word": "物业"} for o in result.orders)


def test_preview_of_a_disabled_rule_tags_nothing(db, hz):
    paid_order(db, at=NOW - 2 * H, warehouse_id=hz.id, address=address(street="文三路 100 号菜鸟驿站"))
    with db.read() as session:
        rule = session.exec(select(TriageRule).where(TriageRule.code == "address_proxy_words")).one()
    result = preview(db, replace(spec_of(rule), enabled=False), NOW)
    assert (result.matching, result.matching_now, result.would_tag, result.orders) == (0, 1, 0, [])


def test_preview_shows_at_most_twenty_orders_but_counts_all(db, hz):
    for number in range(23):
        paid_order(db, at=NOW - 2 * H, warehouse_id=hz.id, address=address(street=f"文三路 {number} 号菜鸟驿站"))
    with db.read() as session:
        rule = session.exec(select(TriageRule).where(TriageRule.code == "address_proxy_words")).one()
    result = preview(db, spec_of(rule), NOW)
    assert (result.would_tag, len(result.orders)) == (23, 20)
    with db.read() as session:
        assert session.exec(select(OrderTag)).all() == []
