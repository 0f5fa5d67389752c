"""Staff order search: the count of a broad search is capped so that it costs the
same at a million orders; the list is newest first, page by page."""

import json
from datetime import UTC, datetime, timedelta

from bs4 import BeautifulSoup
from sqlmodel import select

from core.models import AuditEntry, EvidenceDownload, EvidencePack, OrderNote
from core.services.actors import Actor
from core.services.orders import for_staff as admin_orders
from core.services.orders import lifecycle as order_service
from tests.factories import make_order, ship


def orders_line(response) -> str:
    return BeautifulSoup(response.text, "html.parser").select_one("p.muted").get_text(" ", strip=True)


def test_a_broad_search_says_how_many_up_to_the_cap_then_cap_plus(as_staff, db, cast, monkeypatch):
    now = datetime.now(UTC)
    refs = [make_order(db, created_at=now - timedelta(hours=n)).ref for n in range(5)]
    client = as_staff("admin")
    client.get("/lang/en")
    monkeypatch.setattr(admin_orders, "COUNT_CAP", 5)
    assert orders_line(client.get("/admin/orders")).startswith("5 orders")
    monkeypatch.setattr(admin_orders, "COUNT_CAP", 3)
    page = client.get("/admin/orders")
    assert orders_line(page).startswith("3+ orders")
    shown = [a.get_text(strip=True) for a in BeautifulSoup(page.text, "html.parser").select("td a.mono")]
    assert shown == refs  # all five listed, newest first: only the count is capped


def test_export_counts_every_row_whatever_the_cap(db, cast, monkeypatch):
    for _ in range(4):
        make_order(db)
    monkeypatch.setattr(admin_orders, "COUNT_CAP", 2)
    results = admin_orders.search(db, Actor.staff_member(cast["admin"]), admin_orders.OrderQuery(), limit=None)
    assert results.total == 4 and not results.total_capped and len(results.orders) == 4


def visible(response) -> str:
    return BeautifulSoup(response.text, "html.parser").get_text(" ", strip=True)


def audited(db, action: str) -> list[AuditEntry]:
    with db.read() as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


def offered_actions(response) -> set[str]:
    page = BeautifulSoup(response.text, "html.parser")
    return {form["action"].rsplit("/", 1)[1] for form in page.select("form[method=post]")
            if form["action"].rsplit("/", 1)[1] in ("ship", "address", "cancel")}


def test_the_order_page_offers_only_what_the_status_allows(as_staff, db, warehouses):
    unpaid = make_order(db, warehouse_id=warehouses["HZ"].id)
    paid = make_order(db, paid=True, warehouse_id=warehouses["HZ"].id)
    shipped = make_order(db, paid=True, warehouse_id=warehouses["HZ"].id)
    ship(db, shipped.ref)
    client = as_staff("admin")
    assert offered_actions(client.get(f"/admin/orders/{unpaid.ref}")) == {"address", "cancel"}
    assert offered_actions(client.get(f"/admin/orders/{paid.ref}")) == {"ship", "address", "cancel"}
    assert offered_actions(client.get(f"/admin/orders/{shipped.ref}")) == set()


def test_a_malformed_tracking_number_is_shown_beside_the_form(as_staff, db, warehouses):
    order = make_order(db, paid=True, warehouse_id=warehouses["HZ"].id)
    client = as_staff("warehouse")
    client.get("/lang/en")
    response = client.post(f"/admin/orders/{order.ref}/ship",
                           data={"carrier": "SF", "tracking_no": "SF1", "_csrf_token": client.csrf})
    assert response.status_code == 422
    assert "Choose the carrier and enter the tracking number." in visible(response)
    assert order_service.get_order(db, order.ref).status == "paid"
    assert audited(db, "mark_shipped") == [] and audited(db, "view_order") == []  # the error page is no view


def test_a_search_by_text_is_audited_with_what_was_found(as_staff, db, warehouses):
    order = make_order(db, warehouse_id=warehouses["HZ"].id)
    client = as_staff("support")
    client.get("/admin/orders?status=paid")
    assert audited(db, "search") == []  # browsing by filters is not a lookup of someone
    client.get(f"/admin/orders?q={order.ref}")
    [entry] = audited(db, "search")
    assert json.loads(entry.detail) == {"q": order.ref, "hits": 1} and entry.actor == "support@shop.test"


def test_another_warehouses_order_is_404_for_every_action_and_nothing_is_written(as_staff, db, warehouses):
    other = make_order(db, paid=True, warehouse_id=warehouses["GZ"].id)
    ship(db, other.ref)
    client = as_staff("warehouse")
    assert client.get(f"/admin/orders/{other.ref}").status_code == 404
    assert client.post(f"/admin/orders/{other.ref}/reveal", data={"_csrf_token": client.csrf}).status_code == 404
    assert client.post(f"/admin/orders/{other.ref}/notes",
                       data={"body": "", "_csrf_token": client.csrf}).status_code == 404  # empty note: still 404
    assert client.post(f"/admin/orders/{other.ref}/notes",
                       data={"body": "看一下", "_csrf_token": client.csrf}).status_code == 404
    assert client.get(f"/admin/orders/{other.ref}/evidence.pdf").status_code == 404
    with db.read() as session:
        assert session.exec(select(AuditEntry)).all() == []
        assert session.exec(select(OrderNote)).all() == []
        assert session.exec(select(EvidenceDownload)).all() == []
        assert session.exec(select(EvidencePack)).all() == []  # nothing was even rendered


def test_a_cancel_is_audited_with_its_reason_once(as_staff, db, warehouses):
    order = make_order(db, paid=True, warehouse_id=warehouses["HZ"].id)
    client = as_staff("supervisor")
    client.get("/lang/en")
    refused = client.post(f"/admin/orders/{order.ref}/cancel", data={"reason": " ", "_csrf_token": client.csrf})
    assert refused.status_code == 409 and "Say why the order is cancelled." in visible(refused)
    done = client.post(f"/admin/orders/{order.ref}/cancel", data={"reason": "客户要求取消", "_csrf_token": client.csrf},
                       follow_redirects=False)
    assert done.status_code == 303
    [entry] = audited(db, "cancel_order")
    assert json.loads(entry.detail) == {"reason": "客户要求取消"}
    history = order_service.get_order(db, order.ref).history
    assert [(h.kind, h.actor) for h in history[-2:]] == [("status", "supervisor@shop.test"),
                                                         ("cancel_reason", "supervisor@shop.test")]
    again = client.post(f"/admin/orders/{order.ref}/cancel", data={"reason": "再取消", "_csrf_token": client.csrf})
    assert again.status_code == 409 and len(audited(db, "cancel_order")) == 1
