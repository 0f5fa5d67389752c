"""Promised vs actual: who was late, by how much, and where the parcel was."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.i18n import translations_for
from core.models import Order, Shipment, TrackingEvent
from core.services.tracking.evidence import analyse, describe_verdict

T0 = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # paid 11-16 10:00 Shanghai
TZ = ZoneInfo("Asia/Shanghai")


def build(*, handed_after_h: float, delivered_after_h: float | None, events=()):
    order = Order(ref="OD1", channel="jd", channel_order_no="1", customer_id=1, status="shipped",
                  promised_ship_by=T0 + timedelta(hours=24), promised_delivery_by=T0 + timedelta(hours=24 + 96),
                  ship_recipient="", ship_phone="", ship_province="", ship_city="", ship_street="")
    shipment = Shipment(order_id=1, carrier="SF", tracking_no="SF1", shipped_at=T0 + timedelta(hours=handed_after_h))
    if delivered_after_h is not None:
        shipment.delivered_at = T0 + timedelta(hours=delivered_after_h)
    shipment.events = [
        TrackingEvent(shipment_id=1, occurred_at=T0 + timedelta(hours=h), raw_status_code="0", raw_text=text,
                      location=place, tag="in_transit", source="push", raw_payload="{}", seq=i, dedup_key=str(i),
                      prev_hash="", chain_hash="")
        for i, (h, text, place) in enumerate(events, start=1)
    ]
    order.shipments = [shipment]
    return order


def test_on_time():
    verdict = analyse(build(handed_after_h=10, delivered_after_h=80), now=T0 + timedelta(days=10))
    assert verdict.on_time is True and verdict.late_side is None
    lines = describe_verdict(verdict, translations_for("en").gettext, TZ)
    assert lines == ["On time: promised delivery by 11-21 10:00, signed for 11-19 18:00."]


def test_carrier_late_names_the_last_on_time_place():
    order = build(handed_after_h=10, delivered_after_h=120 + 17, events=[
        (11, "【杭州市】已揽收", "杭州市"), (30, "【杭州市】快件已到达 杭州转运中心", "杭州市"),
        (125, "【上海市】派送中", "上海市")])
    verdict = analyse(order, now=T0 + timedelta(days=10))
    assert verdict.on_time is False
    assert verdict.delivery_late_hours == 17
    assert verdict.late_side == "carrier"
    assert verdict.last_on_time_event.raw_text == "【杭州市】快件已到达 杭州转运中心"
    lines = describe_verdict(verdict, translations_for("en").gettext, TZ)
    assert lines[0] == "Late: promised delivery by 11-21 10:00, signed for 11-22 03:00, 17 h late."
    assert lines[1].startswith("The carrier was late: handed over 11-16 20:00")
    assert "杭州市" in lines[2]
    zh = describe_verdict(verdict, translations_for("zh_CN").gettext, TZ)
    assert zh[0] == "延误：承诺 11-21 10:00 前送达，11-22 03:00 签收，晚了 17 小时。"


def test_merchant_late_when_hand_off_was_late_and_transit_normal():
    verdict = analyse(build(handed_after_h=24 + 30, delivered_after_h=24 + 30 + 90), now=T0 + timedelta(days=10))
    assert verdict.ship_late_hours == 30
    assert verdict.delivery_late_hours == 24
    assert verdict.late_side == "merchant"


def test_both_late():
    verdict = analyse(build(handed_after_h=24 + 10, delivered_after_h=24 + 10 + 120), now=T0 + timedelta(days=10))
    assert verdict.late_side == "both"


def test_not_delivered_and_past_promise_is_overdue():
    verdict = analyse(build(handed_after_h=5, delivered_after_h=None), now=T0 + timedelta(hours=24 + 96 + 30))
    assert verdict.outcome == "overdue"
    assert verdict.open_past_promise_hours == 30
    assert verdict.late_side == "carrier"


def test_in_progress_within_promise():
    verdict = analyse(build(handed_after_h=5, delivered_after_h=None), now=T0 + timedelta(hours=50))
    assert verdict.outcome == "pending" and verdict.late_side is None
