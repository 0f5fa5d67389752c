"""PUT /api/v1/stock (absolute levels, reserved never above on hand) and the API's OpenAPI schema."""

from __future__ import annotations

from openapi_spec_validator import validate
from sqlmodel import select

from core.models import OrderLine, SkuStock
from core.services.orders import lifecycle as order_service
from tests.factories import add_warehouse, make_order


def levels(db) -> dict[str, tuple[int, int]]:  # noqa: ANN001
    with db.read() as session:
        return {row.sku: (row.on_hand, row.reserved) for row in session.exec(select(SkuStock)).all()}


def reserved_of(db, ref: str) -> int:  # noqa: ANN001
    order = order_service.get_order(db, ref)
    return sum(line.reserved_qty for line in order.lines)


def test_pushed_stock_is_then_reserved_by_a_paid_order(api, db):
    hz = add_warehouse(db, "HZ")
    response = api.put("/api/v1/stock", {"levels": [{"sku": "SKU-2", "warehouse_code": "HZ", "on_hand": 0},
                                                    {"sku": "SKU-1", "warehouse_code": "HZ", "on_hand": 3}]})
    assert response.status_code == 200
    assert [level["sku"] for level in response.json()["levels"]] == ["SKU-2", "SKU-1"]  # as sent
    assert response.json()["levels"][1] == {"sku": "SKU-1", "warehouse_code": "HZ", "on_hand": 3, "reserved": 0,
                                            "available": 3, "released_from": [], "reserved_for": []}
    order = make_order(db, warehouse_id=hz.id, lines=[("SKU-1", "茶", 2, 100), ("SKU-2", "杯", 1, 100)])
    paid = api.post(f"/api/v1/orders/taobao/{order.channel_order_no}/status",
                    {"status": "paid", "at": "2026-11-22T10:00:00+08:00"})
    assert paid.status_code == 200
    assert levels(db) == {"SKU-1": (3, 2), "SKU-2": (0, 0)}  # nothing to hold for SKU-2: never below zero


def test_a_lower_count_takes_units_back_from_the_newest_payment_and_a_higher_one_fills_the_oldest(api, db):
    hz = add_warehouse(db, "HZ")
    api.put("/api/v1/stock", {"levels": [{"sku": "SKU-1", "warehouse_code": "HZ", "on_hand": 4}]})
    older = make_order(db, paid=True, warehouse_id=hz.id, lines=[("SKU-1", "茶", 2, 100)])
    newer = make_order(db, paid=True, warehouse_id=hz.id, lines=[("SKU-1", "茶", 2, 100)])
    assert levels(db) == {"SKU-1": (4, 4)}
    counted = api.put("/api/v1/stock", {"levels": [{"sku": "SKU-1", "warehouse_code": "HZ", "on_hand": 3}]})
    assert counted.json()["levels"][0]["released_from"] == [newer.ref]
    assert levels(db) == {"SKU-1": (3, 3)}
    assert (reserved_of(db, older.ref), reserved_of(db, newer.ref)) == (2, 1)
    zero = api.put("/api/v1/stock", {"levels": [{"sku": "SKU-1", "warehouse_code": "HZ", "on_hand": 0}]})
    assert zero.json()["levels"][0]["available"] == 0
    assert (reserved_of(db, older.ref), reserved_of(db, newer.ref)) == (0, 0)
    refill = api.put("/api/v1/stock", {"levels": [{"sku": "SKU-1", "warehouse_code": "HZ", "on_hand": 3}]})
    assert refill.json()["levels"][0]["reserved_for"] == [older.ref, newer.ref]
    assert (reserved_of(db, older.ref), reserved_of(db, newer.ref)) == (2, 1)
    with db.read() as session:
        assert all(line.reserved_qty >= 0 for line in session.exec(select(OrderLine)).all())


def test_negative_or_unknown_warehouse_changes_nothing(api, db):
    add_warehouse(db, "HZ")
    api.put("/api/v1/stock", {"levels": [{"sku": "SKU-1", "warehouse_code": "HZ", "on_hand": 4}]})
    negative = api.put("/api/v1/stock", {"levels": [{"sku": "SKU-1", "warehouse_code": "HZ", "on_hand": -1}]})
    assert negative.status_code == 422
    assert negative.json()["errors"] == [{"field": "levels[0].on_hand", "message": "Expected `int` >= 0"}]
    unknown = api.put("/api/v1/stock", {"levels": [{"sku": "SKU-1", "warehouse_code": "HZ", "on_hand": 9},
                                                   {"sku": "SKU-1", "warehouse_code": "XX", "on_hand": 9}]})
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [{"field": "levels[1].warehouse_code", "message": "unknown warehouse XX"}]
    assert levels(db) == {"SKU-1": (4, 0)}


def test_stock_needs_its_scope(api, db):
    from tests.api.conftest import make_key

    erp = make_key(db, name="ERP", scopes="orders:write")
    response = api.put("/api/v1/stock", {"levels": []}, key=erp)
    assert response.status_code == 403


def test_schema_is_openapi_json_listing_the_push_endpoints(client):
    response = client.get("/api/v1/schema")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    validate(schema)  # raises on anything that is not valid OpenAPI 3.1
    assert sorted((path, method) for path, item in schema["paths"].items() for method in item) == [
        ("/api/v1/orders", "post"),
        ("/api/v1/orders/{channel}/{channel_order_no}/shipments", "post"),
        ("/api/v1/orders/{channel}/{channel_order_no}/status", "post"),
        ("/api/v1/stock", "put"),
    ]
    order = schema["components"]["schemas"]["OrderIn"]
    assert {"channel", "channel_order_no", "created_at", "customer", "address", "lines"} <= set(order["required"])
    line = schema["components"]["schemas"]["LineIn"]
    assert line["properties"]["quantity"]["minimum"] == 1
    body = schema["paths"]["/api/v1/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {ref["$ref"] for ref in body["oneOf"]} == {"#/components/schemas/OrdersIn", "#/components/schemas/OrderIn"}
    for item in schema["paths"].values():
        for operation in item.values():
            for ref in _refs(operation):
                assert ref.removeprefix("#/components/schemas/") in schema["components"]["schemas"]
    assert client.get("/schema").status_code == 404  # no site-wide schema listing the HTML routes


def _refs(node) -> list[str]:  # noqa: ANN001
    if isinstance(node, dict):
        return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_unknown_api_path_and_wrong_method_answer_in_the_api_error_shape(api):
    missing = api.client.get("/api/v1/nothing-here")
    assert (missing.status_code, missing.json()) == (404, {"error": "not_found", "message": "no such endpoint",
                                                           "errors": []})
    wrong_method = api.client.get("/api/v1/orders")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"
