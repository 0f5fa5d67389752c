"""Tokens and signatures a stranger sends with characters we never issue: a refusal, never a 500."""

from __future__ import annotations

from tests.portal.pages import csrf_token, soup

NOT_ASCII = "令牌" * 40


def test_a_tracking_link_with_a_non_ascii_signature_is_a_404(client):
    response = client.get(f"/t/ABC.0.ffffffff.{NOT_ASCII}")
    assert response.status_code == 404


def test_a_csrf_token_that_is_not_ascii_is_refused_as_a_mismatch(client):
    page = client.get("/login")
    assert page.status_code == 200 and csrf_token(soup(page))
    in_form = client.post("/login", data={"_csrf_token": NOT_ASCII, "phone": "13800138000"})
    assert in_form.status_code == 403
    in_header = client.post("/login", data={"phone": "13800138000"}, headers={"x-csrftoken": NOT_ASCII.encode()})
    assert in_header.status_code == 403


def test_a_csrf_cookie_that_is_not_ascii_is_refused_as_a_mismatch(client):
    token = csrf_token(soup(client.get("/login")))
    client.cookies.clear()
    response = client.post("/login", data={"_csrf_token": token, "phone": "13800138000"},
                           headers={"cookie": ("csrftoken=" + "é" * 80).encode()})
    assert response.status_code == 403


def test_the_metrics_token_compared_with_a_non_ascii_header_is_a_401(db):
    from dataclasses import replace

    from litestar.testing import TestClient

    from app import create_app
    from core.config import get_settings

    settings = replace(get_settings(), metrics_token="m" * 32)
    with TestClient(app=create_app(settings, db), base_url="http://127.0.0.1") as client:
        response = client.get("/metrics", headers={"authorization": ("Bearer " + "é" * 32).encode()})
        assert response.status_code == 401
        assert client.get("/metrics", headers={"authorization": "Bearer " + "m" * 32}).status_code == 200


def test_an_id_in_a_path_beyond_any_database_integer_is_a_404(client):
    response = client.get("/orders/ANYREF/photos/99999999999999999999")
    assert response.status_code == 404


def test_a_page_number_beyond_any_database_integer_is_an_empty_page(db):
    from core.paging import MAX_PAGE
    from core.services.audit import log as audit_log
    from core.services.orders import for_customer

    page = for_customer.list_orders(db, "+8613800138000", page=10**20)
    assert page.cards == [] and page.page == MAX_PAGE
    assert audit_log.search(db, page=10**20).entries == []
