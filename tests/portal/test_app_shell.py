"""Every route answers, errors are friendly, headers are safe, language switches."""

from bs4 import BeautifulSoup
from litestar.testing import TestClient

from app import create_app
from core.config import get_settings
from core.db import Database
from tests.factories import add_terms


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def test_every_get_page_answers(client, db):
    add_terms(db)
    for path in ["/", "/terms", "/admin", "/healthz"]:
        response = client.get(path)
        assert response.status_code == 200, path


def test_home_is_in_chinese_by_default(client):
    page = soup(client.get("/"))
    assert page.html["lang"] == "zh-CN"
    assert page.h1.get_text(strip=True) == "我的订单到哪了？"


def test_language_switch_to_english_and_back(client):
    switched = client.get("/lang/en", params={"next": "/terms"}, follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/terms"
    page = soup(client.get("/"))
    assert page.html["lang"] == "en"
    assert page.h1.get_text(strip=True) == "Where is my order?"
    client.get("/lang/zh_CN")
    assert soup(client.get("/")).h1.get_text(strip=True) == "我的订单到哪了？"


def test_language_switch_never_redirects_off_site(client):
    for target in ["https://evil.example/", "//evil.example/", "/\\evil.example"]:
        response = client.get("/lang/en", params={"next": target}, follow_redirects=False)
        assert response.headers["location"] == "/"


def test_terms_page_shows_the_version_in_force(client, db):
    add_terms(db, version="2026.2")
    page = soup(client.get("/terms"))
    assert page.h1.get_text(strip=True) == "Terms 2026.2"
    assert "版本 2026.2" in page.select_one(".terms .muted").get_text()


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = soup(response)
    assert page.h1.get_text(strip=True) == "页面不存在"
    assert page.select_one("a.button")["href"] == "/"


def test_admin_404_uses_the_admin_layout(client):
    response = client.get("/admin/nothing-here")
    assert response.status_code == 404
    assert soup(response).select_one("nav.sidebar") is not None


def test_security_headers_on_every_response(client):
    for path in ["/", "/healthz", "/nope"]:
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store"


def test_pages_load_no_third_party_assets(client):
    page = soup(client.get("/"))
    sources = [tag.get("src") or tag.get("href") for tag in page.select("script, link[rel=stylesheet]")]
    assert sources and all(src.startswith("/static/") for src in sources)
    assert not page.select("script:not([src])"), "no inline scripts"


def test_static_files_are_served(client):
    page = soup(client.get("/"))
    htmx = page.select_one("script[src]")["src"]
    response = client.get(htmx)
    assert response.status_code == 200
    assert "htmx" in response.text[:2000]


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_fails_when_the_database_is_gone():
    unreachable = Database("postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2")
    with TestClient(app=create_app(get_settings(), unreachable)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}


def test_post_without_csrf_token_is_refused(client):
    response = client.post("/lang/en")
    assert response.status_code in (403, 405)


def test_404_follows_the_chosen_language(client):
    client.get("/lang/en")
    page = soup(client.get("/no/such/page"))
    assert page.h1.get_text(strip=True) == "Page not found"


def test_frame_ancestors_follow_the_setting(db, monkeypatch):
    from dataclasses import replace

    settings = replace(get_settings(), frame_ancestors="'self' https://shop.example.cn")
    with TestClient(app=create_app(settings, db)) as client:
        csp = client.get("/").headers["content-security-policy"]
    assert "frame-ancestors 'self' https://shop.example.cn" in csp
