"""A shopper inside WeChat, against `orderdesk simulate-wechat`: the first visit asks for the
SMS code once and links WeChat to the phone; a new browser session is then signed in
silently and lands on the orders; removing the link brings the code back."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import httpx
import pytest

from tests.e2e.conftest import PHONE_VIEWPORT, ROOT, WECHAT_UA, _free_port, shot

pytestmark = pytest.mark.e2e

APP_ID = "wxe2e0000000000001"
APP_SECRET = "e2e-wechat-app-secret"


def _wait_for(url: str, process: subprocess.Popen, log) -> None:  # noqa: ANN001
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"{url} did not come up: " + log.read_text())


@pytest.fixture(scope="module")
def wechat_site(tmp_path_factory):
    """The simulated WeChat server (its CLI) and orderdesk configured to use it."""
    var_dir = tmp_path_factory.mktemp("e2e-wechat")
    sim_port, port = _free_port(), _free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    env = {
        **os.environ,
        "ORDERDESK_VAR_DIR": str(var_dir),
        "DATABASE_URL": f"sqlite:///{var_dir / 'e2e.db'}",
        "PORT": str(port),
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": APP_SECRET,
        "WECHAT_API_BASE": sim_url,
        "WECHAT_OAUTH_BASE": sim_url,
        "WECHAT_TEMPLATE_SHIPPED": "tpl-shipped",
    }
    cli = [sys.executable, "-m", "core.cli"]
    sim_log, server_log = var_dir / "simulator.log", var_dir / "server.log"
    simulator = subprocess.Popen([*cli, "simulate-wechat", "--port", str(sim_port)], cwd=ROOT, env=env,
                                 stdout=sim_log.open("w"), stderr=subprocess.STDOUT)
    subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*cli, "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    server = subprocess.Popen([*cli, "serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=server_log.open("w"), stderr=subprocess.STDOUT)
    try:
        _wait_for(f"{sim_url}/_sim/state", simulator, sim_log)
        _wait_for(f"http://127.0.0.1:{port}/healthz", server, server_log)
        yield {"url": f"http://127.0.0.1:{port}", "sim": sim_url, "var_dir": var_dir}
    finally:
        for process in (server, simulator):
            process.terminate()
            process.wait(timeout=10)


def texts_sent(var_dir) -> list[str]:  # noqa: ANN001
    outbox = var_dir / "sms-outbox.jsonl"
    if not outbox.exists():
        return []
    return [json.loads(line)["text"] for line in outbox.read_text(encoding="utf-8").splitlines()]


def wechat_phone(browser):  # noqa: ANN001, ANN201
    return browser.new_context(viewport=PHONE_VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True,
                               user_agent=WECHAT_UA, locale="zh-CN")


def test_first_visit_links_wechat_then_a_new_session_signs_in_silently(wechat_site, browser):
    base, var_dir = wechat_site["url"], wechat_site["var_dir"]

    first = wechat_phone(browser)
    page = first.new_page()
    page.goto(f"{base}/orders")  # the official account's menu link
    page.wait_for_url("**/login?next=*")
    notice = page.locator(".notice.info")
    assert "验证后此微信将与该手机号绑定" in notice.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    shot(page, "wechat-01-first-visit-login")

    page.get_by_label("手机号码").fill("13800138000")
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_label("6 位验证码").wait_for()
    code = next(t for t in reversed(texts_sent(var_dir)) if "验证码是" in t).split("验证码是 ")[1][:6]
    page.get_by_label("6 位验证码").fill(code)
    shot(page, "wechat-02-code")
    page.get_by_role("button", name="验证并继续").click()
    page.wait_for_url(f"{base}/orders")
    assert page.locator("h1").inner_text() == "我的订单"
    assert page.locator(".order-card").count() == 10

    page.get_by_role("link", name="账户").click()
    page.wait_for_url("**/account")
    links = page.locator(".link-row")
    assert links.count() == 1
    assert "微信账号 …" in links.first.inner_text()
    assert "已绑定微信账号" in page.locator(".history").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    shot(page, "wechat-03-account-linked")
    first.close()

    codes_before = len(texts_sent(var_dir))
    second = wechat_phone(browser)
    page = second.new_page()
    page.goto(f"{base}/orders")
    # The browser carries the #wechat_redirect fragment through the redirects back to us.
    page.wait_for_url(re.compile(rf"^{re.escape(base)}/orders(#wechat_redirect)?$"))
    assert page.locator("h1").inner_text() == "我的订单"
    assert page.locator(".order-card").count() == 10
    assert len(texts_sent(var_dir)) == codes_before  # no code this time
    shot(page, "wechat-04-silent-sign-in")

    page.get_by_role("link", name="账户").click()
    page.wait_for_url("**/account")
    page.get_by_role("button", name="解除绑定").click()
    page.locator(".notice.ok").wait_for()
    assert "已解除微信绑定" in page.locator(".notice.ok").inner_text()
    assert page.locator(".link-row").count() == 0
    shot(page, "wechat-05-unlinked")
    second.close()

    third = wechat_phone(browser)
    page = third.new_page()
    page.goto(f"{base}/orders")
    page.wait_for_url("**/login?next=*")
    # A callback this browser did not start (a forged or copied link): refused, clearly.
    answer = page.goto(f"{base}/wechat/callback?code=forged&state=forged")
    assert answer.status == 400
    assert page.locator("h1").inner_text() == "登录未完成"
    assert page.get_by_role("link", name="用短信验证码登录").count() == 1
    shot(page, "wechat-06-forged-callback")
    third.close()
    calls = httpx.get(f"{wechat_site['sim']}/_sim/state").json()["calls"]
    assert calls["authorize"] == 3 and calls["oauth"] == 3
