"""The simulated WeChat server on loopback, and settings that point orderdesk at it."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import uvicorn

from core.config import WECHAT_TEMPLATE_EVENTS, Settings, get_settings
from devservers.wechat import create_wechat_simulator, default_openid

APP_ID = "wxtest0000000001"
APP_SECRET = "test-wechat-app-secret"
DEVICE_OPENID = default_openid(APP_ID)
WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN"
)
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(app) -> Iterator[str]:  # noqa: ANN001
    """An ASGI app served by uvicorn in a thread; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def wechat_simulator(**options) -> Iterator[str]:  # noqa: ANN003
    with serve(create_wechat_simulator(app_id=APP_ID, app_secret=APP_SECRET, **options)) as url:
        yield url


@contextmanager
def wechat_settings(sim_url: str | None, *, templates: bool = True, **extra: str) -> Iterator[Settings]:
    """The process settings with the official account configured (sim_url None: unconfigured)."""
    names = ["WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_API_BASE", "WECHAT_OAUTH_BASE", "WECHAT_TIMEOUT_SECONDS",
             *(f"WECHAT_TEMPLATE_{event.upper()}" for event in WECHAT_TEMPLATE_EVENTS), *extra]
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ.pop(name, None)
    if sim_url is not None:
        os.environ.update({"WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": APP_SECRET, "WECHAT_API_BASE": sim_url,
                           "WECHAT_OAUTH_BASE": sim_url, "WECHAT_TIMEOUT_SECONDS": "2"})
        if templates:
            os.environ.update({f"WECHAT_TEMPLATE_{event.upper()}": f"tpl-{event}" for event in WECHAT_TEMPLATE_EVENTS})
    os.environ.update(extra)
    get_settings.cache_clear()
    try:
        yield get_settings()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def through_wechat(client, sim_url: str, path: str = "/orders", *, openid: str | None = None):  # noqa: ANN001, ANN201
    """Open `path` in WeChat's browser: our redirect to WeChat, WeChat's (simulated) redirect
    back, and our answer to the callback (returned, not followed)."""
    client.headers["user-agent"] = WECHAT_UA
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    start = answer.headers["location"]
    if start.startswith("/wechat/authorize"):
        answer = client.get(start, follow_redirects=False)
        assert answer.status_code == 303, answer.text
    authorize = answer.headers["location"]
    assert authorize.startswith(f"{sim_url}/connect/oauth2/authorize?"), authorize
    assert authorize.endswith("#wechat_redirect")
    url = authorize.split("#", 1)[0] + (f"&sim_openid={openid}" if openid else "")
    back = httpx.get(url, follow_redirects=False)
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["location"])
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def callback_url(client, sim_url: str, path: str = "/orders") -> str:  # noqa: ANN001
    """Go as far as WeChat's redirect back, and return the callback address without opening it."""
    client.headers["user-agent"] = WECHAT_UA
    start = client.get(path, follow_redirects=False).headers["location"]
    authorize = client.get(start, follow_redirects=False).headers["location"]
    back = httpx.get(authorize.split("#", 1)[0], follow_redirects=False)
    callback = urlsplit(back.headers["location"])
    return f"{callback.path}?{callback.query}"


def link(db, phone: str, openid: str = DEVICE_OPENID) -> None:  # noqa: ANN001
    """Link `openid` to `phone` the only way there is (a WeChat visit, then a verified code),
    here through the service calls the portal makes."""
    from core.models import utcnow
    from core.phones import normalize_phone
    from core.services.identity import wechat_login as wechat
    from core.services.identity.shopper_sign_in import sign_in_with_wechat

    state = wechat.start_login(db, "/orders")
    accepted = wechat.use_state(db, state=state, browser_state=state)
    outcome = sign_in_with_wechat(db, accepted.login_id, openid)
    # What `sign_in_with_code` does once the texted code is right, without texting one.
    with db.write() as session:
        linked = wechat.bind_after_verification(session, outcome.pending, normalize_phone(phone), now=utcnow())
    assert linked == "linked"
