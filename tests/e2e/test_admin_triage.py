"""A supervisor works the triage queue in a real browser (with and without JavaScript), previews a
rule change without saving it, and reads the weekly trends."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot, staff_sign_in

pytestmark = pytest.mark.e2e


def sign_in(page, base, var_dir, role="supervisor"):
    staff_sign_in(page, base, var_dir, role)


@pytest.fixture
def desk(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    yield context.new_page()
    context.close()


@pytest.fixture
def desk_without_js(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", java_script_enabled=False)
    yield context.new_page()
    context.close()


def test_supervisor_copies_a_reply_and_resolves_a_tag(live_server, desk):
    page, base = desk, live_server["url"]
    sign_in(page, base, live_server["var_dir"])
    page.get_by_role("link", name="异常处理").click()
    page.wait_for_url("**/admin/triage")
    expect(page.locator("h2.queue-title")).to_contain_text("客服")
    rows = page.locator("table.triage-table tbody tr")
    assert rows.count() > 5
    shot(page, "triage-01-queue")

    page.get_by_role("link", name="财务").click()
    page.wait_for_url("**/admin/triage?queue=finance")
    page.locator("table.triage-table tbody tr a.mono").first.click()
    page.wait_for_url(re.compile(r".*/admin/triage/tags/\d+$"))
    copy = page.get_by_role("button", name="复制")
    expect(copy).to_be_visible()  # shown by static/js/admin.js
    copy.click()
    expect(page.get_by_role("button", name="已复制")).to_be_visible()
    reply = page.locator("#reply-text").input_value()
    assert reply.startswith("您好：您的订单 OD")
    shot(page, "triage-02-tag")

    page.get_by_role("button", name="标记为已处理").click()
    expect(page.locator("#resolution-error")).to_have_text("请写明异常是如何处理的。")
    page.get_by_label("是如何处理的？").fill("已与支付渠道核对，退款已原路退回")
    page.get_by_role("button", name="标记为已处理").click()
    page.wait_for_url("**/admin/triage?queue=finance")
    shot(page, "triage-03-after-resolve")


def test_without_javascript_the_reply_is_selectable_and_forms_still_work(live_server, desk_without_js):
    page, base = desk_without_js, live_server["url"]
    sign_in(page, base, live_server["var_dir"])
    page.goto(f"{base}/admin/triage?queue=customer_service")
    page.locator("table.triage-table tbody tr a.mono").first.click()
    page.wait_for_url(re.compile(r".*/admin/triage/tags/\d+$"))
    expect(page.locator("button[data-copy]")).to_be_hidden()
    expect(page.locator("#reply-text")).to_have_attribute("readonly", "")
    page.get_by_role("button", name="由我处理").click()
    expect(page.locator("p.owner")).to_have_text("supervisor@orderdesk.local")


def test_rule_preview_shows_orders_and_saves_nothing(live_server, desk):
    page, base = desk, live_server["url"]
    sign_in(page, base, live_server["var_dir"])
    page.get_by_role("link", name="异常规则").click()
    page.get_by_role("link", name="代收点或快递柜地址").click()
    page.wait_for_url("**/admin/triage/rules/address_proxy_words")
    words = page.get_by_label("在详细地址中查找的词（每行一个）")
    original = words.input_value()
    words.fill("号")  # every street has a number: a change that would tag a great many orders
    page.get_by_role("button", name="预览").click()
    preview = page.locator("section.rule-preview")
    expect(preview).to_contain_text("预览：尚未保存任何内容")
    assert page.url.endswith("/admin/triage/rules/address_proxy_words")  # swapped in place by htmx
    assert preview.locator("table.preview-orders tbody tr").count() == 20
    shot(page, "triage-04-rule-preview")
    page.reload()
    expect(page.get_by_label("在详细地址中查找的词（每行一个）")).to_have_value(original)


def test_weekly_trends_page_draws_its_charts(live_server, desk):
    page, base = desk, live_server["url"]
    sign_in(page, base, live_server["var_dir"])
    page.get_by_role("link", name="每周趋势").click()
    page.wait_for_url("**/admin/reports/weekly")
    expect(page.locator("svg.bar-chart")).to_have_count(3)
    assert page.locator("svg.bar-chart rect.bar-current").first.bounding_box()["width"] > 10
    shot(page, "triage-05-weekly")
