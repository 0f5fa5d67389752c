"""A real server on loopback and headless Chromium (Debian's), driven by Playwright.

Screenshots land in test-artifacts/ so a person can look at what the tests saw.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PHONE_VIEWPORT = {"width": 390, "height": 844}
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UQ1A.240105.004; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.120 Mobile Safari/537.36 XWEB/1220099 "
    "MMWEBSDK/20240404 MMWEBID/1234 MicroMessenger/8.0.49.2600(0x2800313D) WeChat/arm64 Weixin "
    "NetType/WIFI Language/zh_CN ABI/arm64"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """orderdesk migrated, seeded with the demo data and served by uvicorn."""
    var_dir = tmp_path_factory.mktemp("e2e-var")
    port = _free_port()
    env = {
        **os.environ,
        "ORDERDESK_VAR_DIR": str(var_dir),
        "DATABASE_URL": f"sqlite:///{var_dir / 'e2e.db'}",
        "PORT": str(port),
    }
    cli = [sys.executable, "-m", "core.cli"]
    subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*cli, "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = (var_dir / "server.log").open("w")
    server = subprocess.Popen([*cli, "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        server.terminate()
        raise RuntimeError("orderdesk did not start: " + (var_dir / "server.log").read_text())
    yield {"url": base_url, "var_dir": var_dir}
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport=PHONE_VIEWPORT, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, user_agent=WECHAT_UA, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def demo_login(var_dir: Path, role: str) -> tuple[str, str]:
    """The demo account of a role, as `make run` prints it (var/demo-logins.txt)."""
    for line in (var_dir / "demo-logins.txt").read_text().splitlines():
        name, email, password = line.split()
        if name == role:
            return email, password
    raise AssertionError(f"no demo {role}")


def staff_sign_in(page, base: str, var_dir: Path, role: str) -> None:  # noqa: ANN001
    """Sign in at /admin/login as the demo account of `role`, landing on the overview."""
    email, password = demo_login(var_dir, role)
    page.goto(f"{base}/admin/login")
    page.get_by_label("电子邮箱").fill(email)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r".*/admin/?$"))


def open_dispute(page, base: str, ref: str, kind: str) -> None:  # noqa: ANN001
    """From the dispute board filtered by kind, open the one dispute of order `ref`."""
    from playwright.sync_api import expect

    page.goto(f"{base}/admin/disputes?kind={kind}")
    row = page.locator("tbody tr", has_text=ref)
    expect(row).to_have_count(1)
    row.locator("a").first.click()
    page.wait_for_url(re.compile(r".*/admin/disputes/\d+$"))
