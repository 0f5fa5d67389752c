"""Staff order search: the count of a broad search is capped so that it costs the
same at a million orders; the list is newest first, page by page."""

from datetime import UTC, datetime, timedelta

from bs4 import BeautifulSoup

from core.services.actors import Actor
from core.services.orders import for_staff as admin_orders
from tests.factories import make_order


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
