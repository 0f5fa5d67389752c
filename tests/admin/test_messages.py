"""Staff edit the texts customers receive; the next message uses the edit."""

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from core.models import AuditEntry, OutboxMessage
from core.services.actors import Actor
from core.services.orders import shipping
from tests.admin.conftest import soup
from tests.factories import make_order


def test_the_list_shows_every_event_in_both_languages_with_its_sms_count(as_staff):
    page = soup(as_staff("supervisor").get("/admin/messages"))
    rows = page.select(".messages-table tbody tr")
    assert len(rows) == 7 * 2
    first = [cell.get_text(" ", strip=True) for cell in rows[0].select("td")]
    assert first[0].startswith("订单确认") and first[1] == "中文"
    assert "{ref}" in first[2] and first[3] in {"1", "2"} and first[4] == "内置文本"


def test_an_edit_is_saved_audited_and_used_for_the_next_message(as_staff, db):
    client = as_staff("supervisor")
    body = "【好茶铺】订单 {ref} 已发货（{carrier} {tracking_no}），预计 {expected} 前送达：{link}"
    response = client.post("/admin/messages/shipped/zh_CN", data={"body": body, "_csrf_token": client.csrf},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/admin/messages?saved=shipped.zh_CN"
    listing = soup(client.get(response.headers["location"]))
    assert listing.select_one(".notice.ok").get_text(strip=True) == "已保存。"
    row = next(r for r in listing.select(".messages-table tbody tr") if "shipped" in r.get_text())
    assert "【好茶铺】" in row.get_text() and "supervisor@shop.test" in row.get_text()

    order = make_order(db, paid=True)
    shipping.mark_shipped(db, Actor.integration("t", via="api"), order.ref, carrier="SF", tracking_no="SF1000200030",
                          at=datetime.now(UTC) - timedelta(hours=1))
    with db.read() as session:
        sent = session.exec(select(OutboxMessage).where(OutboxMessage.event == "shipped")).one()
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "message_template_update")).one()
    assert sent.body.startswith(f"【好茶铺】订单 {order.ref} 已发货（") and "SF1000200030" in sent.body
    assert entry.actor == "supervisor@shop.test" and "【好茶铺】" in entry.detail


def test_unknown_placeholders_and_format_tricks_are_refused_beside_the_field(as_staff, db):
    client = as_staff("admin")
    for body, expected in [
        ("订单 {ref} 已签收 {coupon}：{link}", "{coupon}"),
        ("订单 {ref.__class__} 已签收：{link}", "{ref.__class__}"),
        ("订单 {ref:>40} 已签收：{link}", "{ref:>40}"),
        ("订单 {ref 已签收：{link}", "括号"),
        ("订单 {ref} 已签收", "{link}"),
        ("   ", "不能为空"),
    ]:
        response = client.post("/admin/messages/delivered/zh_CN", data={"body": body, "_csrf_token": client.csrf})
        assert response.status_code == 422, body
        page = soup(response)
        assert expected in page.select_one("#e-body").get_text(), body
        assert page.select_one("#m-body").get_text() == body  # what was typed is kept
    with db.read() as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "message_template_update")).all() == []


def test_preview_fills_sample_values_and_counts_sms_without_saving(as_staff, db):
    client = as_staff("admin")
    long_body = "您好！" * 30 + "订单 {ref} 已签收：{link}"
    response = client.post("/admin/messages/delivered/zh_CN/preview",
                           data={"body": long_body, "_csrf_token": client.csrf}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = soup(response)
    assert fragment.select_one("#message-editor") is not None and fragment.select_one("h1") is None
    bubble = fragment.select_one(".sms-bubble").get_text()
    assert "OD7K2M9QX4TB" in bubble and "{ref}" not in bubble
    assert "发送 3 条短信" in fragment.select_one(".message-preview").get_text()
    listing = soup(client.get("/admin/messages"))
    assert "您好！您好！" not in listing.get_text()


def test_reset_goes_back_to_the_built_in_text(as_staff, db):
    client = as_staff("admin")
    client.post("/admin/messages/delivered/en", data={"body": "Arrived: {ref} {link}", "_csrf_token": client.csrf})
    page = soup(client.get("/admin/messages/delivered/en"))
    assert page.select_one("#m-body").get_text() == "Arrived: {ref} {link}"
    client.post("/admin/messages/delivered/en/reset", data={"_csrf_token": client.csrf})
    page = soup(client.get("/admin/messages/delivered/en"))
    assert page.select_one("#m-body").get_text().startswith("Order {ref} was delivered.")
    with db.read() as session:
        assert [e.action for e in session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()] == [
            "message_template_update", "message_template_reset"]


def test_an_unknown_event_or_language_is_404(as_staff):
    client = as_staff("admin")
    assert client.get("/admin/messages/refund_paid/zh_CN").status_code == 404
    assert client.get("/admin/messages/delivered/fr").status_code == 404
