"""My orders: sign-in required, only the shopper's own orders, filters, search,
pages of ten, the order page with its raw carrier timeline, the terms bound to
the order, and a plain 404 for anybody else's order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from core.models import OrderStatus, WarehouseTask
from core.services.orders import lifecycle as order_service
from tests.factories import ALICE_PHONE, BOB_PHONE, add_terms, deliver, make_order, refund, ship
from tests.portal.pages import HTMX, form_values, is_fragment, soup, text, texts, texts_to, varies_on


def card_refs(page) -> list[str]:  # noqa: ANN001
    return [link["href"].rsplit("/", 1)[1] for link in page.select(".order-card a.card-link")]


def move_to(db, ref: str, status: OrderStatus) -> None:  # noqa: ANN001
    with db.write() as session:
        order_service.transition(session, order_service.lock_order(session, ref), status, actor="wh", via="admin")


@pytest.fixture
def every_status(db, cast):  # noqa: ANN001
    """Alice's orders by status, on top of the cast's; values are refs."""
    now = datetime.now(UTC)
    picking = make_order(db, paid=True, created_at=now - timedelta(hours=5))
    move_to(db, picking.ref, OrderStatus.PICKING)
    cancelled = make_order(db, created_at=now - timedelta(hours=6))
    move_to(db, cancelled.ref, OrderStatus.CANCELLED)
    refunded = make_order(db, paid=True, created_at=now - timedelta(days=20))
    refund(db, refunded.ref)
    old = make_order(db, paid=True, created_at=now - timedelta(days=40))
    ship(db, old.ref, at=now - timedelta(days=39))
    deliver(db, old.ref)
    return {
        "unpaid": cast.alice_unpaid.ref, "paid": cast.alice_paid.ref, "picking": picking.ref,
        "cancelled": cancelled.ref, "shipped": cast.alice_shipped.ref, "delivered": cast.alice_delivered.ref,
        "refunded": refunded.ref, "old": old.ref,
    }


def test_my_orders_needs_sign_in(stranger, cast):
    response = stranger.get("/orders", params={"f": "shipped"}, follow_redirects=False)
    assert response.status_code == 303
    # The filter the shopper was looking at survives the detour through sign-in.
    assert response.headers["location"] == "/login?next=%2Forders%3Ff%3Dshipped"
    detail = stranger.get(f"/orders/{cast.alice_paid.ref}", follow_redirects=False)
    assert detail.headers["location"] == f"/login?next=%2Forders%2F{cast.alice_paid.ref}"


def test_htmx_request_without_sign_in_is_sent_to_login_by_hx_redirect(stranger, cast):
    response = stranger.get("/orders", headers=HTMX, follow_redirects=False)
    assert response.headers["hx-redirect"] == "/login?next=%2Forders"
    assert response.text == ""


def test_form_posted_without_sign_in_comes_back_to_the_order_after_login(stranger, cast):
    stranger.get("/login")
    token = stranger.cookies.get("csrftoken")
    response = stranger.post(f"/orders/{cast.alice_paid.ref}/hurry", data={"_csrf_token": token},
                             follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=%2Forders%2F{cast.alice_paid.ref}"


def test_lists_only_my_orders_newest_first(alice, every_status):
    page = soup(alice.get("/orders"))
    assert text(page.h1) == "My orders"
    expected = ["unpaid", "paid", "picking", "cancelled", "shipped", "delivered", "refunded", "old"]
    assert card_refs(page) == [every_status[key] for key in expected]
    statuses = texts(page, ".order-card .status")
    assert statuses[:3] == ["Awaiting payment", "Paid, to ship", "Being packed"]
    assert "大红袍" not in text(page.main), "Bob's order is not on Alice's list"


def test_bob_sees_his_orders_only(bob, cast):
    page = soup(bob.get("/orders"))
    assert card_refs(page) == [cast.bob_paid.ref, cast.bob_shipped.ref]


@pytest.mark.parametrize(
    ("order_filter", "expected"),
    [
        ("recent", ["unpaid", "paid", "picking", "cancelled", "shipped", "delivered", "refunded"]),
        ("unpaid", ["unpaid"]),
        ("to_ship", ["paid", "picking"]),
        ("shipped", ["shipped"]),
        ("completed", ["delivered", "refunded", "old"]),
    ],
)
def test_filters_show_the_orders_in_that_state(alice, every_status, order_filter, expected):
    page = soup(alice.get("/orders", params={"f": order_filter}))
    assert card_refs(page) == [every_status[key] for key in expected]
    active = page.select_one(".chips a[aria-current=page]")
    assert active["href"] == f"/orders?f={order_filter}"


def test_filter_chips_lead_to_each_filter(alice, every_status):
    page = soup(alice.get("/orders"))
    chips = {text(chip): chip["href"] for chip in page.select(".chips a")}
    assert list(chips) == ["All", "Last 30 days", "Awaiting payment", "To ship", "Shipped", "Completed"]
    to_ship = soup(alice.get(chips["To ship"]))
    assert card_refs(to_ship) == [every_status["paid"], every_status["picking"]]


def test_unknown_filter_shows_everything(alice, every_status):
    assert len(card_refs(soup(alice.get("/orders", params={"f": "nonsense"})))) == 8


def test_search_by_order_ref_or_channel_number(alice, db, cast):
    mine = make_order(db, channel="jd", channel_order_no="JD-778899")
    by_ref = soup(alice.get("/orders", params={"q": cast.alice_shipped.ref.lower()}))
    assert card_refs(by_ref) == [cast.alice_shipped.ref]
    assert by_ref.select_one("input#q")["value"] == cast.alice_shipped.ref.lower()
    by_channel_no = soup(alice.get("/orders", params={"q": " JD-778899 "}))
    assert card_refs(by_channel_no) == [mine.ref]


def test_search_never_finds_another_customers_order(alice, cast):
    for query in [cast.bob_paid.ref, cast.bob_paid.channel_order_no]:
        page = soup(alice.get("/orders", params={"q": query}))
        assert card_refs(page) == []
        assert text(page.select_one(".empty")) == f"No order with the number {query}."


def test_search_keeps_the_filter(alice, every_status):
    page = soup(alice.get("/orders", params={"f": "to_ship", "q": every_status["shipped"]}))
    assert card_refs(page) == []
    assert card_refs(soup(alice.get("/orders", params={"f": "shipped", "q": every_status["shipped"]}))) == [
        every_status["shipped"]]


def test_orders_come_ten_to_a_page(alice, db):
    now = datetime.now(UTC)
    refs = [make_order(db, created_at=now - timedelta(hours=n)).ref for n in range(23)]
    make_order(db, phone=BOB_PHONE)
    seen, url = [], "/orders"
    while url:
        page = soup(alice.get(url))
        seen.append(card_refs(page))
        following = page.select_one(".pager a.next")
        url = following["href"] if following else None
    assert [len(batch) for batch in seen] == [10, 10, 3]
    assert sum(seen, []) == refs
    last = soup(alice.get("/orders", params={"page": 3}))
    assert [text(link) for link in last.select(".pager a")] == ["Previous"]
    assert card_refs(soup(alice.get("/orders", params={"page": 4}))) == []


def test_htmx_gets_the_list_fragment_and_boosted_links_the_page(alice, every_status):
    response = alice.get("/orders", params={"f": "shipped"}, headers=HTMX)
    fragment = soup(response)
    assert is_fragment(fragment) and fragment.h1 is None
    assert card_refs(fragment) == [every_status["shipped"]]
    assert fragment.select_one(".chips") is not None
    assert "hx-request" in varies_on(response)
    boosted = soup(alice.get("/orders", params={"f": "shipped"}, headers={**HTMX, "HX-Boosted": "true"}))
    assert not is_fragment(boosted) and text(boosted.h1) == "My orders"


def test_order_page_shows_items_totals_and_full_address(alice, cast):
    ref = cast.alice_shipped.ref
    page = soup(alice.get(f"/orders/{ref}"))
    assert text(page.h1) == f"Order {ref}"
    assert text(page.select_one(".summary .status")) == "Shipped"
    rows = [[text(cell) for cell in row.select("td")] for row in page.select("table.lines tbody tr")]
    assert rows == [["西湖龙井 TEA-1", "× 2", "CN¥39.80"], ["玻璃茶杯 CUP-1", "× 1", "CN¥89.00"]]
    assert text(page.select_one("table.lines tr.total")) == "Total CN¥128.80"
    address = next(card for card in page.select("section.card") if card.h2 and text(card.h2) == "Delivery address")
    assert texts(address, "p") == ["张三 · 13800138000", "浙江省杭州市西湖区 文三路 100 号 2 幢 301 室 · 310012"]


def test_order_page_shows_the_raw_carrier_events_newest_first(alice, cast):
    page = soup(alice.get(f"/orders/{cast.alice_shipped.ref}"))
    timeline = page.select_one("section.shipment")
    assert text(timeline.h2) == "ZTO Express ZT7700123"
    assert texts(timeline, ".event .context") == [
        "【杭州市】快件派送中，请保持电话畅通", "【杭州市】快件已到达 杭州转运中心", "【杭州市】中通快递 已收取快件"]
    assert texts(timeline, ".event .code") == [
        "Carrier status 5 · Out for delivery", "Carrier status 0 · In transit", "Carrier status 1 · Label created"]
    times = [event["datetime"] for event in timeline.select(".event time")]
    assert times == sorted(times, reverse=True)


def test_shipped_order_offers_no_address_change_or_hurry(alice, cast):
    shipped = soup(alice.get(f"/orders/{cast.alice_shipped.ref}"))
    assert shipped.select(f"a[href='/orders/{cast.alice_shipped.ref}/address']") == []
    assert shipped.select("form[action$='/hurry']") == []
    paid = soup(alice.get(f"/orders/{cast.alice_paid.ref}"))
    assert text(paid.select_one(f"a[href='/orders/{cast.alice_paid.ref}/address']")) == "Change address"
    assert text(paid.select_one("form[action$='/hurry'] button")) == "Hurry my order"


def test_unknown_order_is_a_404(alice, cast):
    response = alice.get("/orders/OD0000000000")
    assert response.status_code == 404
    assert text(soup(response).h1) == "Page not found"


def alice_order_state(db, ref: str) -> tuple:  # noqa: ANN001
    order = order_service.get_order(db, ref)
    with db.read() as session:
        tasks = session.exec(select(func.count()).select_from(WarehouseTask)).one()
    return (order.status, order.is_priority, order.ship_street, order.ship_recipient, len(order.history), tasks,
            len(texts_to(ALICE_PHONE)))


def test_other_customer_gets_a_plain_404_and_changes_nothing(bob, db, cast):
    ref = cast.alice_paid.ref
    before = alice_order_state(db, ref)
    not_found = soup(bob.get("/orders/OD0000000000"))
    own_form = soup(bob.get(f"/orders/{cast.bob_paid.ref}/address"))
    stolen = {**form_values(own_form.select_one("#address-box form")), "street": "黑客路 1 号 101 室"}
    answers = [
        bob.get(f"/orders/{ref}"),
        bob.get(f"/orders/{ref}/terms"),
        bob.get(f"/orders/{ref}/address"),
        bob.post(f"/orders/{ref}/address", data=stolen, follow_redirects=False),
        bob.post(f"/orders/{ref}/address", data=stolen, headers=HTMX, follow_redirects=False),
        bob.post(f"/orders/{ref}/hurry", data={"_csrf_token": stolen["_csrf_token"]}, follow_redirects=False),
        bob.post(f"/orders/{ref}/hurry", data={"_csrf_token": stolen["_csrf_token"]}, headers=HTMX,
                 follow_redirects=False),
    ]
    for answer in answers:
        assert answer.status_code == 404, answer.request.url
        page = soup(answer)
        assert text(page.h1) == text(not_found.h1) == "Page not found"
        assert "张三" not in text(page) and "文三路" not in text(page)
    assert alice_order_state(db, ref) == before


def test_order_terms_are_the_version_in_force_when_ordered(alice, db, cast):
    add_terms(db, version="T2", ship_within_hours=12, effective_from=datetime.now(UTC) - timedelta(minutes=1))
    newer = make_order(db, phone=ALICE_PHONE, created_at=datetime.now(UTC))
    page = soup(alice.get(f"/orders/{cast.alice_paid.ref}/terms"))
    assert text(page.h1) == "Terms T1"
    assert text(page.select_one(".terms .muted")).startswith(
        f"Version T1, in force when order {cast.alice_paid.ref} was placed")
    assert text(soup(alice.get(f"/orders/{newer.ref}/terms")).h1) == "Terms T2"
    assert text(soup(alice.get("/terms")).h1) == "Terms T2"
    detail = soup(alice.get(f"/orders/{cast.alice_paid.ref}"))
    link = detail.select_one(f"a[href='/orders/{cast.alice_paid.ref}/terms']")
    assert text(link) == "Terms T1"
