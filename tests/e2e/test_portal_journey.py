"""A shopper on a phone, inside WeChat: sign in with the SMS code, find an
unshipped order, change its address, see the confirmation."""

import json
import re

import pytest

from tests.e2e.conftest import PHONE_VIEWPORT, WECHAT_UA, shot

pytestmark = pytest.mark.e2e


def latest_code(var_dir) -> str:
    lines = (var_dir / "sms-outbox.jsonl").read_text(encoding="utf-8").splitlines()
    text = json.loads(lines[-1])["text"]
    return re.search(r"验证码是 (\d{6})", text).group(1)


def sign_in(page, base_url, var_dir, next_path="/orders"):
    page.goto(f"{base_url}/login?next={next_path}")
    page.get_by_label("手机号码").fill("13800138000")
    shot(page, "portal-01-login-phone")
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_label("6 位验证码").wait_for()
    assert "138****8000" in page.locator("#login-box").inner_text()
    page.get_by_label("6 位验证码").fill(latest_code(var_dir))
    shot(page, "portal-02-login-code")
    page.get_by_role("button", name="验证并继续").click()
    page.wait_for_url(f"**{next_path}")


@pytest.fixture(scope="module")
def signed_in_state(live_server, browser):
    """Sign in once per module: a second code within 60 s is (rightly) refused."""
    context = browser.new_context(viewport=PHONE_VIEWPORT, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, user_agent=WECHAT_UA, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server["url"], live_server["var_dir"])
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture
def shopper(browser, signed_in_state):
    context = browser.new_context(viewport=PHONE_VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  user_agent=WECHAT_UA, locale="zh-CN", storage_state=signed_in_state)
    yield context.new_page()
    context.close()


def test_sign_in_and_change_address_before_shipment(live_server, shopper):
    page, base_url, var_dir = shopper, live_server["url"], live_server["var_dir"]
    page.goto(f"{base_url}/orders")
    assert page.locator("h1").inner_text() == "我的订单"
    assert page.locator(".order-card").count() == 10
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "portal-03-orders")

    page.get_by_role("link", name="待发货", exact=True).click()
    page.wait_for_url("**f=to_ship")
    cards = page.locator(".order-card")
    assert cards.count() >= 2
    for status in cards.locator(".status").all_inner_texts():
        assert status in ("已付款，待发货", "拣货打包中")
    shot(page, "portal-04-to-ship")

    cards.first.locator("a").click()
    page.wait_for_url(re.compile(r".*/orders/OD[0-9A-Z]{10}$"))
    ref = page.url.rsplit("/", 1)[1]
    shot(page, "portal-05-order")

    page.get_by_role("link", name="修改地址", exact=True).click()
    page.wait_for_url(f"**/orders/{ref}/address")
    page.get_by_label("详细地址（街道、楼栋、门牌号）").fill("x")
    page.get_by_role("button", name="保存新地址").click()
    error = page.locator(".field-error")
    error.first.wait_for()
    assert "请填写街道" in error.first.inner_text()
    shot(page, "portal-06-address-error")

    page.get_by_label("省份").select_option("广东省")
    page.get_by_label("城市").fill("深圳市")
    page.get_by_label("区/县").fill("南山区")
    page.get_by_label("详细地址（街道、楼栋、门牌号）").fill("科技园南区粤海街道 88 号 3 栋 1201")
    page.get_by_role("button", name="保存新地址").click()
    done = page.get_by_role("heading", name="地址已修改")
    done.wait_for()
    assert "深圳市南山区" in page.locator(".notice.ok").inner_text()
    shot(page, "portal-07-address-changed")

    page.get_by_role("link", name="返回订单").click()
    page.wait_for_url(f"**/orders/{ref}")
    assert "科技园南区粤海街道 88 号 3 栋 1201" in page.locator("main").inner_text()
    assert "收货地址改为 广东省深圳市南山区" in page.locator(".history").inner_text()
    shot(page, "portal-08-order-after-change")

    sms = [json.loads(line) for line in (var_dir / "sms-outbox.jsonl").read_text().splitlines()]
    assert any(ref in m["text"] and "收货地址已修改" in m["text"] for m in sms)


def test_a_second_code_within_a_minute_is_refused(live_server, phone_page, signed_in_state):
    page = phone_page
    page.goto(f"{live_server['url']}/login")
    page.get_by_label("手机号码").fill("13800138000")
    page.get_by_role("button", name="获取验证码").click()
    error = page.locator(".field-error")
    error.wait_for()
    assert "秒后可重新获取" in error.inner_text()
    shot(page, "portal-10-code-too-soon")


def test_shipped_order_shows_the_raw_timeline(live_server, shopper):
    page = shopper
    page.goto(f"{live_server['url']}/orders?f=shipped")
    page.locator(".order-card a").first.click()
    page.wait_for_url(re.compile(r".*/orders/OD[0-9A-Z]{10}$"))
    events = page.locator(".timeline .event")
    assert events.count() >= 2
    assert "快件" in events.first.inner_text()
    assert page.get_by_role("link", name="修改地址").count() == 0
    shot(page, "portal-09-shipped-timeline")
