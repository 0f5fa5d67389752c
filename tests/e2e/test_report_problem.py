"""A shopper on a phone inside WeChat reports a damaged parcel with a photo; a support
agent, in a second browser, finds the dispute with the photo and the evidence pack."""

import io
import re

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from core.db import Database
from core.models import Customer, Order
from core.services.identity import customer_sessions as sessions
from tests.e2e.conftest import PHONE_VIEWPORT, WECHAT_UA, open_dispute, shot, staff_sign_in
from tests.photos import jpeg_with_gps

pytestmark = pytest.mark.e2e
DEMO_PHONE = "+8613800138000"


@pytest.fixture
def demo_db(live_server):
    database = Database(f"sqlite:///{live_server['var_dir'] / 'e2e.db'}")
    yield database
    database.dispose()


def delivered_order_without_disputes(db: Database) -> str:
    from core.models import Dispute

    with db.read() as session:
        refs = session.exec(
            select(Order.ref).join(Customer, Customer.id == Order.customer_id)
            .where(Customer.phone == DEMO_PHONE, Order.status == "delivered",
                   ~Order.id.in_(select(Dispute.order_id)))
            .order_by(Order.created_at.desc())
        ).all()
    assert refs, "the demo shopper has no delivered order left"
    return refs[0]


@pytest.fixture
def shopper(browser, live_server, demo_db):
    """The demo shopper, signed in (the SMS sign-in itself is the journey test's subject)."""
    context = browser.new_context(viewport=PHONE_VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  user_agent=WECHAT_UA, locale="zh-CN")
    token = sessions.start_session(demo_db, phone=DEMO_PHONE, client_ip="127.0.0.1", user_agent=WECHAT_UA)
    context.add_cookies([{"name": "od_session", "value": token, "url": live_server["url"]}])
    yield context.new_page()
    context.close()


@pytest.fixture
def desk(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


def test_shopper_reports_a_damaged_parcel_and_support_sees_photo_and_pack(live_server, shopper, desk, demo_db,
                                                                            tmp_path):
    base = live_server["url"]
    ref = delivered_order_without_disputes(demo_db)
    photo = tmp_path / "IMG_20261122_093000.jpg"
    photo.write_bytes(jpeg_with_gps(size=(1200, 900)))

    page = shopper
    page.goto(f"{base}/orders/{ref}")
    problems = page.locator("#cases")
    expect(problems).to_contain_text("订单有问题？")
    page.get_by_role("link", name="反馈问题").click()
    page.wait_for_url(f"**/orders/{ref}/problem")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    assert page.locator("input[type=file][accept='image/*'][multiple]").count() == 1
    shot(page, "problem-01-form")

    # Sent without a photo first: the form comes back with the message beside the field, choices kept.
    page.get_by_label(re.compile("收到时已破损")).check()
    page.get_by_label("补充说明").fill("外箱被压扁，茶叶罐凹陷。")
    page.get_by_role("button", name="提交反馈").click()
    expect(page.locator("#e-photos")).to_have_text("请至少上传一张破损照片。")
    assert page.get_by_label(re.compile("收到时已破损")).is_checked()
    assert page.get_by_label("补充说明").input_value() == "外箱被压扁，茶叶罐凹陷。"
    shot(page, "problem-02-needs-photo")

    page.locator("#f-photos").set_input_files(str(photo))
    page.get_by_role("button", name="提交反馈").click()
    # The first report renders and signs the evidence pack: a few seconds on a busy machine.
    expect(page.locator("#problem-box [role=status]")).to_contain_text("您的反馈已转给客服团队", timeout=30_000)
    shot(page, "problem-03-sent")

    page.get_by_role("link", name="返回订单").click()
    page.wait_for_url(re.compile(rf".*/orders/{ref}(#cases)?$"))
    case = page.locator("#cases .case").first
    expect(case).to_contain_text("收到时已破损")
    expect(case).to_contain_text("已收到，正在处理")
    thumbnail = case.locator("img").first
    expect(thumbnail).to_be_visible()
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar stays on top in the full-page shot
    shot(page, "problem-04-order-with-case")

    # A support agent, in a browser of their own.
    staff_sign_in(desk, base, live_server["var_dir"], "support")
    open_dispute(desk, base, ref, "damaged")
    expect(desk.locator("h1")).to_contain_text("破损")
    reports = desk.locator(".customer-reports")
    expect(reports).to_contain_text("外箱被压扁，茶叶罐凹陷。")
    staff_photo = reports.locator("img").first
    expect(staff_photo).to_be_visible()
    staff_photo.scroll_into_view_if_needed()
    desk.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=staff_photo.element_handle(),
                           timeout=10_000)
    expect(desk.locator(".verdict")).to_contain_text("承诺")
    expect(desk.get_by_role("link", name="下载物流证据 PDF")).to_be_visible()
    shot(desk, "problem-05-support-sees-dispute")

    # The photo the agent sees is the cleaned one: no location, no camera.
    response = desk.request.get(base + staff_photo.get_attribute("src"))
    assert response.status == 200 and b"PhoneMaker" not in response.body()
    from PIL import Image

    assert dict(Image.open(io.BytesIO(response.body())).getexif()) == {}
