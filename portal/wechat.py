"""Signing in with WeChat: the trip to WeChat's authorisation page and back."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_400_BAD_REQUEST

from core.config import Settings
from core.services.identity import shopper_sign_in
from core.services.identity import wechat_login as wechat
from core.web.common import safe_next
from core.web.deps import DB
from core.wechat import WechatApiError, WechatUnavailable, authorize_url, client_from_settings
from portal.auth import (
    client_ip,
    portal_cookie,
    session_cookie,
    session_cookie_name,
    wechat_pending_cookie_name,
    wechat_sign_in_applies,
    wechat_state_cookie_name,
)

logger = logging.getLogger("orderdesk.wechat")

STATE_MAX_AGE = int(wechat.STATE_TTL.total_seconds())
PENDING_MAX_AGE = int(wechat.PENDING_TTL.total_seconds())


def _login(next_path: str, **extra: str) -> str:
    return "/login?" + urlencode({"next": next_path, **extra})


@get("/wechat/authorize", name="wechat_authorize", sync_to_thread=True)
def wechat_authorize(request: Request, db: DB, next: FromQuery[str | None] = None) -> Redirect:  # noqa: A002
    """Off to WeChat for the visitor's openid (silently: scope snsapi_base)."""
    settings: Settings = request.app.state.settings
    next_path = safe_next(next, "/orders")
    if not wechat_sign_in_applies(request):
        return Redirect(path=_login(next_path), status_code=HTTP_303_SEE_OTHER)
    if wechat.has_pending(db, request.cookies.get(wechat_pending_cookie_name(settings))):
        # Back from WeChat a moment ago, not linked yet: what is missing is the SMS code.
        return Redirect(path=_login(next_path), status_code=HTTP_303_SEE_OTHER)
    state = wechat.start_login(db, next_path)
    target = authorize_url(settings.wechat_oauth_base, settings.wechat_app_id,
                           f"{settings.public_base_url}/wechat/callback", state)
    return Redirect(path=target, status_code=HTTP_303_SEE_OTHER,
                    cookies=[portal_cookie(settings, wechat_state_cookie_name(settings), state, STATE_MAX_AGE)])


def _refused(request: Request, next_path: str = "/orders") -> Template:
    settings: Settings = request.app.state.settings
    response = Template(template_name="portal/wechat_refused.html", context={"next": next_path},
                        status_code=HTTP_400_BAD_REQUEST)
    response.cookies.append(portal_cookie(settings, wechat_state_cookie_name(settings), "", 0))
    return response


@get("/wechat/callback", name="wechat_callback", sync_to_thread=True)
def wechat_callback(request: Request, db: DB, code: FromQuery[str | None] = None) -> Response:
    """WeChat sends the browser back here with a one-time code and our state."""
    settings: Settings = request.app.state.settings
    state = request.query_params.get("state")  # ("state" is Litestar's name for the app state)
    if not settings.wechat_enabled:
        raise NotFoundException()
    try:
        accepted = wechat.use_state(db, state=state, browser_state=request.cookies.get(wechat_state_cookie_name(settings)))
    except wechat.LoginRefused:
        return _refused(request)
    next_path = safe_next(accepted.next_path, "/orders")
    clear_state = portal_cookie(settings, wechat_state_cookie_name(settings), "", 0)
    if not code or len(code) > 128:
        return _refused(request, next_path)
    client = client_from_settings(settings)
    try:
        openid = client.exchange_code(code)
    except WechatUnavailable as exc:
        logger.warning("WeChat code exchange failed, falling back to SMS sign-in: %s", exc)
        return Redirect(path=_login(next_path, notice="wechat_unavailable"), status_code=HTTP_303_SEE_OTHER,
                        cookies=[clear_state])
    except WechatApiError as exc:
        logger.warning("WeChat refused the code exchange: %s", exc)
        return _refused(request, next_path)
    finally:
        client.close()
    # WeChat has answered: only now the write transaction, which signs in or leaves the openid waiting.
    outcome = shopper_sign_in.sign_in_with_wechat(
        db, accepted.login_id, openid, client_ip=client_ip(request), user_agent=request.headers.get("user-agent", ""),
        replaces=request.cookies.get(session_cookie_name(settings)))
    if outcome.session_token is not None:
        return Redirect(path=next_path, status_code=HTTP_303_SEE_OTHER,
                        cookies=[clear_state, session_cookie(settings, outcome.session_token)])
    pending = portal_cookie(settings, wechat_pending_cookie_name(settings), outcome.pending, PENDING_MAX_AGE)
    return Redirect(path=_login(next_path), status_code=HTTP_303_SEE_OTHER, cookies=[clear_state, pending])
