"""WeChat template messages through the outbox, against the simulated WeChat server over
real HTTP: what is queued for whom and what it says, the access token shared by every
process (fetched once, refreshed before it expires and when WeChat refuses it), and the
text message that goes instead when WeChat cannot deliver."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from core.db import Database
from core.models import OutboxMessage, WechatAccessToken, WechatBinding, utcnow
from core.services.actors import Actor
from core.services.identity import wechat_login as wechat_service
from core.services.messaging import delivery
from core.services.messaging.wechat_tokens import TokenStore, WechatSender
from core.services.orders import shipping
from core.wechat import WechatApiError, WechatClient
from tests.core.test_notifications import FlakyGateway
from tests.factories import ALICE_PHONE, BOB_PHONE, make_order
from tests.wechat import APP_ID, APP_SECRET, DEVICE_OPENID, link, wechat_settings, wechat_simulator


@pytest.fixture
def sim():
    with wechat_simulator() as url:
        yield url


@pytest.fixture
def wechat(sim):
    with wechat_settings(sim):
        yield sim


def client_for(url: str) -> WechatClient:
    return WechatClient(api_base=url, app_id=APP_ID, app_secret=APP_SECRET, timeout=2)


def sim_state(url: str) -> dict:
    return httpx.get(f"{url}/_sim/state").json()


def received(url: str) -> list[dict]:
    return httpx.get(f"{url}/_sim/messages").json()


def outbox(db, **where) -> list[OutboxMessage]:
    with db.read() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(session.exec(query).all())


def shipped_order(db, phone: str = ALICE_PHONE):
    order = make_order(db, paid=True, phone=phone)
    shipping.mark_shipped(db, Actor.integration("wh", via="api"), order.ref, carrier="ZTO", tracking_no="ZT7700123")
    return order


def test_shipping_news_goes_by_wechat_to_a_linked_customer(db, wechat):
    link(db, ALICE_PHONE)
    order = shipped_order(db)
    [message] = outbox(db, event="shipped")
    assert message.channel == "wechat" and message.recipient == DEVICE_OPENID

    with delivery.wechat_sender(db, wechat_settings_now()) as sender:
        result = delivery.deliver_due(db, FlakyGateway(0), wechat=sender, ids=[message.id])
    assert result.sent == 1
    [sent] = [m for m in received(wechat) if m["template_id"] == "tpl-shipped"]
    assert sent["touser"] == DEVICE_OPENID
    assert sent["url"] == f"http://127.0.0.1:8000/orders/{order.ref}"
    values = {key: field["value"] for key, field in sent["data"].items()}
    assert values["first"] == "您的订单已发货"
    assert values["keyword1"] == order.ref
    assert values["keyword2"] == "中通快递"
    assert values["keyword3"] == "运单号 ZT7700123"
    assert values["remark"].startswith("预计 ") and values["remark"].endswith("前送达，点击查看物流详情。")
    [row] = outbox(db, id=message.id)
    assert row.status == "sent" and row.provider_message_id == str(sent["msgid"])


def wechat_settings_now():
    from core.config import get_settings

    return get_settings()


def test_customer_without_a_link_gets_a_text_message(db, wechat):
    link(db, BOB_PHONE)
    shipped_order(db, phone=ALICE_PHONE)
    [message] = outbox(db, event="shipped")
    assert message.channel == "sms" and message.recipient == "+8613800138000"
    assert "ZT7700123" in message.body


def test_events_without_a_template_and_unconfigured_accounts_use_sms(db, sim):
    link(db, ALICE_PHONE)
    with wechat_settings(sim, templates=False, WECHAT_TEMPLATE_DELIVERED="tpl-delivered"):
        shipped_order(db)
    with wechat_settings(None):
        make_order(db, paid=True)
    assert {m.channel for m in outbox(db)} == {"sms"}
    assert len(outbox(db, event="order_confirmed")) == 2


def test_two_processes_fetch_the_token_once(db, sim):
    httpx.post(f"{sim}/_sim/slow", params={"endpoint": "token", "seconds": 0.5})
    second_process = Database(db.url)
    stores = [TokenStore(db, client_for(sim)), TokenStore(second_process, client_for(sim))]
    start = threading.Barrier(2)
    tokens: list[str] = []

    def fetch(store: TokenStore) -> None:
        start.wait()
        tokens.append(store.current())

    threads = [threading.Thread(target=fetch, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    second_process.dispose()
    assert len(tokens) == 2 and tokens[0] == tokens[1]
    assert sim_state(sim)["calls"]["token"] == 1
    with db.read() as session:
        row = session.get(WechatAccessToken, APP_ID)
    assert row.access_token == tokens[0] and row.refreshing_until is None


def test_token_is_reused_until_five_minutes_before_it_expires(db, sim):
    store = TokenStore(db, client_for(sim))
    first = store.current()
    assert store.current() == first
    assert sim_state(sim)["calls"]["token"] == 1

    with db.write() as session:
        row = session.get(WechatAccessToken, APP_ID)
        row.expires_at = utcnow() + timedelta(minutes=6)
        session.add(row)
    assert store.current() == first
    assert sim_state(sim)["calls"]["token"] == 1

    with db.write() as session:
        row = session.get(WechatAccessToken, APP_ID)
        row.expires_at = utcnow() + timedelta(minutes=4)
        session.add(row)
    renewed = store.current()
    assert renewed != first
    assert sim_state(sim)["calls"]["token"] == 2
    with db.read() as session:
        row = session.get(WechatAccessToken, APP_ID)
    assert row.expires_at > utcnow() + timedelta(hours=1)


def test_invalid_token_is_refreshed_once_and_the_message_sent(db, sim):
    sender = WechatSender(db, client_for(sim))
    message = {"touser": DEVICE_OPENID, "template_id": "tpl", "url": "http://x", "data": {"first": {"value": "hi"}}}
    sender.send(message)
    httpx.post(f"{sim}/_sim/fail", params={"endpoint": "send", "count": 1, "errcode": 40001})
    sender.send(message)
    state = sim_state(sim)
    assert state["calls"]["token"] == 2
    assert state["calls"]["send"] == 3
    assert len(received(sim)) == 2


def test_expired_token_is_refreshed_too(db, sim):
    sender = WechatSender(db, client_for(sim))
    message = {"touser": DEVICE_OPENID, "template_id": "tpl", "url": "http://x", "data": {"first": {"value": "hi"}}}
    sender.send(message)
    httpx.post(f"{sim}/_sim/expire-tokens")  # WeChat answers 42001 for the cached token
    sender.send(message)
    assert sim_state(sim)["calls"]["token"] == 2
    assert len(received(sim)) == 2


def test_token_refused_again_after_the_refresh_is_not_retried_here(db, sim):
    sender = WechatSender(db, client_for(sim))
    httpx.post(f"{sim}/_sim/fail", params={"endpoint": "send", "count": 2, "errcode": 40001})
    message = {"touser": DEVICE_OPENID, "template_id": "tpl", "url": "http://x", "data": {}}
    with pytest.raises(WechatApiError) as refused:
        sender.send(message)
    assert refused.value.errcode == 40001
    state = sim_state(sim)
    assert state["calls"]["token"] == 2 and state["calls"]["send"] == 2


def test_outage_retries_then_dead_then_one_text_message_instead(db, wechat):
    link(db, ALICE_PHONE)
    order = shipped_order(db)
    httpx.post(f"{wechat}/_sim/fail", params={"endpoint": "send", "count": 100})
    gateway = FlakyGateway(0)
    base = datetime.now(UTC)
    rounds = []
    with delivery.wechat_sender(db, wechat_settings_now()) as sender:
        for hour in range(1, 9):
            rounds.append(delivery.deliver_due(db, gateway, wechat=sender, now=base + timedelta(hours=hour)))
    [wechat_message] = outbox(db, event="shipped", channel="wechat")
    assert wechat_message.status == "dead" and wechat_message.attempts == delivery.MAX_ATTEMPTS
    assert "503" in wechat_message.last_error
    # The order confirmation went by WeChat too: one text message for each dead WeChat message.
    assert sum(r.fallbacks for r in rounds) == len(outbox(db, channel="wechat", status="dead")) == 2
    [fallback] = outbox(db, event="shipped", channel="sms")
    assert fallback.recipient == "+8613800138000" and fallback.status == "sent"
    assert fallback.dedupe_key == f"wechat-fallback:{wechat_message.id}"
    shipped_texts = [text for to, text in gateway.accepted if "ZT7700123" in text]
    assert len(shipped_texts) == 1 and order.ref in shipped_texts[0]
    # Another look at the dead message queues nothing more.
    with db.write() as session:
        assert delivery._queue_fallback(session, session.get(OutboxMessage, wechat_message.id)) is False
    assert len(outbox(db, event="shipped", channel="sms")) == 1


def test_unfollowed_account_falls_back_at_once(db, wechat):
    link(db, ALICE_PHONE)
    shipped_order(db)
    httpx.post(f"{wechat}/_sim/unsubscribe", params={"openid": DEVICE_OPENID})
    [message] = outbox(db, event="shipped")
    with delivery.wechat_sender(db, wechat_settings_now()) as sender:
        result = delivery.deliver_due(db, FlakyGateway(0), wechat=sender, ids=[message.id])
    assert result.dead == 1 and result.fallbacks == 1 and result.retried == 0
    [dead] = outbox(db, id=message.id)
    assert "43004" in dead.last_error
    assert len(outbox(db, event="shipped", channel="sms")) == 1


def test_link_removed_before_delivery_sends_a_text_message_instead(db, wechat):
    link(db, ALICE_PHONE)
    shipped_order(db)
    with db.read() as session:
        binding = session.exec(select(WechatBinding)).one()
    wechat_service.unlink(db, "+8613800138000", binding.id)
    [message] = outbox(db, event="shipped")
    with delivery.wechat_sender(db, wechat_settings_now()) as sender:
        delivery.deliver_due(db, FlakyGateway(0), wechat=sender, ids=[message.id])
    assert received(wechat) == []
    [fallback] = outbox(db, event="shipped", channel="sms")
    assert "ZT7700123" in fallback.body


def test_every_configured_event_has_a_message_layout(db, wechat):
    from core.config import WECHAT_TEMPLATE_EVENTS
    from core.services.messaging.wechat_templates import LAYOUTS, template_message

    assert set(WECHAT_TEMPLATE_EVENTS) <= set(LAYOUTS)
    body = template_message("dispute_update", openid="o1", template_id="t", url="u", ref="OD1",
                            params={"status": "已受理", "link": "x"})
    assert json.loads(json.dumps(body, ensure_ascii=False))["data"]["keyword2"] == {"value": "已受理"}


def test_orders_imported_in_bulk_confirm_by_wechat_to_linked_customers_as_one_by_one_does(db, wechat):
    from core.services.channels import ingest, ingest_batch
    from tests.core.test_ingest import incoming
    from tests.factories import add_terms

    add_terms(db)
    link(db, "+8613800138000")
    with db.write() as session:
        ingest.upsert_order(session, incoming("ONE"), via="import", actor="t")
        ingest_batch.upsert_orders(session, [ingest.check_incoming(incoming("MANY"))], via="import", actor="t")
    confirmations = outbox(db, event="order_confirmed")
    assert [(m.channel, m.recipient) for m in confirmations] == [("wechat", DEVICE_OPENID)] * 2
    queued = [json.loads(m.body) for m in confirmations]
    assert all(q["template"]["template_id"] == "tpl-order_confirmed" for q in queued)
    assert all(q["fallback_sms"]["to"] == "+8613800138000" for q in queued)


def test_the_access_token_is_encrypted_at_rest(db, wechat):
    sender_settings = wechat_settings_now()
    with delivery.wechat_sender(db, sender_settings) as sender:
        token = sender.tokens.current()
    assert token
    with db.engine.connect() as conn:
        from sqlalchemy import text

        stored = conn.execute(text("SELECT access_token FROM wechat_access_token")).scalar_one()
    assert token not in stored and stored.startswith("gAAAA")  # a Fernet token, not the access token
    with db.read() as session:
        assert session.exec(select(WechatAccessToken)).one().access_token == token
