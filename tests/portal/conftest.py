"""The portal's cast: Alice (13800138000) and Bob (13912345678) each with their
own orders, and a browser for each of them plus one for a stranger.

Alice has an unpaid order, a paid one waiting to ship, a shipped one with
carrier events and a delivered one; Bob has a paid order and a shipped one.
Browsers read English (the message ids), so assertions quote the UI text.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import TestClient

from core.models import Order
from core.phones import normalize_phone
from core.services.identity import customer_sessions as sessions
from core.services.orders import lifecycle as order_service
from tests.factories import ALICE_PHONE, BOB_PHONE, add_event, add_terms, address, deliver, make_order, ship

SESSION_COOKIE = "od_session"


@dataclass
class Cast:
    alice_unpaid: Order
    alice_paid: Order
    alice_shipped: Order
    alice_delivered: Order
    bob_paid: Order
    bob_shipped: Order

    def reload(self, db, order: Order) -> Order:  # noqa: ANN001
        return order_service.get_order(db, order.ref)


@pytest.fixture
def cast(db) -> Cast:  # noqa: ANN001
    add_terms(db, version="T1")
    now = datetime.now(UTC)
    alice_delivered = make_order(db, paid=True, created_at=now - timedelta(days=10),
                                 lines=[("TEA-9", "碧螺春", 1, 12800)])
    ship(db, alice_delivered.ref, at=now - timedelta(days=9))
    deliver(db, alice_delivered.ref, at=now - timedelta(days=7))
    alice_shipped = make_order(db, paid=True, created_at=now - timedelta(days=3),
                               lines=[("TEA-1", "西湖龙井", 2, 1990), ("CUP-1", "玻璃茶杯", 1, 8900)])
    shipment = ship(db, alice_shipped.ref, carrier="ZTO", tracking_no="ZT7700123", at=now - timedelta(days=2))
    add_event(db, shipment.id, occurred_at=now - timedelta(days=2), raw_text="【杭州市】中通快递 已收取快件",
              raw_status_code="1", tag="info_received")
    add_event(db, shipment.id, occurred_at=now - timedelta(hours=5), raw_text="【杭州市】快件派送中，请保持电话畅通",
              raw_status_code="5", tag="out_for_delivery")
    add_event(db, shipment.id, occurred_at=now - timedelta(days=1), raw_text="【杭州市】快件已到达 杭州转运中心")
    alice_paid = make_order(db, paid=True, created_at=now - timedelta(hours=2),
                            lines=[("TEA-2", "安吉白茶", 1, 15800)])
    alice_unpaid = make_order(db, created_at=now - timedelta(hours=1), lines=[("TEA-3", "铁观音", 3, 4500)])
    bob_address = address(recipient="李四", phone="13912345678", province="上海市", city="上海市",
                          district="徐汇区", street="漕溪北路 88 号 1201 室", postal_code="200030")
    bob_paid = make_order(db, phone=BOB_PHONE, paid=True, created_at=now - timedelta(hours=3), address=bob_address,
                          lines=[("TEA-4", "大红袍", 1, 26800)])
    bob_shipped = make_order(db, phone=BOB_PHONE, paid=True, created_at=now - timedelta(days=4),
                             address=bob_address, lines=[("TEA-5", "普洱", 1, 9900)])
    ship(db, bob_shipped.ref, at=now - timedelta(days=3))
    return Cast(
        alice_unpaid=alice_unpaid,
        alice_paid=alice_paid,
        alice_shipped=order_service.get_order(db, alice_shipped.ref),
        alice_delivered=alice_delivered,
        bob_paid=bob_paid,
        bob_shipped=bob_shipped,
    )


def sign_in(client: TestClient, db, phone: str) -> str:  # noqa: ANN001
    """A session for tests that are not about signing in; returns its token."""
    token = sessions.start_session(db, phone=normalize_phone(phone), client_ip="testclient")
    client.cookies.set(SESSION_COOKIE, token, domain="127.0.0.1", path="/")
    return token


@pytest.fixture
def browser(app, db):  # noqa: ANN001
    """Open a new browser (own cookie jar), optionally signed in as `phone`."""
    with ExitStack() as stack:

        def open_browser(phone: str | None = None) -> TestClient:
            client = stack.enter_context(TestClient(app=app, base_url="http://127.0.0.1"))
            client.get("/lang/en")
            if phone is not None:
                sign_in(client, db, phone)
            return client

        yield open_browser


@pytest.fixture
def alice(browser) -> TestClient:  # noqa: ANN001
    return browser(ALICE_PHONE)


@pytest.fixture
def bob(browser) -> TestClient:  # noqa: ANN001
    return browser(BOB_PHONE)


@pytest.fixture
def stranger(browser) -> TestClient:  # noqa: ANN001
    return browser()
