"""Each triage check at, just below and just above its thresholds, through the pure `evaluate`."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from core.services.triage.checks import CHECKS, LineFacts, OrderFacts, ShipmentFacts
from core.services.triage.engine import evaluate
from core.services.triage.rules import DEFAULT_RULES, RuleSpec

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def rules(**param_overrides: dict) -> list[RuleSpec]:
    """The default rules, with some params changed per rule code."""
    return [RuleSpec(code=code, tag=tag, queue=queue, enabled=True,
                     params={**params, **param_overrides.get(code, {})})
            for code, tag, queue, params in DEFAULT_RULES]


def facts(**overrides) -> OrderFacts:
    """A paid, unremarkable mainland order: no rule fires on it."""
    values = dict(order_id=1, ref="OD0000000001", status="paid", created_at=NOW - timedelta(hours=2),
                  total_minor=3980, paid_minor=3980, paid_at=NOW - timedelta(hours=2), phone="+8613800138000",
                  province="浙江省", district="西湖区", street="文三路 100 号 2 幢 301 室", warehouse_id=1,
                  lines=(LineFacts(sku="SKU-1", quantity=2, available=50, sold_24h=2),))
    values.update(overrides)
    return OrderFacts(**values)


def shipment(**overrides) -> ShipmentFacts:
    values = dict(carrier="SF", tracking_no="SF1234567890123", shipped_at=NOW - timedelta(hours=30),
                  tag="in_transit", last_event_at=NOW - timedelta(hours=3))
    values.update(overrides)
    return ShipmentFacts(**values)


def codes(order: OrderFacts, rule_list: list[RuleSpec] | None = None, now: datetime = NOW) -> list[str]:
    return sorted(hit.rule_code for hit in evaluate(order, rule_list or rules(), now))


def test_every_check_has_a_default_rule_and_back():
    assert {code for code, *_ in DEFAULT_RULES} == set(CHECKS)


def test_an_ordinary_order_raises_nothing():
    assert codes(facts()) == []


# --- address_risk --------------------------------------------------------------------------


def test_landline_phone_is_an_address_risk():
    assert codes(facts(phone="+862161234567")) == ["address_phone_not_mobile"]
    assert codes(facts(phone="+85291234567", province="香港特别行政区", customs_declaration_no="HK1")) == []


@pytest.mark.parametrize("street", ["文三路 100 号菜鸟驿站", "丰巢快递柜 3 号柜", "小区门卫代收"])
def test_proxy_word_in_the_street_is_flagged(street):
    hits = evaluate(facts(street=street), rules(), NOW)
    assert [h.rule_code for h in hits] == ["address_proxy_words"]
    assert hits[0].tag == "address_risk" and hits[0].queue == "customer_service"
    assert hits[0].detail["word"] in street


def test_proxy_word_outside_the_street_or_only_half_of_it_is_not():
    assert codes(facts(district="驿站区")) == []  # only the street is read
    assert codes(facts(street="文三路 100 号 驿 站 2 幢")) == ["address_proxy_words"]  # spaces do not hide it
    assert codes(facts(street="文三路 100 号驿馆 2 幢")) == []


def test_proxy_word_list_is_data():
    assert codes(facts(street="文三路 100 号物业前台")) == []
    edited = rules(address_proxy_words={"words": ["物业"]})
    assert codes(facts(street="文三路 100 号物业前台"), edited) == ["address_proxy_words"]
    assert codes(facts(street="文三路 100 号菜鸟驿站"), edited) == []


@pytest.mark.parametrize("district", ["", "   "])
def test_missing_district(district):
    assert codes(facts(district=district)) == ["address_no_district"]


def test_po_box_before_shipping_asks_for_a_carrier_that_delivers():
    hits = evaluate(facts(street="P.O. box 1234"), rules(), NOW)
    assert [(h.rule_code, h.detail["reason"]) for h in hits] == [("address_po_box", "po_box_carrier_unknown")]
    assert codes(facts(street="解放路邮政信箱 88 号")) == ["address_po_box"]


def test_po_box_after_shipping_depends_on_the_carrier():
    shipped = facts(status="shipped", street="PO Box 1234", shipments=(shipment(carrier="SF"),))
    assert codes(shipped) == ["address_po_box"]
    assert codes(replace(shipped, shipments=(shipment(carrier="EMS"),))) == []
    edited = rules(address_po_box={"carriers": ["SF", "EMS"]})
    assert codes(replace(shipped, shipments=(shipment(carrier="EMS"),)), edited) == ["address_po_box"]


def test_postbox_lookalikes_are_not_po_boxes():
    assert codes(facts(street="邮箱路 12 号")) == []


def test_address_rules_stop_once_the_parcel_left():
    order = facts(status="shipped", phone="+862161234567", district="", street="菜鸟驿站",
                  shipments=(shipment(),))
    assert codes(order) == []


# --- stock_gap -----------------------------------------------------------------------------


@pytest.mark.parametrize(("available", "expected"), [(2, []), (1, ["stock_short"]), (0, ["stock_short"]),
                                                      (3, [])])
def test_stock_below_the_line_quantity(available, expected):
    order = facts(lines=(LineFacts(sku="SKU-1", quantity=2, available=available, sold_24h=0),))
    assert codes(order) == expected


def test_stock_unknown_or_presale_or_shipped_is_not_a_gap():
    short = (LineFacts(sku="SKU-1", quantity=2, available=1),)
    assert codes(facts(lines=(LineFacts(sku="SKU-1", quantity=2, available=None),))) == []
    assert codes(facts(lines=short, presale_ships_on=date(2026, 11, 25))) == []
    assert codes(facts(lines=short, presale_ships_on=date(2026, 11, 20))) == ["stock_short"]
    assert codes(facts(lines=short, status="shipped", shipments=(shipment(),))) == []


@pytest.mark.parametrize(("available", "sold", "expected"), [
    (9, 21, ["stock_low_selling_fast"]),   # below 10 and more than 20
    (10, 21, []),                          # at the stock threshold
    (9, 20, []),                           # at the sales threshold
    (11, 50, []),
])
def test_low_stock_while_selling_fast(available, sold, expected):
    order = facts(lines=(LineFacts(sku="SKU-1", quantity=1, available=available, sold_24h=sold),))
    assert codes(order) == expected


def test_selling_fast_thresholds_are_data():
    order = facts(lines=(LineFacts(sku="SKU-1", quantity=1, available=30, sold_24h=6),))
    edited = rules(stock_low_selling_fast={"low_stock_below": 31, "fast_units_24h": 5})
    assert codes(order, edited) == ["stock_low_selling_fast"]


# --- payment_anomaly -----------------------------------------------------------------------


@pytest.mark.parametrize(("paid", "tolerance", "expected"), [
    (3980, 0, []), (3979, 0, ["payment_amount_mismatch"]), (3981, 0, ["payment_amount_mismatch"]),
    (3979, 1, []), (3978, 1, ["payment_amount_mismatch"]),
])
def test_paid_amount_against_total(paid, tolerance, expected):
    edited = rules(payment_amount_mismatch={"tolerance_minor": tolerance})
    assert codes(facts(paid_minor=paid), edited) == expected


@pytest.mark.parametrize(("age_minutes", "expected"), [(30, []), (31, ["payment_callback_missing"]), (5, [])])
def test_paid_without_callback(age_minutes, expected):
    order = facts(paid_at=None, paid_minor=None, created_at=NOW - timedelta(minutes=age_minutes))
    assert codes(order) == expected


def test_paid_then_refunded_goes_to_finance():
    hits = evaluate(facts(status="refunded"), rules(), NOW)
    assert [(h.rule_code, h.queue) for h in hits] == [("payment_refunded", "finance")]
    assert codes(facts(status="refunded", paid_at=None, paid_minor=None)) == []


# --- logistics_anomaly ---------------------------------------------------------------------


@pytest.mark.parametrize(("hours", "expected"), [(24, []), (25, ["logistics_no_pickup"])])
def test_no_carrier_scan_after_hand_off(hours, expected):
    order = facts(status="shipped", shipments=(shipment(shipped_at=NOW - timedelta(hours=hours), tag="info_received",
                                                         last_event_at=None),))
    assert codes(order) == expected


def test_no_pickup_is_not_raised_once_the_carrier_scanned():
    order = facts(status="shipped", shipments=(shipment(shipped_at=NOW - timedelta(hours=40),
                                                         last_event_at=NOW - timedelta(hours=39)),))
    assert codes(order) == []


@pytest.mark.parametrize(("silent", "tag", "expected"), [
    (timedelta(hours=48), "in_transit", []),
    (timedelta(hours=48, minutes=1), "in_transit", ["logistics_stalled"]),
    (timedelta(hours=60), "out_for_delivery", ["logistics_stalled"]),
    (timedelta(hours=60), "delivered", []),
])
def test_no_carrier_update_in_transit(silent, tag, expected):
    order = facts(status="shipped", shipments=(shipment(last_event_at=NOW - silent, tag=tag),))
    assert codes(order) == expected


def test_stall_threshold_is_data():
    order = facts(status="shipped", shipments=(shipment(last_event_at=NOW - timedelta(hours=13)),))
    assert codes(order, rules(logistics_stalled={"hours": 12})) == ["logistics_stalled"]


def test_delivered_but_customer_disputes_receipt():
    delivered = facts(status="delivered", shipments=(shipment(tag="delivered"),))
    assert codes(replace(delivered, open_dispute_kinds=frozenset({"not_received"}))) == [
        "logistics_delivered_not_received"]
    assert codes(replace(delivered, open_dispute_kinds=frozenset({"damaged"}))) == []
    assert codes(delivered) == []


@pytest.mark.parametrize(("sub_status", "expected"), [
    ("returning", ["logistics_returned"]), ("returned_signed", ["logistics_returned"]), ("damaged", []), (None, [])])
def test_parcel_on_its_way_back(sub_status, expected):
    order = facts(status="shipped", shipments=(shipment(tag="exception", last_sub_status=sub_status),))
    assert codes(order) == expected


# --- compliance ----------------------------------------------------------------------------


def test_cross_border_by_province_needs_customs_data():
    hong_kong = facts(province="香港特别行政区", district="九龙城区", phone="+85291234567")
    hits = evaluate(hong_kong, rules(), NOW)
    assert [(h.rule_code, h.tag, h.queue) for h in hits] == [("compliance_customs_missing", "compliance",
                                                               "compliance")]
    assert codes(replace(hong_kong, customs_declaration_no="531620261120000001")) == []


def test_cross_border_by_phone_country_code():
    assert codes(facts(phone="+886912345678")) == ["compliance_customs_missing"]
    assert codes(facts(phone="+886912345678"), rules(compliance_customs_missing={
        "domestic_country_codes": ["86", "886"]})) == []


def test_cross_border_province_list_is_data():
    assert codes(facts(province="西藏自治区")) == []
    assert codes(facts(province="西藏自治区"), rules(compliance_customs_missing={"provinces": ["西藏自治区"]})) == [
        "compliance_customs_missing"]


# --- together ------------------------------------------------------------------------------


def test_several_tags_on_one_order_at_once():
    order = facts(phone="+862161234567", district="", street="文三路菜鸟驿站", paid_minor=3900,
                  lines=(LineFacts(sku="SKU-1", quantity=2, available=1),))
    hits = evaluate(order, rules(), NOW)
    assert sorted(h.rule_code for h in hits) == ["address_no_district", "address_phone_not_mobile",
                                                 "address_proxy_words", "payment_amount_mismatch", "stock_short"]
    assert {h.tag for h in hits} == {"address_risk", "payment_anomaly", "stock_gap"}


def test_disabled_rule_finds_nothing_and_sla_comes_from_params():
    landline = facts(phone="+862161234567")
    off = [replace(r, enabled=False) if r.code == "address_phone_not_mobile" else r for r in rules()]
    assert codes(landline, off) == []
    [hit] = evaluate(landline, rules(address_phone_not_mobile={"sla_hours": 3}), NOW)
    assert hit.sla_hours == 3


def test_unknown_rule_code_is_ignored():
    assert evaluate(facts(), [RuleSpec("no_such_check", "address_risk", "customer_service", True, {})], NOW) == []
