"""The weekly trends page as a supervisor reads it: figures, SVG charts without inline styles, CSV."""

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from core.models import AuditEntry
from core.services.triage.report import Week
from tests.admin.conftest import soup
from tests.triage_factories import add_tag, paid_order

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def week_data(db, hz):
    """Week 47 of 2026: three address risks (two on Taobao), one stock gap; week 46: one address risk."""
    placed = datetime(2026, 11, 1, 9, tzinfo=SHANGHAI)
    taobao = paid_order(db, at=placed, channel="taobao", warehouse_id=hz.id)
    jd = paid_order(db, at=placed, channel="jd", warehouse_id=hz.id)
    for order, code, tag, day, resolved in (
            (taobao, "address_proxy_words", "address_risk", 17, timedelta(hours=2)),
            (taobao, "address_no_district", "address_risk", 18, timedelta(hours=6)),
            (jd, "address_po_box", "address_risk", 18, None),
            (jd, "stock_short", "stock_gap", 19, None),
            (jd, "address_proxy_words", "address_risk", 10, None)):
        add_tag(db, order, rule_code=code, tag=tag, queue="customer_service",
                opened_at=datetime(2026, 11, day, 10, tzinfo=SHANGHAI), resolved_after=resolved)


def table(page, table_id: str) -> dict[str, list[str]]:
    return {tr.th.get_text(strip=True): [td.get_text(strip=True) for td in tr.select("td")]
            for tr in page.select(f"table#{table_id} tbody tr") if tr.th}


def test_supervisor_reads_the_weeks_figures(client, sign_in, week_data):
    sign_in("supervisor")
    response = client.get("/admin/reports/weekly", params={"week": "2026-W47"})
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("#total-opened strong").get_text() == "4"
    assert page.select_one("#total-opened .change").get_text() == "+3 (+300%)"
    assert page.select_one("#median-resolve strong").get_text() == "4.0 小时"
    assert table(page, "by-tag")["地址风险"] == ["3", "1", "+2 (+200%)"]
    assert table(page, "by-tag")["库存缺口"] == ["1", "0", "+1 (新增)"]
    assert table(page, "by-tag")["合规"] == ["0", "0", "0"]
    assert table(page, "by-channel") == {"淘宝 / 天猫": ["2", "0", "+2 (新增)"], "京东": ["2", "1", "+1 (+100%)"]}
    assert table(page, "by-warehouse") == {"HZ 杭州仓": ["4", "1", "+3 (+300%)"]}


def test_charts_are_inline_svg_with_classes_and_no_style_attributes(client, sign_in, week_data):
    sign_in("supervisor")
    page = soup(client.get("/admin/reports/weekly", params={"week": "2026-W47"}))
    charts = page.select("svg.bar-chart")
    assert len(charts) == 3
    by_tag = charts[0]
    assert by_tag["aria-label"] == "按异常类型的新增异常"
    labels = [t.get_text() for t in by_tag.select("text.bar-label")]
    assert labels[:2] == ["地址风险", "库存缺口"]
    widths = [float(r["width"]) for r in by_tag.select("rect.bar-current")]
    assert widths[0] > widths[1] > 0 and widths[-1] == 0
    assert page.select("[style]") == [] and page.select("style") == []
    assert [s.get("src") for s in page.select("script")] == [s.get("src") for s in page.select("script[src]")]


def test_top_five_is_ordered_by_count(client, sign_in, week_data):
    sign_in("supervisor")
    page = soup(client.get("/admin/reports/weekly", params={"week": "2026-W47"}))
    top = [[td.get_text(strip=True) for td in tr.select("td")] for tr in page.select("#top-five tbody tr")]
    assert top == [["1", "地址风险", "淘宝 / 天猫", "2"], ["2", "地址风险", "京东", "1"], ["3", "库存缺口", "京东", "1"]]


def test_default_week_is_the_current_one_and_htmx_gets_the_fragment(client, sign_in):
    sign_in("compliance")
    this_week = Week.of(datetime.now(UTC).astimezone(SHANGHAI).date()).label
    page = soup(client.get("/admin/reports/weekly"))
    assert page.select_one("input#week")["value"] == this_week
    fragment = client.get("/admin/reports/weekly", params={"week": "2026-W47"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and soup(fragment).select_one("table#by-tag") is not None


def test_a_bad_week_is_422_with_the_message_beside_the_field(client, sign_in):
    sign_in("supervisor")
    response = client.get("/admin/reports/weekly", params={"week": "2026-W60"})
    assert response.status_code == 422
    page = soup(response)
    assert page.select_one("input#week")["value"] == "2026-W60"
    assert page.select_one("#week-error").get_text(strip=True) == "请按 YYYY-Www 格式填写周，例如 2026-W47。"
    assert page.select_one("table#by-tag") is None


def test_csv_download_is_utf8_with_bom_and_audited(client, db, sign_in, week_data):
    sign_in("supervisor")
    page = soup(client.get("/admin/reports/weekly", params={"week": "2026-W47"}))
    form = page.select_one("form[action='/admin/reports/weekly.csv']")
    assert form["method"] == "post" and form.select_one("input[name=week]")["value"] == "2026-W47"
    response = client.post("/admin/reports/weekly.csv", data={
        "week": "2026-W47", "_csrf_token": form.select_one("input[name=_csrf_token]")["value"]})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="triage-2026-W47.csv"' in response.headers["content-disposition"]
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert ["tag", "address_risk", "3", "1", "2"] in rows
    assert ["median_hours_to_resolve", "all", "4.0", "", ""] in rows
    with db.read() as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "export_weekly_report")).one()


def test_support_agents_do_not_see_the_report(client, sign_in):
    sign_in("support")
    assert client.get("/admin/reports/weekly").status_code == 403
    assert client.post("/admin/reports/weekly.csv", data={"week": "2026-W47"}).status_code == 403


def test_a_get_of_the_export_writes_no_audit_entry(client, db, sign_in, week_data):
    """A cross-site link (a GET) cannot make the audit trail say someone exported the report."""
    sign_in("supervisor")
    assert client.get("/admin/reports/weekly.csv", params={"week": "2026-W47"}).status_code == 405
    response = client.post("/admin/reports/weekly.csv", data={"week": "2026-W47"})  # no CSRF token
    assert response.status_code == 403
    with db.read() as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "export_weekly_report")).all() == []
