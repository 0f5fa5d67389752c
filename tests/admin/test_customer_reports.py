"""A shopper's report as staff see it: the dispute with the customer's text, photos
(served only to roles allowed to see them, each view audited) and the evidence pack;
the reply to the customer, shown on the shopper's order page and texted through the
outbox, while status notes stay internal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import TestClient
from sqlmodel import select

from core.config import get_settings
from core.models import AuditEntry, OutboxMessage
from core.services.actors import Actor
from core.services.disputes import problem_reports
from core.services.disputes.photos import Upload
from core.services.tracking.evidence_packs import build_pack
from core.storage import get_photo_storage
from tests.admin.conftest import soup
from tests.factories import ALICE_PHONE, deliver, make_order, ship
from tests.photos import jpeg_with_gps
from tests.portal.conftest import sign_in as shopper_sign_in


@pytest.fixture
def reported(db, warehouses):
    """Alice's delivered order (Hangzhou warehouse), reported damaged with one photo."""
    order = make_order(db, paid=True, warehouse_id=warehouses["HZ"].id)
    ship(db, order.ref, at=datetime.now(UTC) - timedelta(days=2))
    deliver(db, order.ref, at=datetime.now(UTC) - timedelta(days=1))
    settings = get_settings()
    outcome = problem_reports.report_problem(
        db, Actor.customer("+86" + ALICE_PHONE), order.ref, storage=get_photo_storage(settings), kind="damaged",
        description="杯子碎了", uploads=[Upload("IMG_1.jpg", jpeg_with_gps())],
        evidence_pack=lambda ref: build_pack(db, settings, ref, audience="masked"))
    return order, outcome.dispute_id


@pytest.fixture
def shopper(db):
    from app import create_app

    with TestClient(app=create_app(get_settings(), db), base_url="http://127.0.0.1") as client:
        client.get("/lang/en")
        shopper_sign_in(client, db, ALICE_PHONE)
        yield client


def test_support_sees_the_report_with_its_photo_verdict_and_evidence_pack(as_staff, db, reported):
    order, dispute_id = reported
    client = as_staff("support")
    client.get("/lang/en")
    page = soup(client.get(f"/admin/disputes/{dispute_id}"))
    reports = page.select_one(".customer-reports")
    assert "杯子碎了" in reports.get_text(" ", strip=True)
    (img,) = reports.select("img")
    photo = client.get(img["src"])
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.content[:2] == b"\xff\xd8" and b"PhoneMaker" not in photo.content
    assert "Promised vs actual" in page.get_text(" ", strip=True)
    pack = client.get(f"/admin/disputes/{dispute_id}/evidence.pdf")
    assert pack.status_code == 200 and pack.content.startswith(b"%PDF")
    with db.read() as session:
        views = session.exec(select(AuditEntry).where(AuditEntry.action == "photo_view")).all()
    assert [(v.actor, v.order_ref) for v in views] == [("support@shop.test", order.ref)]


def test_a_role_without_the_photo_permission_gets_no_photo(as_staff, db, reported):
    order, dispute_id = reported
    supervisor = as_staff("supervisor")
    url = soup(supervisor.get(f"/admin/disputes/{dispute_id}")).select_one(".customer-reports img")["src"]
    assert supervisor.get(url).status_code == 200
    warehouse = as_staff("warehouse")
    warehouse.get("/lang/en")
    page = warehouse.get(f"/admin/disputes/{dispute_id}")
    assert page.status_code == 200
    assert soup(page).select(".customer-reports img") == []
    assert "your role may not view customers' photos" in soup(page).get_text(" ", strip=True)
    assert warehouse.get(url).status_code == 403


def test_staff_reply_shows_on_the_shoppers_order_page_and_is_texted(as_staff, db, reported, shopper):
    order, dispute_id = reported
    client = as_staff("support")
    client.post(f"/admin/disputes/{dispute_id}/status",
                data={"status": "submitted", "note": "内部：已向顺丰索赔", "_csrf_token": client.csrf})
    sent = client.post(f"/admin/disputes/{dispute_id}/reply",
                       data={"reply": "已为您申请补发，明天发出。", "_csrf_token": client.csrf}, follow_redirects=False)
    assert sent.status_code == 303

    case = soup(shopper.get(f"/orders/{order.ref}")).select_one(f"#case-{dispute_id}")
    words = case.get_text(" ", strip=True)
    assert "已为您申请补发，明天发出。" in words and "Customer service" in words
    assert "Claim filed with the carrier or platform" in words
    assert "内部" not in words  # the status note is internal
    with db.read() as session:
        texts = session.exec(select(OutboxMessage).where(OutboxMessage.event == "dispute_update")
                             .order_by(OutboxMessage.id)).all()
    assert len(texts) == 2  # the status change and the reply
    assert "已向快递公司或平台提出索赔" in texts[0].body and f"/orders/{order.ref}" in texts[0].body
    assert texts[-1].recipient == "+86" + ALICE_PHONE and order.ref in texts[-1].body
    assert "客服已回复" in texts[-1].body and f"/orders/{order.ref}" in texts[-1].body


def test_an_empty_reply_is_refused_beside_the_field_and_nothing_is_sent(as_staff, db, reported):
    _, dispute_id = reported
    client = as_staff("support")
    client.get("/lang/en")
    refused = client.post(f"/admin/disputes/{dispute_id}/reply", data={"reply": "  ", "_csrf_token": client.csrf})
    assert refused.status_code == 422
    assert soup(refused).select_one("#reply-error").get_text(strip=True) == "Write the reply to the customer."
    with db.read() as session:
        assert session.exec(select(OutboxMessage).where(OutboxMessage.event == "dispute_update")).all() == []


def test_compliance_may_not_reply(as_staff, reported):
    _, dispute_id = reported
    client = as_staff("compliance")
    response = client.post(f"/admin/disputes/{dispute_id}/reply", data={"reply": "你好", "_csrf_token": client.csrf})
    assert response.status_code == 403
