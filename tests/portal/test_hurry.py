"""催单: hurrying an order gets an honest answer. A paid, unshipped order in
stock moves to the front of the packing queue (once per 24 h); otherwise the
shopper is told why not: awaiting payment, pre-sale date, out of stock,
already shipped, closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.models import OrderStatus, WarehouseTask
from core.services.actors import Actor
from core.services.orders import hurry
from core.services.orders import lifecycle as order_service
from tests.factories import add_warehouse, make_order, refund, set_stock
from tests.portal.pages import is_fragment, soup, submit, text

FORM = "form[action$='/hurry']"
PRIORITISED = "Done: your order has moved to the front of the packing queue and the warehouse has been told."
ALREADY_HURRIED = "You already hurried this order in the last 24 hours; it is at the front of the packing queue."
AWAITING_PAYMENT = "This order is still awaiting payment. Once it is paid we ship it within the promised time."
ALREADY_SHIPPED = "This order has already shipped; follow the parcel in the tracking timeline below."
CLOSED = "This order is closed and will not ship."


def hurry_tasks(db) -> list[WarehouseTask]:  # noqa: ANN001
    with db.read() as session:
        return list(session.exec(select(WarehouseTask).where(WarehouseTask.kind == "hurry")).all())


def press_hurry(client, ref: str, *, htmx: bool):  # noqa: ANN001
    """Press the button on the order page, or post the same form where the page has none."""
    page = soup(client.get(f"/orders/{ref}"))
    if page.select_one(FORM) is None:
        token = page.select_one("input[name=_csrf_token]")["value"]
        headers = {"HX-Request": "true"} if htmx else {}
        return client.post(f"/orders/{ref}/hurry", data={"_csrf_token": token}, headers=headers,
                           follow_redirects=False)
    return submit(client, page, FORM, htmx=htmx)


def answer_shown(client, ref: str, *, htmx: bool) -> str:  # noqa: ANN001
    """What the shopper reads after pressing the button, with or without JavaScript."""
    response = press_hurry(client, ref, htmx=htmx)
    if htmx:
        assert response.status_code == 200
        fragment = soup(response)
        assert is_fragment(fragment)
        return text(fragment.select_one("[role=status]"))
    assert response.status_code == 303
    assert response.headers["location"] == f"/orders/{ref}?done=hurry"
    return text(soup(client.get(response.headers["location"])).select_one("#hurry-box [role=status]"))


@pytest.fixture(params=[False, True], ids=["plain", "htmx"])
def htmx(request) -> bool:  # noqa: ANN001
    return request.param


def test_paid_order_is_prioritised(alice, db, cast, htmx):
    ref = cast.alice_paid.ref
    assert answer_shown(alice, ref, htmx=htmx) == PRIORITISED
    order = order_service.get_order(db, ref)
    assert order.is_priority is True
    [task] = hurry_tasks(db)
    assert task.order_id == order.id
    assert [(h.kind, h.via) for h in order.history][-1] == ("hurry", "portal")
    page = soup(alice.get(f"/orders/{ref}"))
    assert text(page.select_one(".summary .badge")) == "Hurried"


def test_second_hurry_within_a_day_is_already_hurried(alice, db, cast, htmx):
    ref = cast.alice_paid.ref
    answer_shown(alice, ref, htmx=False)
    assert answer_shown(alice, ref, htmx=htmx) == ALREADY_HURRIED
    assert len(hurry_tasks(db)) == 1, "the warehouse is told once"


def test_hurry_counts_again_after_a_day(alice, db, cast):
    ref = cast.alice_paid.ref
    earlier = hurry.hurry(db, Actor.customer("+8613800138000"), ref,
                          now=datetime.now(UTC) - timedelta(hours=25))
    assert earlier.outcome == hurry.HurryOutcome.PRIORITISED
    assert answer_shown(alice, ref, htmx=True) == PRIORITISED
    assert len(hurry_tasks(db)) == 2


def test_unpaid_order_is_awaiting_payment(alice, db, cast, htmx):
    assert answer_shown(alice, cast.alice_unpaid.ref, htmx=htmx) == AWAITING_PAYMENT
    assert order_service.get_order(db, cast.alice_unpaid.ref).is_priority is False
    assert hurry_tasks(db) == []


def test_presale_order_names_its_ship_date(alice, db, cast, htmx):
    ships_on = datetime.now(UTC).date() + timedelta(days=10)
    ref = make_order(db, paid=True, presale_ships_on=ships_on).ref
    answer = answer_shown(alice, ref, htmx=htmx)
    assert answer == f"This is a pre-sale order: it ships from {ships_on.isoformat()} and cannot leave earlier."
    assert hurry_tasks(db) == []


def test_presale_order_whose_date_has_come_is_prioritised(alice, db, cast):
    ref = make_order(db, paid=True, presale_ships_on=datetime.now(UTC).date() - timedelta(days=1)).ref
    assert answer_shown(alice, ref, htmx=True) == PRIORITISED


def test_out_of_stock_at_the_orders_warehouse_names_the_item(alice, db, cast, htmx):
    here, elsewhere = add_warehouse(db, "HZ1"), add_warehouse(db, "SH1")
    ref = make_order(db, paid=True, warehouse_id=here.id,
                     lines=[("TEA-1", "西湖龙井", 1, 1990), ("TEA-2", "安吉白茶", 2, 15800)]).ref
    set_stock(db, "TEA-1", here.id, on_hand=50)
    set_stock(db, "TEA-2", here.id, on_hand=5, reserved=4)
    set_stock(db, "TEA-2", elsewhere.id, on_hand=200)
    answer = answer_shown(alice, ref, htmx=htmx)
    assert answer == ("安吉白茶 is out of stock at the warehouse right now; we ship as soon as it is back "
                      "and will text you.")
    assert order_service.get_order(db, ref).is_priority is False
    assert hurry_tasks(db) == []


def test_stock_short_only_at_another_warehouse_does_not_matter(alice, db, cast):
    here, elsewhere = add_warehouse(db, "HZ1"), add_warehouse(db, "SH1")
    ref = make_order(db, paid=True, warehouse_id=here.id, lines=[("TEA-2", "安吉白茶", 2, 15800)]).ref
    set_stock(db, "TEA-2", here.id, on_hand=2)
    set_stock(db, "TEA-2", elsewhere.id, on_hand=0)
    assert answer_shown(alice, ref, htmx=True) == PRIORITISED


def test_shipped_order_is_already_shipped(alice, db, cast, htmx):
    assert answer_shown(alice, cast.alice_shipped.ref, htmx=htmx) == ALREADY_SHIPPED
    assert order_service.get_order(db, cast.alice_shipped.ref).is_priority is False


def test_refunded_or_cancelled_order_is_closed(alice, db, cast):
    refunded = make_order(db, paid=True).ref
    refund(db, refunded)
    cancelled = cast.alice_unpaid.ref
    with db.write() as session:
        order_service.transition(session, order_service.lock_order(session, cancelled), OrderStatus.CANCELLED,
                                 actor="staff", via="admin")
    assert answer_shown(alice, refunded, htmx=True) == CLOSED
    assert answer_shown(alice, cancelled, htmx=False) == CLOSED
    assert hurry_tasks(db) == []


def test_every_request_is_recorded_with_its_answer(alice, db, cast):
    answer_shown(alice, cast.alice_unpaid.ref, htmx=True)
    answer_shown(alice, cast.alice_paid.ref, htmx=True)
    outcomes = []
    for ref in (cast.alice_unpaid.ref, cast.alice_paid.ref):
        entries = [h for h in order_service.get_order(db, ref).history if h.kind == "hurry"]
        outcomes += [(h.actor, h.detail) for h in entries]
    assert outcomes == [("customer:+8613800138000", '{"outcome": "awaiting_payment"}'),
                        ("customer:+8613800138000", '{"outcome": "prioritised"}')]


def test_the_answer_is_not_shown_again_on_a_plain_visit(alice, cast):
    answer_shown(alice, cast.alice_paid.ref, htmx=False)
    page = soup(alice.get(f"/orders/{cast.alice_paid.ref}"))
    assert page.select("#hurry-box [role=status]") == []


def test_thirty_presses_in_a_day_are_answered_but_only_the_first_three_are_written_down(alice, db, cast):
    ref = cast.alice_paid.ref
    answers = {hurry.hurry(db, Actor.customer("+8613800138000"), ref).outcome for _ in range(30)}
    assert answers == {hurry.HurryOutcome.PRIORITISED, hurry.HurryOutcome.ALREADY_HURRIED}
    history = [h for h in order_service.get_order(db, ref).history if h.kind == "hurry"]
    assert len(history) == hurry.HURRIES_RECORDED_PER_DAY
    assert len(hurry_tasks(db)) == 1
