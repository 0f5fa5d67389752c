"""Support sees every message sent to the customer about an order, and sends a failed text again."""

import pytest
from sqlmodel import select

from core.models import AuditEntry, OutboxMessage
from core.services.identity.permissions import ROLE_PERMISSIONS, Permission, Role
from tests.admin.conftest import soup
from tests.factories import make_order


@pytest.fixture
def order(db, warehouses):
    return make_order(db, paid=True, warehouse_id=warehouses["HZ"].id)


def kill(db, order_id: int, error: str = "HTTP 500 from the SMS gateway") -> OutboxMessage:
    with db.write() as session:
        message = session.exec(select(OutboxMessage).where(OutboxMessage.order_id == order_id)).one()
        message.status, message.attempts, message.last_error = "dead", 6, error
        session.add(message)
    return message


def test_the_order_page_lists_the_messages_with_their_delivery(as_staff, db, order):
    page = soup(as_staff("support").get(f"/admin/orders/{order.ref}"))
    rows = page.select("#messages tbody tr")
    assert len(rows) == 1
    text = rows[0].get_text(" ", strip=True)
    assert "订单确认" in text and "短信" in text and "等待发送" in text
    assert f"您的订单 {order.ref} 已付款成功" in text
    assert page.select_one("#messages form") is None  # nothing to send again


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_a_dead_text_is_sent_again_by_roles_allowed_to(as_staff, db, order, role):
    message = kill(db, order.id)
    client = as_staff(role)
    page = soup(client.get(f"/admin/orders/{order.ref}"))
    allowed = Permission.RESEND_MESSAGE in ROLE_PERMISSIONS[Role(role)]
    assert "HTTP 500 from the SMS gateway" in page.select_one("#messages").get_text()
    assert (page.select_one("#messages form button") is not None) == allowed
    response = client.post(f"/admin/orders/{order.ref}/messages/{message.id}/resend",
                           data={"_csrf_token": client.csrf}, follow_redirects=False)
    with db.read() as session:
        fresh = session.get(OutboxMessage, message.id)
        audited = session.exec(select(AuditEntry).where(AuditEntry.action == "resend_message")).all()
    if allowed:
        assert response.status_code == 303
        assert (fresh.status, fresh.attempts) == ("pending", 0)
        assert [(a.actor, a.order_ref) for a in audited] == [(f"{role}@shop.test", order.ref)]
    else:
        assert response.status_code == 403
        assert fresh.status == "dead" and audited == []


def test_a_message_that_is_not_dead_is_not_sent_twice(as_staff, db, order):
    client = as_staff("support")
    with db.read() as session:
        message = session.exec(select(OutboxMessage).where(OutboxMessage.order_id == order.id)).one()
    response = client.post(f"/admin/orders/{order.ref}/messages/{message.id}/resend",
                           data={"_csrf_token": client.csrf})
    assert response.status_code == 409
    assert "只有彻底发送失败的短信或邮件才能重发" in soup(response).select_one("#messages .notice").get_text()


def test_another_orders_message_is_404(as_staff, db, order, warehouses):
    other = make_order(db, paid=True, warehouse_id=warehouses["GZ"].id)
    message = kill(db, other.id)
    client = as_staff("support")
    response = client.post(f"/admin/orders/{order.ref}/messages/{message.id}/resend",
                           data={"_csrf_token": client.csrf})
    assert response.status_code == 404
    # Warehouse staff in Hangzhou cannot reach a Guangzhou order's messages at all.
    warehouse = as_staff("warehouse")
    assert warehouse.get(f"/admin/orders/{other.ref}").status_code == 404


def test_a_wechat_message_blanked_by_retention_still_shows(as_staff, db, order):
    with db.write() as session:
        session.add(OutboxMessage(channel="wechat", recipient="", event="shipped", body="", order_id=order.id,
                                  status="sent"))
    page = as_staff("support").get(f"/admin/orders/{order.ref}")
    assert page.status_code == 200
    assert "微信" in soup(page).select_one("#messages").get_text()


def test_the_email_copy_is_listed_beside_the_text(as_staff, db, warehouses):
    order = make_order(db, paid=True, warehouse_id=warehouses["HZ"].id, customer_email="zhang.san@example.com")
    page = soup(as_staff("support").get(f"/admin/orders/{order.ref}"))
    rows = [row.get_text(" ", strip=True) for row in page.select("#messages tbody tr")]
    assert len(rows) == 2
    assert sorted(("邮件" in row, "短信" in row) for row in rows) == [(False, True), (True, False)]
    assert all(f"您的订单 {order.ref} 已付款成功" in row for row in rows)


def test_a_dead_email_is_sent_again_like_a_text(as_staff, db, warehouses):
    order = make_order(db, paid=True, warehouse_id=warehouses["HZ"].id, customer_email="zhang.san@example.com")
    with db.write() as session:
        email = session.exec(select(OutboxMessage).where(OutboxMessage.channel == "email")).one()
        email.status, email.attempts, email.last_error = "dead", 6, "SMTP: SMTPDataError: (451, b'try later')"
        session.add(email)
    client = as_staff("support")
    page = soup(client.get(f"/admin/orders/{order.ref}"))
    assert len(page.select("#messages form button")) == 1
    response = client.post(f"/admin/orders/{order.ref}/messages/{email.id}/resend",
                           data={"_csrf_token": client.csrf}, follow_redirects=False)
    assert response.status_code == 303
    with db.read() as session:
        fresh = session.get(OutboxMessage, email.id)
    assert (fresh.status, fresh.attempts, fresh.channel) == ("pending", 0, "email")
