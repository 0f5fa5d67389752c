"""The weekly trends on a data set built here, so every figure is known: counts by tag, channel
and warehouse, the top five, the change against last week and the median time to resolve."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import InvalidInput
from core.services.triage.report import Week, to_csv, weekly
from tests.triage_factories import add_tag, add_warehouse, install_rules, paid_order

SHANGHAI = ZoneInfo("Asia/Shanghai")
W47 = Week(2026, 47)  # Monday 16 November to Sunday 22 November 2026
H = timedelta(hours=1)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def data_set(db):
    install_rules(db)
    hz, gz = add_warehouse(db, "HZ", "杭州仓"), add_warehouse(db, "GZ", "广州仓")
    placed = local(1, 9)
    o1 = paid_order(db, at=placed, channel="taobao", warehouse_id=hz.id)
    o2 = paid_order(db, at=placed, channel="jd", warehouse_id=hz.id)
    o3 = paid_order(db, at=placed, channel="pinduoduo", warehouse_id=gz.id)
    o4 = paid_order(db, at=placed, channel="taobao")

    def tag(order, rule_code, tag_name, opened, resolved_after=None):
        add_tag(db, order, rule_code=rule_code, tag=tag_name, queue="customer_service", opened_at=opened,
                resolved_after=resolved_after)

    # This week (W47): 8 opened; resolved after 1, 4, 2 and 10 hours.
    tag(o1, "address_proxy_words", "address_risk", local(17, 10), resolved_after=1 * H)
    tag(o1, "address_no_district", "address_risk", local(17, 11), resolved_after=4 * H)
    tag(o1, "stock_short", "stock_gap", local(18, 8))
    tag(o2, "logistics_stalled", "logistics_anomaly", local(18, 9), resolved_after=2 * H)
    tag(o2, "address_phone_not_mobile", "address_risk", local(19, 9))
    tag(o3, "logistics_no_pickup", "logistics_anomaly", local(19, 10))
    tag(o3, "payment_amount_mismatch", "payment_anomaly", local(19, 11), resolved_after=10 * H)
    tag(o4, "compliance_customs_missing", "compliance", local(16, 0, 30))  # Monday 00:30 in Shanghai
    # Last week (W46): 4 opened; resolved after 5, 6 and 2 hours.
    tag(o1, "address_po_box", "address_risk", local(15, 23, 30))  # Sunday 23:30 in Shanghai
    tag(o3, "logistics_stalled", "logistics_anomaly", local(10, 9), resolved_after=5 * H)
    tag(o3, "logistics_stalled", "logistics_anomaly", local(11, 9), resolved_after=6 * H)
    tag(o3, "logistics_returned", "logistics_anomaly", local(12, 9), resolved_after=2 * H)
    # Outside both weeks.
    tag(o2, "payment_refunded", "payment_anomaly", local(5, 9), resolved_after=1 * H)
    tag(o4, "payment_refunded", "payment_anomaly", local(23, 0, 0))  # Monday of W48
    return {"hz": hz, "gz": gz}


def rows(report_rows) -> dict:
    return {row.key: (row.current, row.previous, row.change, row.change_percent) for row in report_rows}


def test_counts_by_tag_with_the_change_against_last_week(db, data_set):
    report = weekly(db, W47, SHANGHAI)
    assert (report.total.current, report.total.previous, report.total.change, report.total.change_percent) == (
        8, 4, 4, 100)
    assert rows(report.by_tag) == {
        "address_risk": (3, 1, 2, 200),
        "logistics_anomaly": (2, 3, -1, -33),
        "stock_gap": (1, 0, 1, None),
        "payment_anomaly": (1, 0, 1, None),
        "compliance": (1, 0, 1, None),
    }
    assert [row.key for row in report.by_tag][:2] == ["address_risk", "logistics_anomaly"]


def test_counts_by_channel_and_by_warehouse(db, data_set):
    report = weekly(db, W47, SHANGHAI)
    assert rows(report.by_channel) == {"taobao": (4, 1, 3, 300), "jd": (2, 0, 2, None),
                                       "pinduoduo": (2, 3, -1, -33)}
    hz, gz = str(data_set["hz"].id), str(data_set["gz"].id)
    assert rows(report.by_warehouse) == {hz: (5, 1, 4, 400), gz: (2, 3, -1, -33), None: (1, 0, 1, None)}
    assert report.warehouse_names[hz] == "HZ 杭州仓"


def test_top_five_tag_and_channel_pairs(db, data_set):
    assert weekly(db, W47, SHANGHAI).top == [
        ("address_risk", "taobao", 2),
        ("address_risk", "jd", 1),
        ("compliance", "taobao", 1),
        ("logistics_anomaly", "jd", 1),
        ("logistics_anomaly", "pinduoduo", 1),
    ]


def test_median_time_to_resolve(db, data_set):
    report = weekly(db, W47, SHANGHAI)
    assert (report.resolved.current, report.resolved.previous) == (4, 3)
    current, previous = report.median_seconds
    assert current == pytest.approx(3 * 3600, abs=1)   # 1, 2, 4, 10 h: the mean of 2 and 4
    assert previous == pytest.approx(5 * 3600, abs=1)  # 2, 5, 6 h
    assert report.median_by_tag == pytest.approx({"address_risk": 2.5 * 3600, "logistics_anomaly": 2 * 3600,
                                                  "payment_anomaly": 10 * 3600}, abs=1)


def test_an_empty_week(db, data_set):
    report = weekly(db, Week(2026, 40), SHANGHAI)
    assert (report.total.current, report.total.previous, report.top, report.median_seconds) == (0, 0, [],
                                                                                               (None, None))
    assert all(row.current == 0 for row in report.by_tag) and len(report.by_tag) == 5


def test_csv_has_a_bom_and_the_same_figures(db, data_set):
    content = to_csv(weekly(db, W47, SHANGHAI))
    assert content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert table[0] == ["section", "key", "2026-W47", "2026-W46", "change"]
    assert ["total", "tags_opened", "8", "4", "4"] in table
    assert ["tag", "address_risk", "3", "1", "2"] in table
    assert ["warehouse", "HZ 杭州仓", "5", "1", "4"] in table
    assert ["top", "address_risk × taobao", "2", "", ""] in table
    assert ["median_hours_to_resolve", "all", "3.0", "5.0", ""] in table


@pytest.mark.parametrize("text", ["2026-W47", " 2026-W01 ", "2020-W53"])
def test_week_parsing(text):
    week = Week.parse(text)
    assert week.label == text.strip()


@pytest.mark.parametrize("text", ["2026-47", "2026-W54", "2025-W53", "W47", "2026-W4"])
def test_bad_weeks_are_refused(text):
    with pytest.raises(InvalidInput):
        Week.parse(text)


def test_week_bounds_are_local_mondays():
    start, end = W47.bounds(SHANGHAI)
    assert start.isoformat() == "2026-11-15T16:00:00+00:00" and end - start == timedelta(days=7)
    assert (W47.previous().label, W47.next().label, W47.sunday.isoformat()) == ("2026-W46", "2026-W48",
                                                                                 "2026-11-22")
    assert Week(2027, 1).previous().label == "2026-W53"
