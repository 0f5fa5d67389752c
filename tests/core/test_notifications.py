"""The outbox: queued with their cause, retried with backoff, dead after the last try."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.models import OutboxMessage
from core.services.actors import Actor
from core.services.messaging import delivery
from core.services.messaging import outbox as notifications
from core.services.orders.address_change import change_address
from core.sms import SmsError, SmsReceipt
from tests.factories import make_order

NEW = {"recipient": "王五", "phone": "13700000000", "province": "浙江省", "city": "杭州市", "district": "上城区",
       "street": "解放路 1 号 101 室"}

SYSTEM = Actor.system(via="test")


class FlakyGateway:
    """Fails the first `failures` sends, then accepts; records what it accepted."""

    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures, self.calls, self.accepted = failures, 0, []

    def send(self, to, text):
        self.calls += 1
        if self.calls <= self.failures:
            raise SmsError("gateway timeout")
        self.accepted.append((to, text))
        return SmsReceipt(provider="flaky", message_id=f"m{self.calls}")


def messages(db):
    with db.read() as session:
        return session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_a_change_queues_its_message_in_the_same_transaction(db):
    order = make_order(db, paid=True)
    before = len(messages(db))
    changed = change_address(db, SYSTEM, order.ref, NEW)
    queued = messages(db)[before:]
    assert [m.event for m in queued] == ["address_changed"]
    assert queued[0].id == changed.message_id
    assert "杭州市上城区" in queued[0].body and order.ref in queued[0].body
    assert queued[0].recipient == "+8613800138000" and queued[0].status == "pending"


def test_nothing_is_queued_when_the_change_fails(db):
    order = make_order(db, paid=True)
    before = len(messages(db))
    with pytest.raises(Exception, match="required"):
        change_address(db, SYSTEM, order.ref, {**NEW, "street": ""})
    assert len(messages(db)) == before


def test_retries_with_backoff_then_success(db):
    order = make_order(db)
    change_address(db, SYSTEM, order.ref, NEW)
    gateway, now = FlakyGateway(failures=2), datetime.now(UTC)
    assert delivery.deliver_due(db, gateway, now=now).retried == 1
    first = [m for m in messages(db) if m.event == "address_changed"][0]
    assert first.status == "pending" and first.attempts == 1 and first.last_error == "gateway timeout"
    assert first.next_attempt_at == now + timedelta(seconds=30)
    assert delivery.deliver_due(db, gateway, now=now + timedelta(seconds=10)).retried == 0  # not due yet
    assert delivery.deliver_due(db, gateway, now=now + timedelta(seconds=31)).retried == 1
    second = [m for m in messages(db) if m.event == "address_changed"][0]
    assert second.next_attempt_at == now + timedelta(seconds=31 + 60)
    assert delivery.deliver_due(db, gateway, now=now + timedelta(seconds=95)).sent == 1
    done = [m for m in messages(db) if m.event == "address_changed"][0]
    assert done.status == "sent" and done.attempts == 3 and done.provider_message_id == "m3"
    assert len(gateway.accepted) == 1


def test_dead_letter_after_the_last_try(db):
    order = make_order(db)
    change_address(db, SYSTEM, order.ref, NEW)
    gateway, now = FlakyGateway(failures=100), datetime.now(UTC)
    for _ in range(delivery.MAX_ATTEMPTS):
        delivery.deliver_due(db, gateway, now=now)
        now += timedelta(hours=2)
    dead = [m for m in messages(db) if m.event == "address_changed"][0]
    assert dead.status == "dead" and dead.attempts == delivery.MAX_ATTEMPTS
    delivery.deliver_due(db, gateway, now=now + timedelta(days=1))
    assert gateway.calls == delivery.MAX_ATTEMPTS
    assert delivery.stats(db).by_status["dead"] == 1


def test_a_message_left_by_a_dead_worker_is_sent_after_its_lease(db):
    order = make_order(db)
    change_address(db, SYSTEM, order.ref, NEW)
    now = datetime.now(UTC)
    claimed = delivery._claim_next(db, now, None, timedelta(minutes=5), set())  # ...and the worker dies here
    assert claimed.status == "sending"
    gateway = FlakyGateway(failures=0)
    assert delivery.deliver_due(db, gateway, now=now + timedelta(minutes=1)).sent == 0
    assert delivery.deliver_due(db, gateway, now=now + timedelta(minutes=6)).sent == 1


def test_a_worker_that_dies_mid_send_costs_only_the_message_it_was_sending(db):
    """Attempts are counted per send: the messages queued behind the one in flight keep their tries and
    go out at once with the next worker, rather than waiting out a lease with an attempt spent."""
    for _ in range(3):
        change_address(db, SYSTEM, make_order(db).ref, NEW)
    now = datetime.now(UTC)

    class DiesOnFirstSend:
        def send(self, to, body):  # noqa: ANN001, ANN201
            raise SystemExit("worker killed")

    with pytest.raises(SystemExit):
        delivery.deliver_due(db, DiesOnFirstSend(), now=now)
    queued = sorted(messages(db), key=lambda m: m.id)
    assert [(m.status, m.attempts) for m in queued] == [("sending", 1), ("pending", 0), ("pending", 0)]

    gateway = FlakyGateway(failures=0)
    assert delivery.deliver_due(db, gateway, now=now + timedelta(seconds=1)).sent == 2
    assert delivery.deliver_due(db, gateway, now=now + timedelta(minutes=6)).sent == 1
    assert [m.attempts for m in sorted(messages(db), key=lambda m: m.id)] == [2, 1, 1]


def test_the_same_fact_is_queued_once(db):
    order = make_order(db, paid=True)
    with db.write() as session:
        from core.models import Order

        fresh = session.get(Order, order.id)
        first = notifications.enqueue(session, fresh, "delayed", {"promised": "x", "link": "y"}, dedupe_key="d1")
        session.flush()
        again = notifications.enqueue(session, fresh, "delayed", {"promised": "x", "link": "y"}, dedupe_key="d1")
    assert first is not None and again is None


def test_an_edited_template_is_used_and_a_broken_one_falls_back(db):
    from core.models import MessageTemplate

    order = make_order(db)
    with db.write() as session:
        session.add(MessageTemplate(event="address_changed", locale="zh_CN", body="【改】{ref} 新地址 {place}"))
    change_address(db, SYSTEM, order.ref, NEW)
    assert [m for m in messages(db) if m.event == "address_changed"][0].body.startswith(f"【改】{order.ref} 新地址")
    with db.write() as session:
        template = session.exec(select(MessageTemplate)).one()
        template.body = "{nonexistent}"
        session.add(template)
    other = make_order(db)
    change_address(db, SYSTEM, other.ref, NEW)
    assert "{nonexistent}" not in messages(db)[-1].body


def test_a_failing_sms_gateway_does_not_fail_the_request(db):
    """The shopper's address change succeeds while the gateway is down; the message waits for a retry."""
    import re
    from dataclasses import replace

    from litestar.testing import TestClient

    from app import create_app
    from core.config import get_settings
    from core.services.identity.customer_sessions import start_session

    settings = replace(get_settings(), sms_provider="http", sms_http_url="http://127.0.0.1:9/send",
                       sms_http_key="k", sms_http_secret="s", sms_http_timeout=1.0)
    order = make_order(db)
    with TestClient(app=create_app(settings, db)) as client:
        client.cookies.set("od_session", start_session(db, phone="+8613800138000"))
        form = client.get(f"/orders/{order.ref}/address")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text).group(1)
        response = client.post(f"/orders/{order.ref}/address", data={**NEW, "_csrf_token": token},
                               follow_redirects=False)
    assert response.status_code == 303
    from core.services.orders.lifecycle import get_order

    assert get_order(db, order.ref).ship_street == "解放路 1 号 101 室"
    message = [m for m in messages(db) if m.event == "address_changed"][0]
    assert message.status == "pending" and message.attempts == 1
    assert "ConnectError" in message.last_error or "refused" in message.last_error.lower()
