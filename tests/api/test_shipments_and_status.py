"""Shipment and status pushes: the lifecycle, the stock, and the warehouse's "shipped"
taking the same lock as the shopper's address change."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.models import OrderStatus, SkuStock, WarehouseTask
from core.services.actors import Actor
from core.services.channels import idempotency
from core.services.channels.push import record_shipment
from core.services.orders import lifecycle as order_service
from core.services.orders.address_change import AlreadyShipped, change_address
from core.services.orders.addresses import address_of
from tests.factories import add_warehouse, make_order, set_stock
from tests.portal.conftest import sign_in
from tests.portal.pages import soup, submit

SYSTEM = Actor.system(via="test")


def shipments_path(order) -> str:  # noqa: ANN001
    return f"/api/v1/orders/{order.channel}/{order.channel_order_no}/shipments"


def status_path(order) -> str:  # noqa: ANN001
    return f"/api/v1/orders/{order.channel}/{order.channel_order_no}/status"


def test_shipment_moves_the_order_to_shipped(api, db):
    order = make_order(db, paid=True)
    response = api.post(shipments_path(order), {"carrier": "SF", "tracking_no": "SF1234567890",
                                                "shipped_at": "2026-11-22T09:00:00+08:00"})
    assert response.status_code == 201
    assert response.json() == {"ref": order.ref, "status": "shipped", "outcome": "new", "shipment": {
        "carrier": "SF", "tracking_no": "SF1234567890", "shipped_at": "2026-11-22T01:00:00+00:00"}}
    shipped = order_service.get_order(db, order.ref)
    assert shipped.status == OrderStatus.SHIPPED
    [shipment] = shipped.shipments
    assert (shipment.carrier, shipment.tracking_no, shipment.ship_to) == ("SF", "SF1234567890",
                                                                         address_of(shipped).label_line)
    assert shipped.history[-1].via == "api" and shipped.history[-1].actor == "api:Tmall ERP"


def test_repeating_the_same_hand_off_is_unchanged_and_another_is_refused(api, db):
    order = make_order(db, paid=True)
    api.post(shipments_path(order), {"carrier": "SF", "tracking_no": "SF1234567890"})
    again = api.post(shipments_path(order), {"carrier": "SF", "tracking_no": "SF1234567890"})
    assert (again.status_code, again.json()["outcome"]) == (200, "unchanged")
    other = api.post(shipments_path(order), {"carrier": "ZTO", "tracking_no": "ZT000111"})
    assert other.status_code == 409
    assert other.json()["errors"][0]["field"] == "status"
    assert len(order_service.get_order(db, order.ref).shipments) == 1


def test_unpaid_order_cannot_ship_and_unknown_order_is_404(api, db):
    unpaid = make_order(db)
    assert api.post(shipments_path(unpaid), {"carrier": "SF", "tracking_no": "SF1"}).status_code == 422  # too short
    response = api.post(shipments_path(unpaid), {"carrier": "SF", "tracking_no": "SF1234"})
    assert response.status_code == 409
    assert order_service.get_order(db, unpaid.ref).status == OrderStatus.PENDING_PAYMENT
    missing = api.post("/api/v1/orders/taobao/NO-SUCH/shipments", {"carrier": "SF", "tracking_no": "SF1234"})
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")


def test_unknown_carrier_is_named(api, db):
    order = make_order(db, paid=True)
    response = api.post(shipments_path(order), {"carrier": "DHL", "tracking_no": "SF1234"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "carrier"


def test_after_the_api_ships_the_shopper_can_no_longer_change_the_address(api, db):
    from litestar.testing import TestClient

    from app import create_app
    from core.config import get_settings

    order = make_order(db, paid=True)
    with TestClient(app=create_app(get_settings(), db), base_url="http://127.0.0.1") as shopper:
        shopper.get("/lang/en")
        sign_in(shopper, db, "13800138000")
        form = soup(shopper.get(f"/orders/{order.ref}/address"))
        assert api.post(shipments_path(order), {"carrier": "SF", "tracking_no": "SF1234567890"}).status_code == 201
        response = submit(shopper, form, "form[action$='/address']", street="西溪路 1 号 2 幢 1 室")
    assert response.status_code == 409
    assert "already shipped" in soup(response).select_one("[role=alert]").get_text()
    assert order_service.get_order(db, order.ref).ship_street == "文三路 100 号 2 幢 301 室"


def test_api_shipment_racing_an_address_change_is_serialised(db, integration):
    """The same race as tests/core/test_address_race.py, with the API's shipment path."""
    orders = [make_order(db, paid=True) for _ in range(12)]
    start = threading.Barrier(2 * len(orders), timeout=60)
    from core.models import ApiIntegration

    with db.read() as session:
        integration_id = session.exec(select(ApiIntegration)).one().id

    def change(n: int, ref: str) -> str:
        start.wait()
        try:
            change_address(db, SYSTEM, ref, {"recipient": "王五", "phone": "13700137000", "province": "广东省",
                                     "city": "深圳市", "district": "南山区", "street": f"科技园 {n} 号 1201"})
        except AlreadyShipped:
            return "refused"
        return "changed"

    def ship(n: int, channel_order_no: str) -> int:
        start.wait()
        reply = idempotency.run(
            db, integration_id=integration_id, key=f"ship-{n}", fingerprint="x",
            action=lambda session: idempotency.Reply(201, {"ref": record_shipment(
                session, Actor.integration("api:test"), "taobao", channel_order_no, carrier="SF",
                tracking_no=f"SFRACE{n:04d}", shipped_at=None).order.ref}),
            on_error=lambda exc: idempotency.Reply(409, {}))
        return reply.status_code

    with ThreadPoolExecutor(max_workers=2 * len(orders)) as pool:
        changes = [pool.submit(change, n, o.ref) for n, o in enumerate(orders)]
        ships = [pool.submit(ship, n, o.channel_order_no) for n, o in enumerate(orders)]
        change_outcomes = [f.result(timeout=120) for f in changes]
        ship_outcomes = [f.result(timeout=120) for f in ships]
    assert ship_outcomes == [201] * len(orders)
    with db.read() as session:
        tasks = Counter(task.order_id for task in session.exec(select(WarehouseTask)).all())
    for n, (order, outcome) in enumerate(zip(orders, change_outcomes, strict=True)):
        final = order_service.get_order(db, order.ref)
        [shipment] = final.shipments
        assert shipment.ship_to == address_of(final).label_line, "address changed after the parcel left"
        assert final.ship_street == (f"科技园 {n} 号 1201" if outcome == "changed" else "文三路 100 号 2 幢 301 室")
        assert tasks[final.id] == (1 if outcome == "changed" else 0)


