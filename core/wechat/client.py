"""The WeChat official-account HTTP API, as far as orderdesk uses it.

One request per call with a timeout and no retries here: a sign-in must not keep
the shopper waiting, and messages are retried by the outbox with its backoff.
WeChat answers errors with HTTP 200 and {"errcode", "errmsg"}; errcode -1
("system busy") and transport errors or 5xx mean "try later" (WechatUnavailable),
any other errcode is a refusal (WechatApiError).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import httpx

from core.config import Settings

# WeChat wants the app secret and the access token in the query string, and httpx logs each
# request line at INFO: those lines must never reach a log, whatever level a process sets.
logging.getLogger("httpx").setLevel(logging.WARNING)

# The access token is invalid (40001, also 40014) or expired (42001): fetch a new one and retry once.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})


class WechatError(Exception):
    """Calling WeChat did not work."""


class WechatUnavailable(WechatError):
    """WeChat could not be reached or is busy: try again later."""


class WechatApiError(WechatError):
    """WeChat refused the call (bad code, bad token, bad template...)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def in_wechat(user_agent: str | None) -> bool:
    """WeChat's in-app browser says MicroMessenger in its User-Agent. WeChat Work (wxwork) says so
    too, but an official account cannot authorise its users."""
    agent = (user_agent or "").lower()
    return "micromessenger" in agent and "wxwork" not in agent


def authorize_url(oauth_base: str, app_id: str, redirect_uri: str, state: str) -> str:
    """The silent (snsapi_base) authorisation page; WeChat wants its parameters in this
    order and the #wechat_redirect fragment."""
    query = urlencode({"appid": app_id, "redirect_uri": redirect_uri, "response_type": "code",
                       "scope": "snsapi_base", "state": state}, quote_via=quote)
    return f"{oauth_base}/connect/oauth2/authorize?{query}#wechat_redirect"


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


class WechatClient:
    def __init__(self, *, api_base: str, app_id: str, app_secret: str, timeout: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.api_base = api_base.rstrip("/")
        self.app_id = app_id
        self.app_secret = app_secret
        self.client = httpx.Client(timeout=httpx.Timeout(timeout), transport=transport)

    def _answer(self, response: httpx.Response) -> dict:
        if response.status_code >= 500 or response.status_code == 429:
            raise WechatUnavailable(f"HTTP {response.status_code}")
        if not response.is_success:
            raise WechatApiError(-response.status_code, f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise WechatUnavailable("answer is not JSON") from exc
        if not isinstance(body, dict):
            raise WechatUnavailable("answer is not a JSON object")
        errcode = body.get("errcode", 0)
        if errcode == -1:
            raise WechatUnavailable(f"errcode -1: {body.get('errmsg', 'system busy')}")
        if errcode:
            raise WechatApiError(int(errcode), str(body.get("errmsg", "")))
        return body

    def _call(self, method: str, path: str, **kwargs) -> dict:  # noqa: ANN003
        try:
            response = self.client.request(method, f"{self.api_base}{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise WechatUnavailable(f"{exc.__class__.__name__}: {exc}") from exc
        return self._answer(response)

    def exchange_code(self, code: str) -> str:
        """The openid behind an OAuth code (sns/oauth2/access_token); each code works once."""
        body = self._call("GET", "/sns/oauth2/access_token", params={
            "appid": self.app_id, "secret": self.app_secret, "code": code, "grant_type": "authorization_code"})
        openid = body.get("openid")
        if not isinstance(openid, str) or not openid or len(openid) > 64:
            raise WechatApiError(0, "no openid in the answer")
        return openid

    def fetch_access_token(self) -> AccessToken:
        """A new API access token (cgi-bin/token); the previous one stops working soon after."""
        body = self._call("GET", "/cgi-bin/token", params={
            "grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret})
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise WechatUnavailable("no access_token in the answer")
        return AccessToken(token=token, expires_in=int(body.get("expires_in", 7200)))

    def send_template(self, access_token: str, message: dict) -> str:
        """Send a template message; returns WeChat's msgid."""
        # Chinese as UTF-8, not \u escapes: what WeChat's documentation shows.
        body = self._call("POST", "/cgi-bin/message/template/send", params={"access_token": access_token},
                          content=json.dumps(message, ensure_ascii=False).encode(),
                          headers={"Content-Type": "application/json; charset=utf-8"})
        return str(body.get("msgid", ""))

    def close(self) -> None:
        self.client.close()


def client_from_settings(settings: Settings, *, transport: httpx.BaseTransport | None = None) -> WechatClient | None:
    if not settings.wechat_enabled:
        return None
    return WechatClient(api_base=settings.wechat_api_base, app_id=settings.wechat_app_id,
                        app_secret=settings.wechat_app_secret, timeout=settings.wechat_timeout, transport=transport)
