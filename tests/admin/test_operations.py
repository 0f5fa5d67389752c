"""The operator's view and the Prometheus endpoint."""

from dataclasses import replace
from datetime import UTC, datetime

from bs4 import BeautifulSoup
from litestar.testing import TestClient

from app import create_app
from core.config import get_settings
from core.jobs.tasks import run_job
from tests.factories import make_order


def test_health_page_shows_orders_per_channel_jobs_and_outbox(as_staff, db):
    make_order(db, channel="jd")
    make_order(db, channel="jd")
    run_job(db, get_settings(), "consistency_check")
    page = BeautifulSoup(as_staff("support").get("/admin/health").text, "html.parser")
    rows = {tr.select_one("td").get_text(strip=True): tr for tr in page.select("table")[0].select("tbody tr")}
    assert sum(int(td.get_text() or 0) for td in rows["京东"].select("td.num")) == 2
    jobs = {tr.select("td")[0].get_text(strip=True): tr.select("td")[3].get_text(strip=True)
            for tr in page.select("table")[1].select("tbody tr")}
    assert jobs["consistency_check"] == "0 differences"


def test_metrics_for_prometheus(client, db):
    make_order(db, channel="taobao", created_at=datetime.now(UTC))
    body = client.get("/metrics").text
    assert 'orderdesk_orders{status="pending_payment"} 1' in body
    assert 'orderdesk_orders_last_hour{channel="taobao"} 1' in body
    assert 'orderdesk_job_lag_seconds{job="deliver_outbox"} -1' in body


def test_metrics_token(db):
    settings = replace(get_settings(), metrics_token="s3cret")
    with TestClient(app=create_app(settings, db)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    with TestClient(app=create_app(replace(get_settings(), env="prod"), db)) as client:
        assert client.get("/metrics").status_code == 404
