"""POST /api/v1/orders: one order or a batch, exactly once, errors that name the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import select

from core.models import Customer, Order, OrderHistory, OrderLine, OrderStatus, SkuStock
from tests.api.conftest import order_payload
from tests.database_refusals import database_refuses_order
from tests.factories import add_warehouse, set_stock


def stored(db, no: str) -> Order:  # noqa: ANN001
    with db.read() as session:
        return session.exec(select(Order).where(Order.channel_order_no == no)).one()


def test_one_order_is_created_exactly_as_sent(api, db):
    response = api.post("/api/v1/orders", order_payload())
    assert response.status_code == 200
    body = response.json()
    [result] = body["results"]
    assert result["outcome"] == "new" and result["ref"].startswith("OD")
    assert body["summary"] == {"new": 1, "updated": 0, "unchanged": 0, "rejected": 0}
    order = stored(db, "TB20261122001")
    assert order.ref == result["ref"]
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert (order.items_total_minor, order.shipping_minor, order.discount_minor, order.total_minor) == (
        2 * 1990 + 8900, 1000, 500, 2 * 1990 + 8900 + 1000 - 500)
    assert order.created_at == datetime(2026, 11, 22, 2, 15, tzinfo=UTC)  # 10:15 in Shanghai
    assert (order.ship_recipient, order.ship_phone, order.ship_province, order.ship_city, order.ship_district,
            order.ship_street, order.ship_postal_code) == (
        "张三", "+8613800138000", "浙江省", "杭州市", "西湖区", "文三路 100 号 2 幢 301 室", "310012")
    with db.read() as session:
        lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
        customer = session.get(Customer, order.customer_id)
        history = session.exec(select(OrderHistory).where(OrderHistory.order_id == order.id)).all()
    assert [(line.sku, line.name, line.quantity, line.unit_price_minor) for line in lines] == [
        ("TEA-1", "西湖龙井", 2, 1990), ("CUP-1", "玻璃茶杯", 1, 8900)]
    assert customer.phone == "+8613800138000"
    assert [(h.kind, h.via) for h in history] == [("created", "api")]
    assert json.loads(history[0].detail)["raw"]["channel_order_no"] == "TB20261122001"  # kept verbatim


def test_same_order_twice_is_unchanged_and_a_newer_paid_status_updates_it(api, db):
    hz = add_warehouse(db, "HZ")
    set_stock(db, "TEA-1", hz.id, on_hand=10)
    placed = order_payload(warehouse_code="HZ", status_at="2026-11-22T10:15:00+08:00")
    first = api.post("/api/v1/orders", placed).json()["results"][0]
    again = api.post("/api/v1/orders", placed).json()["results"][0]
    assert again == {**first, "outcome": "unchanged"}
    paid = api.post("/api/v1/orders", order_payload(
        warehouse_code="HZ", status="paid", status_at="2026-11-22T10:20:00+08:00",
        paid_at="2026-11-22T10:20:00+08:00", paid_minor=13280)).json()["results"][0]
    assert paid["outcome"] == "updated" and paid["ref"] == first["ref"]
    order = stored(db, "TB20261122001")
    assert order.status == OrderStatus.PAID
    assert order.paid_at == datetime(2026, 11, 22, 2, 20, tzinfo=UTC)
    assert order.paid_minor == 13280
    with db.read() as session:
        stock = session.exec(select(SkuStock).where(SkuStock.sku == "TEA-1")).one()
        assert len(session.exec(select(Order)).all()) == 1
    assert (stock.on_hand, stock.reserved) == (10, 2)


def test_batch_takes_the_valid_orders_and_names_the_wrong_fields(api, db):
    bad_quantity = order_payload("TB2")
    bad_quantity["lines"][0]["quantity"] = 0
    bad_address = order_payload("TB3")
    bad_address["address"]["postal_code"] = "31"
    response = api.post("/api/v1/orders", {"orders": [order_payload("TB1"), bad_quantity, bad_address,
                                                      order_payload("TB4", channel="amazon")]})
    assert response.status_code == 207
    body = response.json()
    assert body["summary"] == {"new": 1, "updated": 0, "unchanged": 0, "rejected": 3}
    results = body["results"]
    assert [r["outcome"] for r in results] == ["new", "rejected", "rejected", "rejected"]
    assert results[1]["errors"] == [{"field": "orders[1].lines[0].quantity", "message": "Expected `int` >= 1"}]
    assert results[2]["errors"] == [{"field": "orders[2].address.postal_code", "message": "A postal code has 6 digits."}]
    assert results[3]["errors"][0]["field"] == "orders[3].channel"
    with db.read() as session:
        assert [o.channel_order_no for o in session.exec(select(Order)).all()] == ["TB1"]


def test_status_without_its_time_counts_from_when_it_arrives(api, db):
    api.post("/api/v1/orders", order_payload(status_at="2026-11-22T10:15:00+08:00"))
    cancelled = api.post("/api/v1/orders", order_payload(status="cancelled")).json()["results"][0]
    assert cancelled["outcome"] == "updated"
    assert stored(db, "TB20261122001").status == OrderStatus.CANCELLED


def test_single_order_with_errors_is_422_with_every_field(api, db):
    payload = order_payload(created_at="2026-11-22T10:15:00")  # no offset: ambiguous
    response = api.post("/api/v1/orders", payload)
    assert response.status_code == 422
    [result] = response.json()["results"]
    assert result["errors"] == [{"field": "created_at", "message": "Expected `datetime` with a timezone component"}]
    payload = order_payload(warehouse_code="NOPE")
    payload["customer"]["phone"] = "12"
    payload["address"]["recipient"] = "   "
    errors = api.post("/api/v1/orders", payload).json()["results"][0]["errors"]
    assert {e["field"] for e in errors} == {"address.recipient", "customer.phone", "warehouse_code"}
    with db.read() as session:
        assert session.exec(select(Order)).all() == []


def test_amounts_must_be_integer_minor_units(api):
    payload = order_payload()
    payload["lines"][0]["unit_price_minor"] = 19.9
    errors = api.post("/api/v1/orders", payload).json()["results"][0]["errors"]
    assert errors == [{"field": "lines[0].unit_price_minor", "message": "Expected `int`, got `float`"}]


def test_missing_and_unknown_fields_are_named(api):
    payload = order_payload(colour="red")
    del payload["lines"][1]["sku"]
    errors = api.post("/api/v1/orders", payload).json()["results"][0]["errors"]
    assert errors[0]["field"] in ("colour", "lines[1].sku")


def test_malformed_json_is_400(api):
    response = api.post("/api/v1/orders", raw=b'{"channel": "taobao",')
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"


def test_more_than_500_orders_is_413(api, db):
    response = api.post("/api/v1/orders", {"orders": [order_payload(f"N{i}") for i in range(501)]})
    assert response.status_code == 413
    assert response.json()["error"] == "too_many_orders"
    with db.read() as session:
        assert session.exec(select(Order)).all() == []


def test_body_over_the_size_limit_is_413(api):
    response = api.post("/api/v1/orders", raw=b'{"orders": [' + b" " * (5 * 1024 * 1024) + b"]}")
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


def test_if_the_bulk_path_refuses_each_order_goes_in_on_its_own(api, db, monkeypatch):
    from core.errors import TransitionNotAllowed
    from core.services.channels import ingest_batch

    def refuse(*args, **kwargs):
        raise TransitionNotAllowed("not in bulk")

    monkeypatch.setattr(ingest_batch, "upsert_orders", refuse)
    response = api.post("/api/v1/orders", {"orders": [order_payload("B2"), order_payload("B1")]})
    assert response.status_code == 200
    assert [(r["index"], r["channel_order_no"], r["outcome"]) for r in response.json()["results"]] == [
        (0, "B2", "new"), (1, "B1", "new")]
    with db.read() as session:
        assert sorted(o.channel_order_no for o in session.exec(select(Order)).all()) == ["B1", "B2"]


def test_an_order_the_database_refuses_is_one_rejected_entry_and_the_others_go_in(api, db):
    with database_refuses_order(db, "B2"):
        response = api.post("/api/v1/orders", {"orders": [order_payload("B1"), order_payload("B2"),
                                                          order_payload("B3", status="paid")]})
    assert response.status_code == 207
    body = response.json()
    assert [(r["index"], r["channel_order_no"], r["outcome"]) for r in body["results"]] == [
        (0, "B1", "new"), (1, "B2", "rejected"), (2, "B3", "new")]
    [error] = body["results"][1]["errors"]
    assert error["field"] == "orders[1]"
    assert error["message"].startswith("The database refused this order (")
    assert body["summary"] == {"new": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert stored(db, "B3").status == OrderStatus.PAID
    with db.read() as session:
        assert sorted(session.exec(select(Order.channel_order_no)).all()) == ["B1", "B3"]
        refs = {o.id: o.channel_order_no for o in session.exec(select(Order))}
        history = session.exec(select(OrderHistory.order_id, OrderHistory.kind)).all()
    # The refused order left nothing behind, the others have their whole history.
    assert sorted((refs[order_id], kind) for order_id, kind in history) == [
        ("B1", "created"), ("B3", "created"), ("B3", "status")]
    # Sent again once the database takes it, it goes in; the others are unchanged.
    again = api.post("/api/v1/orders", {"orders": [order_payload("B1"), order_payload("B2")]}).json()
    assert [r["outcome"] for r in again["results"]] == ["unchanged", "new"]


def test_an_order_with_the_customers_email_stores_it_and_a_wrong_one_is_named(api, db):
    with_email = order_payload("TB-MAIL-1", customer={"phone": "13800138000", "name": "张三",
                                                      "email": "Zhang.San@Example.com"})
    assert api.post("/api/v1/orders", with_email).status_code == 200
    without = order_payload("TB-MAIL-2")  # callers that never send an e-mail address go on as before
    assert api.post("/api/v1/orders", without).status_code == 200
    wrong = order_payload("TB-MAIL-3", customer={"phone": "13800138000", "email": "not-an-address"})
    response = api.post("/api/v1/orders", wrong)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["results"][0]["errors"]] == ["customer.email"]
    with db.read() as session:
        customer = session.get(Customer, stored(db, "TB-MAIL-1").customer_id)
        orders = session.exec(select(Order.channel_order_no)).all()
    assert customer.email == "Zhang.San@example.com"
    assert sorted(orders) == ["TB-MAIL-1", "TB-MAIL-2"]


def test_an_order_over_twenty_one_million_yuan_is_stored_to_the_fen(api, db):
    """¥22,000,000.01 overflowed the 32-bit money columns of PostgreSQL."""
    payload = order_payload(channel_order_no="BIG-1")
    payload["lines"] = [{"sku": "GOLD-1", "name": "金条", "quantity": 1, "unit_price_minor": 2_200_000_001}]
    response = api.post("/api/v1/orders", payload)
    assert response.status_code in (200, 201), response.text
    order = stored(db, "BIG-1")
    assert order.items_total_minor == 2_200_000_001
    with db.read() as session:
        assert session.exec(select(OrderLine.unit_price_minor).where(OrderLine.order_id == order.id)).one() \
            == 2_200_000_001


def test_amounts_past_the_upper_bound_are_named_not_a_server_error(api, db):
    payload = order_payload(channel_order_no="HUGE-1")
    payload["lines"][0]["unit_price_minor"] = 2 ** 63
    response = api.post("/api/v1/orders", payload)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["results"][0]["errors"]] == ["lines[0].unit_price_minor"]

    payload = order_payload(channel_order_no="HUGE-2")
    payload["lines"] = [{"sku": "GOLD-1", "name": "金条", "quantity": 99_999, "unit_price_minor": 999_999_999_999}]
    response = api.post("/api/v1/orders", payload)
    assert response.status_code == 422
    assert "is not accepted" in response.json()["results"][0]["errors"][0]["message"]
    with db.read() as session:
        assert session.exec(select(Order)).all() == []


def test_a_nul_or_a_direction_override_is_a_field_error_and_the_rest_of_the_batch_goes_in(api, db):
    """A NUL made PostgreSQL refuse the whole batch; a right-to-left override shows a name reversed."""
    with_nul = order_payload(channel_order_no="NUL-1")
    with_nul["address"]["street"] = "文三路 99 号\x00 7 幢"
    reversed_name = order_payload(channel_order_no="BIDI-1")
    reversed_name["address"]["recipient"] = "张\u202e三"
    fine = order_payload(channel_order_no="FINE-1")
    response = api.post("/api/v1/orders", {"orders": [with_nul, reversed_name, fine]})
    results = response.json()["results"]
    assert [r["errors"][0]["field"] if r.get("errors") else None for r in results] == \
        ["orders[0].address.street", "orders[1].address.recipient", None]
    with db.read() as session:
        assert session.exec(select(Order.channel_order_no)).all() == ["FINE-1"]


def test_a_presale_date_in_the_year_9999_is_a_field_error(api, db):
    payload = order_payload(channel_order_no="PRE-9999", presale_ships_on="9999-12-31")
    response = api.post("/api/v1/orders", payload)
    assert response.status_code == 422
    assert response.json()["results"][0]["errors"][0]["field"] == "presale_ships_on"


def test_json_nested_a_hundred_thousand_deep_is_a_400_not_a_crash(api, db):
    response = api.post("/api/v1/orders", raw=b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"
    assert "nests too deeply" in response.json()["message"]
