import pytest

from tests.e2e.conftest import shot

pytestmark = pytest.mark.e2e


def test_home_and_terms_on_a_phone_in_wechat(live_server, phone_page):
    page = phone_page
    page.goto(live_server["url"] + "/")
    assert page.locator("h1").inner_text() == "我的订单到哪了？"
    # Nothing wider than the phone: no sideways scrolling at 390 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "shell-home-zh")

    page.get_by_role("link", name="服务条款").click()
    page.wait_for_url("**/terms")
    assert "售后服务条款" in page.locator("h1").inner_text()
    shot(page, "shell-terms-zh")

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/terms")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Earlier versions").is_visible()
    shot(page, "shell-terms-en")


def test_unknown_page_in_browser(live_server, phone_page):
    response = phone_page.goto(live_server["url"] + "/no/such/page")
    assert response.status == 404
    assert phone_page.locator("h1").inner_text() == "页面不存在"
