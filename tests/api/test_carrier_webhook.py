"""Carrier events as use cases: a Kuaidi100 push recorded once in the carrier's name, a polled
trace marking its parcel polled, and the webhook mapping each outcome to Kuaidi100's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from core.carriers import kuaidi100
from core.config import get_settings
from core.models import CarrierPush, OrderHistory, Shipment, TrackingEvent
from core.services.tracking.events import carrier_actor, record_poll, record_push
from tests.carriers import entry, push_param, signed_form
from tests.factories import make_order

NUMBER = "SF1000000001"


def shipped_order(api, db):  # noqa: ANN001
    order = make_order(db, paid=True)
    response = api.post(f"/api/v1/orders/taobao/{order.channel_order_no}/shipments",
                        {"carrier": "SF", "tracking_no": NUMBER})
    assert response.status_code == 201
    return order


def snapshot_of(param: str):  # noqa: ANN201
    snapshot, skipped = kuaidi100.parse_push(param, now=datetime.now(UTC))
    assert skipped == []
    return snapshot


def test_the_same_push_twice_is_recorded_once_and_delivery_moves_the_order_in_the_carriers_name(api, db):
    order = shipped_order(api, db)
    param = push_param(NUMBER, [entry(datetime.now(UTC) - timedelta(hours=1), "已签收，签收人：本人", "301"),
                                entry(datetime.now(UTC) - timedelta(hours=9), "【杭州市】已发出")])
    first = record_push(db, carrier_actor("203.0.113.7"), snapshot_of(param), source="kuaidi100", body=param)
    again = record_push(db, carrier_actor("203.0.113.7"), snapshot_of(param), source="kuaidi100", body=param)
    assert (first.added, first.replayed_push) == (2, False)
    assert (again.added, again.duplicates, again.replayed_push) == (0, 2, True)
    with db.read() as session:
        assert len(session.exec(select(CarrierPush)).all()) == 1
        assert len(session.exec(select(TrackingEvent)).all()) == 2
        delivered = session.exec(select(OrderHistory).where(
            OrderHistory.order_id == order.id, OrderHistory.detail.contains('"to": "delivered"'))).one()
    assert (delivered.actor, delivered.via) == ("carrier", "carrier")


def test_a_polled_trace_is_recorded_and_its_parcel_counts_as_polled(api, db):
    shipped_order(api, db)
    polled_at = datetime.now(UTC)
    param = push_param(NUMBER, [entry(polled_at - timedelta(hours=2), "【杭州市】已发出")])
    result = record_poll(db, carrier_actor(), snapshot_of(param), now=polled_at)
    assert (result.added, result.duplicates) == (1, 0)
    with db.read() as session:
        shipment = session.exec(select(Shipment)).one()
        assert shipment.last_polled_at == polled_at
        assert session.exec(select(CarrierPush)).all() == []  # only pushes are kept verbatim


def test_the_webhook_answers_each_outcome_in_kuaidi100s_format(api, client, db):
    shipped_order(api, db)
    salt = get_settings().push_salt

    def push(param: str):  # noqa: ANN202
        response = client.post("/webhooks/kuaidi100", data=signed_form(param, salt))
        return response.status_code, response.json()

    now = datetime.now(UTC)
    assert push(push_param(NUMBER, [entry(now - timedelta(hours=1), "【杭州市】已发出")])) == (
        200, {"result": True, "returnCode": "200", "message": "成功"})
    assert push(push_param(NUMBER, [entry(now, "x")], company="martian")) == (
        404, {"result": False, "returnCode": "404", "message": "unknown company code 'martian'"})
    assert push(push_param("SF9999999999", [entry(now, "x")])) == (
        404, {"result": False, "returnCode": "404", "message": "unknown tracking number"})
    assert push('{"lastResult": {}}') == (
        400, {"result": False, "returnCode": "400", "message": "lastResult.com and lastResult.nu are required"})
    signed = signed_form(push_param(NUMBER, [entry(now, "y")]), "another salt")
    response = client.post("/webhooks/kuaidi100", data=signed)
    assert (response.status_code, response.json()["returnCode"]) == (401, "401")
