"""The whole after-sales journey of a shopper in WeChat: opened from the official account's
menu, signed in silently by the simulated WeChat server (the openid was linked to the
phone by an earlier SMS verification), a damaged parcel reported with a photo; then a
support agent, in a second browser, finds the dispute with the photo and the evidence pack."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from core.db import Database
from core.models import Customer, Dispute, Order, WechatBinding
from tests.e2e.conftest import open_dispute, shot, staff_sign_in
from tests.e2e.test_wechat_sign_in import texts_sent, wechat_phone, wechat_site  # noqa: F401 (fixture)
from tests.photos import jpeg_with_gps

pytestmark = pytest.mark.e2e
DEMO_PHONE = "+8613800138000"
OPENID = "oJourneyE2E0000000000000001"


def test_silent_sign_in_report_damaged_with_photo_and_support_sees_it(wechat_site, browser, tmp_path):  # noqa: F811
    base, var_dir = wechat_site["url"], wechat_site["var_dir"]
    db = Database(f"sqlite:///{var_dir / 'e2e.db'}")
    try:
        with db.write() as session:
            customer = session.exec(select(Customer).where(Customer.phone == DEMO_PHONE)).one()
            # Linked as the SMS verification in WeChat does it (that flow: test_wechat_sign_in.py).
            session.add(WechatBinding(openid=OPENID, customer_id=customer.id))
        with db.read() as session:
            ref = session.exec(
                select(Order.ref).where(Order.customer_id == customer.id, Order.status == "delivered",
                                        ~Order.id.in_(select(Dispute.order_id)))
                .order_by(Order.created_at.desc())).first()
    finally:
        db.dispose()
    assert ref, "the demo shopper has no delivered order without a dispute"
    httpx.post(f"{wechat_site['sim']}/_sim/openid", params={"openid": OPENID}).raise_for_status()
    codes_before = len(texts_sent(var_dir))

    context = wechat_phone(browser)
    page = context.new_page()
    page.goto(f"{base}/orders/{ref}")  # a link from the official account's menu or a template message
    page.wait_for_url(re.compile(rf"^{re.escape(base)}/orders/{ref}(#wechat_redirect)?$"))
    assert len(texts_sent(var_dir)) == codes_before  # signed in without a code
    expect(page.locator("#cases")).to_contain_text("订单有问题？")
    shot(page, "journey-01-order-after-silent-sign-in")

    page.get_by_role("link", name="反馈问题").click()
    page.wait_for_url(f"**/orders/{ref}/problem")
    page.get_by_label(re.compile("收到时已破损")).check()
    page.get_by_label("补充说明").fill("快递盒一角被压破，杯子碎了。")
    photo = tmp_path / "IMG_20261122_101500.jpg"
    photo.write_bytes(jpeg_with_gps(size=(1000, 750)))
    page.locator("#f-photos").set_input_files(str(photo))
    page.get_by_role("button", name="提交反馈").click()
    expect(page.locator("#problem-box [role=status]")).to_contain_text("您的反馈已转给客服团队", timeout=30_000)
    shot(page, "journey-02-report-sent")
    context.close()
    calls = httpx.get(f"{wechat_site['sim']}/_sim/state").json()["calls"]
    assert calls["authorize"] >= 1 and calls["oauth"] >= 1

    desk_context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    desk = desk_context.new_page()
    staff_sign_in(desk, base, var_dir, "support")
    open_dispute(desk, base, ref, "damaged")
    reports = desk.locator(".customer-reports")
    expect(reports).to_contain_text("快递盒一角被压破，杯子碎了。")
    staff_photo = reports.locator("img").first
    staff_photo.scroll_into_view_if_needed()
    desk.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=staff_photo.element_handle(),
                           timeout=10_000)
    expect(desk.locator(".verdict")).to_contain_text("承诺")
    pack = desk.get_by_role("link", name="下载物流证据 PDF")
    expect(pack).to_be_visible()
    pdf = desk.request.get(base + pack.get_attribute("href"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    shot(desk, "journey-03-support-sees-dispute")
    desk_context.close()
