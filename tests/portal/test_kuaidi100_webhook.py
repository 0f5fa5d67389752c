"""The Kuaidi100 push webhook: signed real-format payloads in, chained events out."""

from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from core.config import get_settings
from core.models import CarrierPush, OrderStatus, TrackingEvent
from core.services.actors import Actor
from core.services.orders import lifecycle as order_service
from core.services.orders import shipping
from core.services.tracking.evidence import verify_order
from tests.carriers import entry, push_param, signed_form
from tests.factories import make_order

URL = "/webhooks/kuaidi100"


def shipped_order(db, number="SF1000000001"):
    order = make_order(db, paid=True)
    shipping.mark_shipped(db, Actor.integration("wh", via="admin"), order.ref, carrier="SF", tracking_no=number,
                          at=datetime.now(UTC) - timedelta(days=2))
    return order


def events(db):
    with db.read() as session:
        return session.exec(select(TrackingEvent).order_by(TrackingEvent.seq)).all()


def post(client, param, salt=None):
    return client.post(URL, data=signed_form(param, salt or get_settings().push_salt))


def test_push_is_stored_chained_and_answered_in_kuaidi100s_format(client, db):
    order = shipped_order(db)
    now = datetime.now(UTC)
    param = push_param("SF1000000001", [
        entry(now - timedelta(hours=3), "【杭州市】快件已到达 杭州转运中心", "0"),
        entry(now - timedelta(hours=20), "【杭州市】顺丰速运 已收取快件", "1"),
    ])
    response = post(client, param)
    assert response.status_code == 200
    assert response.json() == {"result": True, "returnCode": "200", "message": "成功"}
    stored = events(db)
    assert [e.raw_text for e in stored] == ["【杭州市】顺丰速运 已收取快件", "【杭州市】快件已到达 杭州转运中心"]
    assert [e.seq for e in stored] == [1, 2]
    assert stored[0].tag == "info_received" and stored[1].tag == "in_transit"
    assert '"context": "【杭州市】顺丰速运 已收取快件"' in stored[0].raw_payload
    assert verify_order(db, order.ref).intact
    with db.read() as session:
        assert session.exec(select(CarrierPush.body)).one() == param


def test_duplicates_are_stored_once(client, db):
    shipped_order(db)
    now = datetime.now(UTC)
    first = [entry(now - timedelta(hours=5), "【杭州市】已收取快件", "1")]
    post(client, push_param("SF1000000001", first))
    # The same push again (a retry), and a later push repeating the earlier event (Kuaidi100 sends the full trace).
    assert post(client, push_param("SF1000000001", first)).json()["result"] is True
    later = [entry(now - timedelta(hours=1), "【上海市】快件已到达 上海转运中心"), *first]
    post(client, push_param("SF1000000001", later))
    assert [e.raw_text for e in events(db)] == ["【杭州市】已收取快件", "【上海市】快件已到达 上海转运中心"]


def test_out_of_order_events_keep_arrival_order_and_show_in_occurrence_order(client, db):
    order = shipped_order(db)
    now = datetime.now(UTC)
    post(client, push_param("SF1000000001", [entry(now - timedelta(hours=1), "【上海市】派送中", "5")]))
    post(client, push_param("SF1000000001", [entry(now - timedelta(hours=9), "【杭州市】已发出", "0")]))
    stored = events(db)
    assert [(e.seq, e.raw_text) for e in stored] == [(1, "【上海市】派送中"), (2, "【杭州市】已发出")]
    detail = order_service.get_order(db, order.ref)
    assert [e.raw_text for e in detail.shipments[0].events] == ["【上海市】派送中", "【杭州市】已发出"]
    assert detail.shipments[0].tag == "out_for_delivery"


def test_delivery_event_moves_the_order_to_delivered(client, db):
    order = shipped_order(db)
    post(client, push_param("SF1000000001", [entry(datetime.now(UTC) - timedelta(hours=1), "已签收，签收人：本人", "301")]))
    detail = order_service.get_order(db, order.ref)
    assert detail.status == OrderStatus.DELIVERED
    assert detail.shipments[0].events[0].sub_status == "signed_by_recipient"


def test_bad_signature_is_refused_and_nothing_stored(client, db):
    shipped_order(db)
    param = push_param("SF1000000001", [entry(datetime.now(UTC), "x")])
    response = post(client, param, salt="wrong salt")
    assert response.status_code == 401
    assert response.json()["result"] is False
    tampered = signed_form(param, get_settings().push_salt)
    tampered["param"] = tampered["param"].replace("x", "y")
    assert client.post(URL, data=tampered).status_code == 401
    assert events(db) == []


def test_malformed_unknown_and_absurd_pushes_get_a_clear_4xx(client, db):
    shipped_order(db)
    assert post(client, "{not json").status_code == 400
    unknown = post(client, push_param("SF9999999999", [entry(datetime.now(UTC), "x")]))
    assert unknown.status_code == 404
    assert unknown.json()["message"] == "unknown tracking number"
    absurd = post(client, push_param("SF1000000001", [entry(datetime(2099, 1, 1, tzinfo=UTC), "来自未来")]))
    assert absurd.status_code == 400
    assert "not a plausible event time" in absurd.json()["message"]
    assert client.post(URL, content=b"\xff\xfe", headers={"content-type": "application/x-www-form-urlencoded"}).status_code == 400
    assert events(db) == []
    with db.read() as session:
        assert session.exec(select(func.count()).select_from(CarrierPush)).one() == 0


def test_valid_events_beside_an_absurd_one_are_kept(client, db):
    shipped_order(db)
    now = datetime.now(UTC)
    response = post(client, push_param("SF1000000001", [
        entry(now - timedelta(hours=2), "【杭州市】已发出"), entry(datetime(1999, 1, 1, tzinfo=UTC), "旧"),
    ]))
    assert response.status_code == 200
    assert [e.raw_text for e in events(db)] == ["【杭州市】已发出"]


def test_webhook_needs_no_csrf_token_but_pages_do(client, db):
    shipped_order(db)
    ok = post(client, push_param("SF1000000001", [entry(datetime.now(UTC) - timedelta(hours=1), "x")]))
    assert ok.status_code == 200
