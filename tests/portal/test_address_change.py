"""Changing the delivery address before the parcel ships: the prefilled form,
the change with its history entry, warehouse task and confirmation text, the
htmx confirmation, field errors, and the refusal once the parcel has left."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from core.models import OrderStatus, WarehouseTask
from core.services.orders import lifecycle as order_service
from tests.factories import ALICE_PHONE, ship
from tests.portal.pages import form_values, is_fragment, soup, submit, text, texts, texts_to

FORM = "form[action$='/address']"
NEW_ADDRESS = {
    "recipient": "王五",
    "phone": "13700137000",
    "province": "广东省",
    "city": "深圳市",
    "district": "南山区",
    "street": "粤海街道科技园南区 88 号 3 栋 1201",
    "postal_code": "518057",
}


def tasks(db) -> list[WarehouseTask]:  # noqa: ANN001
    with db.read() as session:
        return list(session.exec(select(WarehouseTask)).all())


def snapshot(db, ref: str) -> tuple:  # noqa: ANN001
    order = order_service.get_order(db, ref)
    address = tuple(getattr(order, f"ship_{key}") for key in NEW_ADDRESS)
    return order.status, address, [h.kind for h in order.history], len(tasks(db)), len(texts_to(ALICE_PHONE))


def open_form(client, ref: str):  # noqa: ANN001
    response = client.get(f"/orders/{ref}/address")
    assert response.status_code == 200
    return soup(response)


def test_form_is_prefilled_with_the_current_address(alice, cast):
    page = open_form(alice, cast.alice_paid.ref)
    assert text(page.h1) == "Change the delivery address"
    values = form_values(page.select_one(FORM))
    assert {key: values[key] for key in NEW_ADDRESS} == {
        "recipient": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市", "district": "西湖区",
        "street": "文三路 100 号 2 幢 301 室", "postal_code": "310012",
    }
    labels = {label["for"]: text(label) for label in page.select(FORM + " label")}
    assert labels["f-street"] == "Street, building, room"
    assert labels["f-province"] == "Province"


def test_plain_post_changes_the_address_and_redirects_to_the_order(alice, db, cast):
    ref = cast.alice_paid.ref
    texts_before = len(texts_to(ALICE_PHONE))
    response = submit(alice, open_form(alice, ref), FORM, **NEW_ADDRESS)
    assert response.status_code == 303
    assert response.headers["location"] == f"/orders/{ref}?done=address"

    order = order_service.get_order(db, ref)
    assert (order.ship_province, order.ship_city, order.ship_district) == ("广东省", "深圳市", "南山区")
    assert order.ship_phone == "+8613700137000"
    [entry] = [h for h in order.history if h.kind == "address_changed"]
    detail = json.loads(entry.detail)
    assert detail["old"]["street"] == "文三路 100 号 2 幢 301 室" and detail["old"]["recipient"] == "张三"
    assert detail["new"]["street"] == NEW_ADDRESS["street"] and detail["new"]["recipient"] == "王五"
    assert (entry.actor, entry.via) == ("customer:+8613800138000", "portal")
    [task] = tasks(db)
    assert (task.kind, task.order_id) == ("address_changed", order.id)
    assert json.loads(task.detail)["new"]["street"] == NEW_ADDRESS["street"]
    sent = texts_to(ALICE_PHONE)[texts_before:]
    assert len(sent) == 1
    assert ref in sent[0] and "广东省深圳市南山区" in sent[0] and "王*" in sent[0]
    assert NEW_ADDRESS["street"] not in sent[0], "the text names the district, not the door"

    page = soup(alice.get(response.headers["location"]))
    assert text(page.select_one(".notice.ok")) == (
        "The new address is saved and the warehouse has been told. We sent you a confirmation text.")
    assert "广东省深圳市南山区 粤海街道科技园南区 88 号 3 栋 1201 · 518057" in texts(page, "section.card p")
    assert texts(page, ".history li")[0].endswith("Delivery address changed to 广东省深圳市南山区")


def test_htmx_post_returns_the_confirmation(alice, db, cast):
    ref = cast.alice_paid.ref
    response = submit(alice, open_form(alice, ref), FORM, htmx=True, **NEW_ADDRESS)
    assert response.status_code == 200
    fragment = soup(response)
    assert is_fragment(fragment)
    assert text(fragment.h2) == "Address changed"
    assert texts(fragment, "p")[:2] == ["王五 · 13700137000", "广东省深圳市南山区 粤海街道科技园南区 88 号 3 栋 1201"]
    assert "The warehouse has been told and we sent you a confirmation text." in text(fragment)
    assert fragment.select_one("a")["href"] == f"/orders/{ref}"
    assert order_service.get_order(db, ref).ship_city == "深圳市"


def test_unpaid_order_address_can_change_too(alice, db, cast):
    response = submit(alice, open_form(alice, cast.alice_unpaid.ref), FORM, **NEW_ADDRESS)
    assert response.status_code == 303
    assert order_service.get_order(db, cast.alice_unpaid.ref).ship_district == "南山区"


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_invalid_address_is_explained_field_by_field_and_changes_nothing(alice, db, cast, htmx):
    ref = cast.alice_paid.ref
    before = snapshot(db, ref)
    typed = {"recipient": "", "phone": "123", "province": "", "city": "深圳市", "district": "南山区",
             "street": "x", "postal_code": "12"}
    response = submit(alice, open_form(alice, ref), FORM, htmx=htmx, **typed)
    assert response.status_code == 422
    page = soup(response)
    assert is_fragment(page) is htmx
    errors = {}
    for field in page.select("[aria-invalid=true]"):
        errors[field["name"]] = text(page.select_one("#" + field["aria-describedby"]))
    assert errors == {
        "recipient": "This field is required.",
        "phone": "This phone number is not valid.",
        "province": "This field is required.",
        "street": "Give the street, building and room so the courier can find you.",
        "postal_code": "A postal code has 6 digits.",
    }
    kept = form_values(page.select_one(FORM))
    assert {key: kept[key] for key in typed} == typed
    assert snapshot(db, ref) == before


def test_unknown_province_is_refused(alice, db, cast):
    response = submit(alice, open_form(alice, cast.alice_paid.ref), FORM, **{**NEW_ADDRESS, "province": "加州"})
    assert response.status_code == 422
    assert text(soup(response).select_one("#e-province")) == "Choose a province from the list."


def test_same_address_again_is_refused(alice, db, cast):
    ref = cast.alice_paid.ref
    before = snapshot(db, ref)
    response = submit(alice, open_form(alice, ref), FORM)
    assert response.status_code == 422
    assert text(soup(response).select_one("#e-street")) == "This is already the delivery address of the order."
    assert snapshot(db, ref) == before


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_address_cannot_change_once_shipped(alice, db, cast, htmx):
    ref = cast.alice_paid.ref
    form = open_form(alice, ref)
    ship(db, ref, carrier="SF", tracking_no="SF1234567890")  # the warehouse was faster
    before = snapshot(db, ref)
    response = submit(alice, form, FORM, htmx=htmx, **NEW_ADDRESS)
    assert response.status_code == 409
    page = soup(response)
    assert is_fragment(page) is htmx
    notice = texts(page, "[role=alert] p")
    assert notice[0] == "This order has already shipped, so the address can no longer be changed here."
    assert notice[1].startswith("What you can do: call the carrier with the tracking number")
    assert notice[2] == "SF Express SF1234567890"
    assert page.select(FORM) == []
    assert snapshot(db, ref) == before
    assert before[0] == OrderStatus.SHIPPED


def test_shipped_order_shows_the_explanation_instead_of_the_form(alice, cast):
    page = open_form(alice, cast.alice_shipped.ref)
    assert page.select(FORM) == []
    assert text(page.select_one("[role=alert] strong")) == (
        "This order has already shipped, so the address can no longer be changed here.")


def test_cancelled_order_cannot_be_redirected(alice, db, cast):
    ref = cast.alice_unpaid.ref
    form = open_form(alice, ref)
    with db.write() as session:
        order_service.transition(session, order_service.lock_order(session, ref), OrderStatus.CANCELLED,
                                 actor="staff", via="admin")
    response = submit(alice, form, FORM, **NEW_ADDRESS)
    assert response.status_code == 409
    cancelled = "This order is cancelled; there is no parcel to redirect."
    assert text(soup(response).select_one("[role=alert] strong")) == cancelled
    assert order_service.get_order(db, ref).ship_city == "杭州市"
    again = open_form(alice, ref)
    assert again.select(FORM) == []
    assert text(again.select_one("[role=alert] strong")) == cancelled, "not 'already shipped'"


def test_a_fourth_change_in_a_day_is_refused_with_the_rule_and_writes_nothing(alice, db, cast):
    ref = cast.alice_paid.ref
    for n in range(3):
        response = submit(alice, open_form(alice, ref), FORM, **{**NEW_ADDRESS, "street": f"科技园南区 {n} 号 1201"})
        assert response.status_code == 303
    before = snapshot(db, ref)
    response = submit(alice, open_form(alice, ref), FORM, **{**NEW_ADDRESS, "street": "科技园南区 99 号 1201"})
    assert response.status_code == 409
    assert texts(soup(response), "[role=alert] p")[0] == (
        "This address was changed 3 times in the last 24 hours. Contact us if it needs to change again.")
    assert snapshot(db, ref) == before
    assert before[3] == 3, "three changes, three warehouse tasks: no more"
