"""How responses travel: static files cached for a year under their content-hashed
URL, text compressed with gzip, everything else left alone."""

from __future__ import annotations

import gc

from litestar import Litestar, MediaType, Response, get
from litestar.config.compression import CompressionConfig
from litestar.testing import TestClient

from app import create_app
from core.config import load_settings
from core.rendering.jinja import static_url
from core.web.middleware import TextCompressionMiddleware
from tests.factories import ALICE_PHONE, make_order

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


def test_static_file_under_its_hashed_url_is_cached_for_a_year(client):
    response = client.get(static_url("css/portal.css"), headers=GZIP)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_static_file_without_its_current_hash_is_revalidated(client):
    for url in ["/static/css/portal.css", "/static/css/portal.css?v=0123456789ab"]:
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-cache", url
        assert response.headers["etag"]


def test_stylesheet_is_gzipped_when_the_browser_accepts_it(client):
    url = static_url("css/portal.css")
    compressed = client.get(url, headers=GZIP)
    plain = client.get(url, headers=IDENTITY)
    assert compressed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in compressed.headers["vary"].lower()
    assert "content-encoding" not in plain.headers
    assert compressed.content == plain.content  # httpx undid the gzip


def test_order_list_is_gzipped_and_still_never_stored(alice, db):
    make_order(db, phone=ALICE_PHONE)
    response = alice.get("/orders", headers=GZIP)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "no-store"
    assert {v.strip().lower() for v in response.headers["vary"].split(",")} >= {"accept-encoding", "hx-request"}
    assert "<h1>My orders</h1>" in response.text


def test_only_text_is_compressed():
    page = "<p>" + "订单 " * 400 + "</p>"

    @get("/page", media_type=MediaType.HTML, sync_to_thread=False)
    def html() -> str:
        return page

    @get("/file.pdf", sync_to_thread=False)
    def pdf() -> Response:
        return Response(content=b"%PDF-1.7 " + bytes(2000), media_type="application/pdf")

    app = Litestar([html, pdf], compression_config=CompressionConfig(
        backend="gzip", gzip_compress_level=6, middleware_class=TextCompressionMiddleware))
    with TestClient(app=app) as client:
        text = client.get("/page", headers=GZIP)
        binary = client.get("/file.pdf", headers=GZIP)
    assert text.headers["content-encoding"] == "gzip"
    assert int(text.headers["content-length"]) < len(page.encode()) / 5
    assert "content-encoding" not in binary.headers
    assert text.text == page
    assert binary.content.startswith(b"%PDF") and len(binary.content) == 2009


def test_production_app_moves_its_startup_objects_out_of_the_collector(db, tmp_path):
    settings = load_settings({"ORDERDESK_ENV": "prod", "SECRET_KEY": "p" * 40, "DATABASE_URL": db.url,
                              "PUBLIC_BASE_URL": "https://shop.example", "SMS_PROVIDER": "http",
                              "SMS_HTTP_URL": "https://127.0.0.1:9/", "SMS_HTTP_KEY": "k", "SMS_HTTP_SECRET": "s" * 32,
                              "ORDERDESK_VAR_DIR": str(tmp_path)})
    gc.unfreeze()
    try:
        with TestClient(app=create_app(settings, db)):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_served_production_app_takes_the_client_address_from_the_local_proxy(db, tmp_path, monkeypatch):
    """Behind the TLS proxy every request comes from 127.0.0.1; the sign-in limits must
    count the shopper's address that the proxy forwards, and only the proxy may set it."""
    import anyio
    import httpx
    from sqlmodel import select

    import app as orderdesk_app
    from core.models import LoginCode
    from core.sms import ConsoleSms

    settings = load_settings({"ORDERDESK_ENV": "prod", "SECRET_KEY": "p" * 40, "DATABASE_URL": db.url,
                              "PUBLIC_BASE_URL": "https://shop.example", "SMS_PROVIDER": "http",
                              "SMS_HTTP_URL": "https://127.0.0.1:9/", "SMS_HTTP_KEY": "k", "SMS_HTTP_SECRET": "s" * 32,
                              "ORDERDESK_VAR_DIR": str(tmp_path)})
    monkeypatch.setattr(orderdesk_app, "get_settings", lambda: settings)
    monkeypatch.setattr(orderdesk_app, "create_app", lambda s: create_app(s, db))
    monkeypatch.setattr("portal.auth.get_sms_provider", lambda _settings: ConsoleSms(tmp_path / "outbox.jsonl"))
    served = orderdesk_app.create_served_app()

    async def ask_for_code(peer: str, phone: str) -> None:
        transport = httpx.ASGITransport(app=served, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="https://shop.example") as browser:
            page = await browser.get("/login")
            token = page.text.split('name="_csrf_token" value="')[1].split('"')[0]
            await browser.post("/login", data={"phone": phone, "_csrf_token": token},
                               headers={"X-Forwarded-For": "203.0.113.50", "HX-Request": "true"})

    anyio.run(ask_for_code, "127.0.0.1", "13800138000")
    anyio.run(ask_for_code, "198.51.100.7", "13912345678")  # not the proxy: its X-Forwarded-For is ignored
    with db.read() as session:
        assert sorted(session.exec(select(LoginCode.client_ip)).all()) == ["198.51.100.7", "203.0.113.50"]
