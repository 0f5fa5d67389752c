"""A simulated WeChat official-account API over real HTTP.

Started with `orderdesk simulate-wechat`; the demo and the tests point
WECHAT_API_BASE and WECHAT_OAUTH_BASE at it, so the real client code runs.

- GET  /connect/oauth2/authorize       WeChat's authorisation page: redirects at once to redirect_uri
                                       with a one-time code and the state. The user is `?sim_openid=`
                                       if given, else the current device's openid (see /_sim/openid).
- GET  /sns/oauth2/access_token        code -> openid (each code once, for 5 minutes)
- GET  /cgi-bin/token                  a new API access token (the previous one keeps working for
                                       5 minutes, as WeChat does)
- POST /cgi-bin/message/template/send  records the message (errcode 40001 for an unknown token,
                                       42001 for an expired one, 43004 for an unsubscribed openid)
- GET  /_sim/messages                  the messages received, oldest first
- GET  /_sim/state                     counters per endpoint, the tokens issued
- POST /_sim/fail?endpoint=E&count=N[&errcode=C][&status=S]
                                       the next N calls of E (authorize, oauth, token, send) fail:
                                       with HTTP S (default 503), or HTTP 200 and errcode C
- POST /_sim/slow?endpoint=E&seconds=S  calls of E answer after S seconds (0: at once again)
- POST /_sim/openid?openid=O           the openid of the "device" from now on
- POST /_sim/unsubscribe?openid=O     that user unfollowed the account: messages to them are refused
- POST /_sim/expire-tokens             every token issued so far stops working (errcode 42001)
- POST /_sim/reset                     forget messages, codes, tokens and failures

GET works for the /_sim/ controls too, so a person can use them from a browser.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

from litestar import Litestar, MediaType, Request, Response, get, route
from litestar.response import Redirect

ENDPOINTS = ("authorize", "oauth", "token", "send")
CODE_TTL = 300
OLD_TOKEN_GRACE = 300


def default_openid(app_id: str) -> str:
    """WeChat openids are 28 characters, stable per user and official account."""
    return "o" + hashlib.sha256(f"sim-device:{app_id}".encode()).hexdigest()[:27]


@dataclass
class Failure:
    count: int
    status: int = 503
    errcode: int | None = None


@dataclass
class WechatState:
    app_id: str
    app_secret: str
    token_ttl: int = 7200
    device_openid: str = ""
    codes: dict[str, tuple[str, float]] = field(default_factory=dict)  # code -> (openid, expires)
    used_codes: set[str] = field(default_factory=set)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expires (monotonic)
    unsubscribed: set[str] = field(default_factory=set)
    messages: list[dict] = field(default_factory=list)
    failures: dict[str, Failure] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENDPOINTS, 0))
    failed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENDPOINTS, 0))
    delays: dict[str, float] = field(default_factory=dict)

    async def misbehave(self, endpoint: str) -> Response | None:
        self.calls[endpoint] += 1
        if self.delays.get(endpoint):
            await asyncio.sleep(self.delays[endpoint])
        failure = self.failures.get(endpoint)
        if failure is None or failure.count <= 0:
            return None
        failure.count -= 1
        self.failed[endpoint] += 1
        if failure.errcode is not None:
            return Response({"errcode": failure.errcode, "errmsg": "simulated failure"}, status_code=200)
        return Response({"message": "simulated outage"}, status_code=failure.status)


def _error(errcode: int, errmsg: str) -> Response:
    return Response({"errcode": errcode, "errmsg": errmsg}, status_code=200, media_type=MediaType.JSON)


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = (parts.query + "&" if parts.query else "") + urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def create_wechat_simulator(*, app_id: str, app_secret: str, openid: str | None = None, token_ttl: int = 7200,
                            failures: dict[str, int] | None = None) -> Litestar:
    state = WechatState(app_id=app_id, app_secret=app_secret, token_ttl=token_ttl,
                        device_openid=openid or default_openid(app_id))
    for endpoint, count in (failures or {}).items():
        state.failures[endpoint] = Failure(count=count)

    @get("/connect/oauth2/authorize", media_type=MediaType.TEXT)
    async def authorize(request: Request) -> Response:
        refusal = await state.misbehave("authorize")
        if refusal is not None:
            return refusal
        query = request.query_params
        redirect_uri = query.get("redirect_uri", "")
        if query.get("appid") != state.app_id:
            return Response("appid 错误 (simulated: unknown appid)", status_code=400, media_type=MediaType.TEXT)
        if urlsplit(redirect_uri).scheme not in ("http", "https") or query.get("response_type") != "code" \
                or query.get("scope") not in ("snsapi_base", "snsapi_userinfo"):
            return Response("redirect_uri 参数错误 (simulated: bad request)", status_code=400,
                            media_type=MediaType.TEXT)
        openid = query.get("sim_openid") or state.device_openid
        code = secrets.token_hex(16)
        state.codes[code] = (openid, time.monotonic() + CODE_TTL)
        return Redirect(path=_with_query(redirect_uri, code=code, state=query.get("state", "")), status_code=302)

    @get("/sns/oauth2/access_token", media_type=MediaType.JSON)
    async def exchange(request: Request) -> Response:
        refusal = await state.misbehave("oauth")
        if refusal is not None:
            return refusal
        query = request.query_params
        if query.get("appid") != state.app_id:
            return _error(40013, "invalid appid")
        if query.get("secret") != state.app_secret:
            return _error(40125, "invalid appsecret")
        if query.get("grant_type") != "authorization_code":
            return _error(40002, "invalid grant_type")
        code = query.get("code", "")
        if code in state.used_codes:
            return _error(40163, "code been used")
        found = state.codes.pop(code, None)
        if found is None or found[1] < time.monotonic():
            return _error(40029, "invalid code")
        state.used_codes.add(code)
        openid = found[0]
        return Response({"access_token": secrets.token_hex(16), "expires_in": 7200,
                         "refresh_token": secrets.token_hex(16), "openid": openid, "scope": "snsapi_base"})

    @get("/cgi-bin/token", media_type=MediaType.JSON)
    async def token(request: Request) -> Response:
        refusal = await state.misbehave("token")
        if refusal is not None:
            return refusal
        query = request.query_params
        if query.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        if query.get("appid") != state.app_id or query.get("secret") != state.app_secret:
            return _error(40125, "invalid appsecret")
        now = time.monotonic()
        # A new token retires the others after a grace period.
        for old, expires in list(state.tokens.items()):
            state.tokens[old] = min(expires, now + OLD_TOKEN_GRACE)
        issued = "sim-" + secrets.token_hex(20)
        state.tokens[issued] = now + state.token_ttl
        return Response({"access_token": issued, "expires_in": state.token_ttl})

    @route("/cgi-bin/message/template/send", http_method=["POST"], media_type=MediaType.JSON, status_code=200)
    async def send(request: Request) -> Response:
        refusal = await state.misbehave("send")
        if refusal is not None:
            return refusal
        access_token = request.query_params.get("access_token", "")
        if access_token not in state.tokens:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if state.tokens[access_token] < time.monotonic():
            return _error(42001, "access_token expired")
        try:
            body = await request.json()
        except ValueError:
            return _error(47001, "data format error")
        if not isinstance(body, dict) or not body.get("touser") or not body.get("template_id") \
                or not isinstance(body.get("data"), dict):
            return _error(47001, "data format error")
        if body["touser"] in state.unsubscribed:
            return _error(43004, "require subscribe")
        msgid = len(state.messages) + 1
        state.messages.append({"msgid": msgid, **body})
        return Response({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    @get("/_sim/messages", media_type=MediaType.JSON)
    async def messages() -> list[dict]:
        return state.messages

    @get("/_sim/state", media_type=MediaType.JSON)
    async def show_state() -> dict:
        return {"calls": state.calls, "failed": state.failed, "tokens_issued": len(state.tokens),
                "messages": len(state.messages), "device_openid": state.device_openid,
                "failures_left": {e: f.count for e, f in state.failures.items()}}

    @route("/_sim/fail", http_method=["GET", "POST"], media_type=MediaType.JSON, status_code=200)
    async def fail(request: Request) -> Response:
        query = request.query_params
        endpoint = query.get("endpoint", "")
        if endpoint not in ENDPOINTS:
            return Response({"error": f"endpoint must be one of {', '.join(ENDPOINTS)}"}, status_code=400)
        errcode = query.get("errcode")
        state.failures[endpoint] = Failure(count=int(query.get("count", "1")), status=int(query.get("status", "503")),
                                           errcode=int(errcode) if errcode else None)
        return Response({"endpoint": endpoint, "failures_left": state.failures[endpoint].count})

    @route("/_sim/slow", http_method=["GET", "POST"], media_type=MediaType.JSON, status_code=200)
    async def slow(request: Request) -> Response:
        endpoint = request.query_params.get("endpoint", "")
        if endpoint not in ENDPOINTS:
            return Response({"error": f"endpoint must be one of {', '.join(ENDPOINTS)}"}, status_code=400)
        state.delays[endpoint] = float(request.query_params.get("seconds", "0"))
        return Response({"endpoint": endpoint, "seconds": state.delays[endpoint]})

    @route("/_sim/openid", http_method=["GET", "POST"], media_type=MediaType.JSON, status_code=200)
    async def set_openid(request: Request) -> dict:
        openid = request.query_params.get("openid")
        if openid:
            state.device_openid = openid[:64]
        return {"device_openid": state.device_openid}

    @route("/_sim/unsubscribe", http_method=["GET", "POST"], media_type=MediaType.JSON, status_code=200)
    async def unsubscribe(request: Request) -> dict:
        openid = request.query_params.get("openid", "")
        state.unsubscribed.add(openid)
        return {"unsubscribed": sorted(state.unsubscribed)}

    @route("/_sim/expire-tokens", http_method=["GET", "POST"], media_type=MediaType.JSON, status_code=200)
    async def expire_tokens() -> dict:
        past = time.monotonic() - 1
        for issued in state.tokens:
            state.tokens[issued] = past
        return {"expired": len(state.tokens)}

    @route("/_sim/reset", http_method=["GET", "POST"], media_type=MediaType.JSON, status_code=200)
    async def reset() -> dict:
        state.codes.clear()
        state.used_codes.clear()
        state.tokens.clear()
        state.messages.clear()
        state.failures.clear()
        state.unsubscribed.clear()
        state.delays.clear()
        state.calls.update(dict.fromkeys(ENDPOINTS, 0))
        state.failed.update(dict.fromkeys(ENDPOINTS, 0))
        return {"reset": True}

    return Litestar(route_handlers=[authorize, exchange, token, send, messages, show_state, fail, slow, set_openid,
                                    unsubscribe, expire_tokens, reset])
