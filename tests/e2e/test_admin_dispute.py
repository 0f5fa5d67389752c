"""A support agent finds the demo shopper's order by phone, opens a "not received"
dispute, generates the evidence pack and downloads it."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import demo_login, shot

pytestmark = pytest.mark.e2e


@pytest.fixture
def desk(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True)
    yield context.new_page()
    context.close()


def test_support_agent_opens_a_dispute_and_downloads_the_pack(live_server, desk, tmp_path):
    page, base = desk, live_server["url"]
    email, password = demo_login(live_server["var_dir"], "support")
    page.goto(f"{base}/admin/")
    page.wait_for_url("**/admin/login**")
    page.get_by_label("电子邮箱").fill(email)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r".*/admin/?$"))
    shot(page, "admin-01-overview")

    page.get_by_role("searchbox").fill("13800138000")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_url("**/admin/orders?q=13800138000")
    rows = page.locator("table tbody tr")
    assert rows.count() == 14
    # A support agent sees masked personal data in lists.
    assert "138****8000" in page.locator("table").inner_text()
    assert "13800138000" not in page.locator("table").inner_text()
    shot(page, "admin-02-search-by-phone")

    delivered = page.locator("tbody tr", has=page.locator(".status-delivered")).first
    delivered.locator("a").first.click()
    page.wait_for_url(re.compile(r".*/admin/orders/OD[0-9A-Z]{10}$"))
    ref = page.url.rsplit("/", 1)[1]
    assert page.get_by_role("button", name="显示完整信息").count() == 0  # no reveal for this role
    shot(page, "admin-03-order")

    page.get_by_label("类型").select_option("not_received")
    page.get_by_label("客户诉求").fill("客户称未收到包裹，要求退款。")
    page.get_by_role("button", name="创建纠纷").click()
    page.wait_for_url(re.compile(r".*/admin/disputes/\d+$"))
    assert "按时送达" in page.locator(".verdict").inner_text() or "延误" in page.locator(".verdict").inner_text()
    shot(page, "admin-04-dispute")

    page.get_by_role("button", name="生成证据包").click()
    expect(page.locator("h1")).to_contain_text("待提交", timeout=20_000)
    assert "附加证据包" in page.locator(".history").inner_text()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载物流证据 PDF").click()
    download = download_info.value
    target = tmp_path / "pack.pdf"
    download.save_as(target)
    data = target.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000
    assert ref in download.suggested_filename
    shot(page, "admin-05-dispute-with-pack")
    (live_server["var_dir"] / "admin-pack.pdf").write_bytes(data)