@pytest.fixture
def stocked(db):  # noqa: ANN001
    hz = add_warehouse(db, "HZ")
    set_stock(db, "SKU-1", hz.id, on_hand=5)
    return hz


def stock_of(db, sku: str = "SKU-1") -> tuple[int, int]:  # noqa: ANN001
    with db.read() as session:
        row = session.exec(select(SkuStock).where(SkuStock.sku == sku)).one()
    return row.on_hand, row.reserved


def test_paid_reserves_stock_and_cancelled_releases_it(api, db, stocked):
    order = make_order(db, warehouse_id=stocked.id)  # 2 x SKU-1
    paid = api.post(status_path(order), {"status": "paid", "at": "2026-11-22T10:00:00+08:00"})
    assert paid.status_code == 200
    assert paid.json() == {"ref": order.ref, "status": "paid", "outcome": "updated"}
    assert stock_of(db) == (5, 2)
    stored = order_service.get_order(db, order.ref)
    assert stored.paid_at == datetime(2026, 11, 22, 2, 0, tzinfo=UTC) and stored.paid_minor == stored.total_minor
    again = api.post(status_path(order), {"status": "paid", "at": "2026-11-22T10:00:00+08:00"})
    assert again.json()["outcome"] == "unchanged"
    assert stock_of(db) == (5, 2)
    cancelled = api.post(status_path(order), {"status": "cancelled", "at": "2026-11-22T11:00:00+08:00"})
    assert cancelled.json()["status"] == "cancelled"
    assert stock_of(db) == (5, 0)


def test_lifecycle_is_respected(api, db):
    order = make_order(db)
    response = api.post(status_path(order), {"status": "delivered", "at": "2026-11-22T10:00:00+08:00"})
    assert response.status_code == 409
    assert response.json()["error"] == "not_allowed"
    assert response.json()["errors"][0]["field"] == "status"
    assert order_service.get_order(db, order.ref).status == OrderStatus.PENDING_PAYMENT


def test_an_older_status_report_changes_nothing(api, db):
    order = make_order(db)
    api.post(status_path(order), {"status": "paid", "at": "2026-11-22T10:00:00+08:00"})
    stale = api.post(status_path(order), {"status": "cancelled", "at": "2026-11-22T09:00:00+08:00"})
    assert stale.json()["outcome"] == "unchanged"
    assert order_service.get_order(db, order.ref).status == OrderStatus.PAID


def test_shipped_in_the_future_is_refused(api, db):
    order = make_order(db, paid=True)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = api.post(shipments_path(order), {"carrier": "SF", "tracking_no": "SF1234", "shipped_at": later})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "shipped_at", "message": "shipped_at is in the future"}]


def test_a_status_time_in_the_future_is_refused_and_does_not_lock_the_order(api, db):
    order = make_order(db)
    year_2099 = api.post(status_path(order), {"status": "paid", "at": "2099-01-01T00:00:00+08:00"})
    assert year_2099.status_code == 422
    assert year_2099.json()["errors"][0]["field"] == "at"
    now = api.post(status_path(order), {"status": "paid", "at": datetime.now(UTC).isoformat()})
    assert (now.status_code, now.json()["outcome"]) == (200, "updated")


def test_a_late_paid_report_for_a_shipped_order_is_unchanged(api, db):
    order = make_order(db, paid=True)
    api.post(shipments_path(order), {"carrier": "SF", "tracking_no": "SF1234567890"})
    late = api.post(status_path(order), {"status": "paid", "at": datetime.now(UTC).isoformat()})
    assert (late.status_code, late.json()["outcome"], late.json()["status"]) == (200, "unchanged", "shipped")
