"""Sign-in with a one-time SMS code, the customer session cookie, sign-out."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_303_SEE_OTHER,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from core.config import Settings
from core.db import Database
from core.errors import DomainError, InvalidInput
from core.i18n import N_, gettext
from core.phones import mask_phone
from core.services.actors import Actor
from core.services.identity import customer_sessions as sessions
from core.services.identity import phone_codes as verification
from core.services.identity import shopper_sign_in
from core.services.identity import wechat_login as wechat
from core.sms import get_sms_provider
from core.web.common import safe_next
from core.web.deps import DB
from core.web.htmx import render, wants_fragment
from core.wechat import in_wechat

CHALLENGE_MAX_AGE = 10 * 60


def session_cookie_name(settings: Settings) -> str:
    return "__Host-od_session" if settings.is_prod else "od_session"


def challenge_cookie_name(settings: Settings) -> str:
    return "__Host-od_login" if settings.is_prod else "od_login"


def wechat_state_cookie_name(settings: Settings) -> str:
    return "__Host-od_wx_state" if settings.is_prod else "od_wx_state"


def wechat_pending_cookie_name(settings: Settings) -> str:
    return "__Host-od_wx_pending" if settings.is_prod else "od_wx_pending"


def _cookie(settings: Settings, key: str, value: str, max_age: int | None) -> Cookie:
    return Cookie(key=key, value=value, max_age=max_age, path="/", httponly=True, samesite="lax",
                  secure=settings.is_prod)


def _expired(settings: Settings, key: str) -> Cookie:
    return _cookie(settings, key, "", 0)


class LoginRequired(HTTPException):
    """Raised by pages that need a verified phone; answered with a redirect to /login."""

    status_code = 401

    def __init__(self, next_path: str) -> None:
        super().__init__(detail="login required")
        self.next_path = next_path


def wechat_sign_in_applies(request: Request) -> bool:
    """Opened inside WeChat, and the merchant configured an official account."""
    settings: Settings = request.app.state.settings
    return settings.wechat_enabled and in_wechat(request.headers.get("user-agent"))


def login_required_handler(request: Request, exc: LoginRequired) -> Response:
    # Inside WeChat the visitor's openid is asked for first: a linked one signs in without a code.
    start = "/wechat/authorize?" if wechat_sign_in_applies(request) else "/login?"
    target = start + urlencode({"next": exc.next_path})
    if wants_fragment(request):
        return Response(content="", status_code=200, headers={"HX-Redirect": target})
    return Redirect(path=target, status_code=HTTP_303_SEE_OTHER)


def current_phone(request: Request, db: Database) -> str | None:
    settings: Settings = request.app.state.settings
    from datetime import timedelta

    return sessions.session_phone(
        db,
        request.cookies.get(session_cookie_name(settings)),
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_max_hours),
    )


def require_phone(request: Request, db: Database) -> str:
    phone = current_phone(request, db)
    if phone is None:
        if request.method == "GET":
            query = request.url.query
            target = request.url.path + (f"?{query}" if query else "")
        else:
            # After signing in, come back to the order page the form was on, not to the POST target.
            path = request.url.path
            target = path.rsplit("/", 1)[0] if path.count("/") > 2 else path
        raise LoginRequired(target)
    return phone


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def client_ip(request: Request) -> str:
    return _client_ip(request)


def shopper(request: Request, phone: str, *, via: str = "portal") -> Actor:
    """The signed-in shopper as the Actor of a use case."""
    return Actor.customer(phone, via=via, client_ip=_client_ip(request))


def portal_cookie(settings: Settings, key: str, value: str, max_age: int) -> Cookie:
    """A cookie of the portal (httponly, SameSite=Lax, Secure in prod); max_age 0 removes it."""
    return _cookie(settings, key, value, max_age)


def session_cookie(settings: Settings, token: str) -> Cookie:
    """The cookie that carries a new customer session."""
    return _cookie(settings, session_cookie_name(settings), token, settings.session_max_hours * 3600)


# Fixed messages chosen by a query parameter: nothing the link carries is shown as text.
LOGIN_NOTICES = {
    "wechat_unavailable": N_("WeChat sign-in is not available at the moment. Sign in with a code sent by "
                             "text message instead."),
}
WECHAT_LINK_NOTICE = N_("Verify your phone once: this WeChat account is then linked to it, and next time you "
                        "open your orders in WeChat you are signed in without a code.")


def _login_notice(request: Request, db: Database, key: str | None) -> str | None:
    if key in LOGIN_NOTICES:
        return gettext(LOGIN_NOTICES[key])
    settings: Settings = request.app.state.settings
    if settings.wechat_enabled and wechat.has_pending(db, request.cookies.get(wechat_pending_cookie_name(settings))):
        return gettext(WECHAT_LINK_NOTICE)
    return None


def _phone_form(request: Request, next_path: str, *, phone: str = "", error: str | None = None,
                status_code: int = 200, notice: str | None = None) -> Template:
    return render(
        request, "portal/login.html", "portal/_login_phone.html",
        {"next": next_path, "phone": phone, "error": error, "step": "phone", "notice": notice},
        status_code=status_code,
    )


def _code_form(request: Request, next_path: str, *, masked_phone: str, error: str | None = None,
               status_code: int = 200, cookies: list[Cookie] | None = None, notice: str | None = None) -> Template:
    response = render(
        request, "portal/login.html", "portal/_login_code.html",
        {"next": next_path, "masked_phone": masked_phone, "error": error, "step": "code", "notice": notice},
        status_code=status_code,
        headers={"HX-Push-Url": "/login/verify?" + urlencode({"next": next_path})} if wants_fragment(request) else None,
    )
    for cookie in cookies or []:
        response.cookies.append(cookie)
    return response


@get("/login", name="login", sync_to_thread=True)
def login_page(request: Request, db: DB, next: FromQuery[str | None] = None,  # noqa: A002
               notice: FromQuery[str | None] = None) -> Template:
    return _phone_form(request, safe_next(next, "/orders"), notice=_login_notice(request, db, notice))


def _send_code(request: Request, db: Database, raw_phone: str, next_path: str, *, resend: bool = False) -> Response:
    """Send a code; errors go back to the form the shopper is on (phone, or code when resending)."""
    settings: Settings = request.app.state.settings

    def refuse(exc: DomainError, status_code: int) -> Template:
        if resend:
            return _code_form(request, next_path, masked_phone=mask_phone(raw_phone), error=exc.translated(),
                              status_code=status_code)
        return _phone_form(request, next_path, phone=raw_phone, error=exc.translated(), status_code=status_code)

    try:
        sent = verification.request_code(
            db, get_sms_provider(settings), raw_phone=raw_phone, client_ip=_client_ip(request),
            secret=settings.secret_key, allowed_country_codes=settings.sms_allowed_country_codes,
        )
    except InvalidInput as exc:
        return refuse(exc, HTTP_422_UNPROCESSABLE_ENTITY)
    except verification.RateLimited as exc:
        response = refuse(exc, HTTP_429_TOO_MANY_REQUESTS)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except DomainError as exc:
        return refuse(exc, HTTP_503_SERVICE_UNAVAILABLE)
    cookie = _cookie(settings, challenge_cookie_name(settings), sent.challenge, CHALLENGE_MAX_AGE)
    if wants_fragment(request):
        return _code_form(request, next_path, masked_phone=sent.masked_phone, cookies=[cookie])
    return Redirect(path="/login/verify?" + urlencode({"next": next_path}), status_code=HTTP_303_SEE_OTHER,
                    cookies=[cookie])


@post("/login", name="login_send", sync_to_thread=True, status_code=HTTP_200_OK)
def login_send(request: Request, db: DB, data: URLEncodedBody[dict[str, str]]) -> Response:
    return _send_code(request, db, data.get("phone", ""), safe_next(data.get("next"), "/orders"))


def _pending(request: Request, db: Database) -> str | None:
    settings: Settings = request.app.state.settings
    challenge = request.cookies.get(challenge_cookie_name(settings))
    if not challenge:
        return None
    return verification.pending_phone(db, challenge=challenge, secret=settings.secret_key)


@get("/login/verify", name="login_verify_page", sync_to_thread=True)
def login_verify_page(request: Request, db: DB, next: FromQuery[str | None] = None) -> Response:  # noqa: A002
    next_path = safe_next(next, "/orders")
    phone = _pending(request, db)
    if phone is None:
        return Redirect(path="/login?" + urlencode({"next": next_path}), status_code=HTTP_303_SEE_OTHER)
    return _code_form(request, next_path, masked_phone=mask_phone(phone), notice=_login_notice(request, db, None))


@post("/login/verify", name="login_verify", sync_to_thread=True, status_code=HTTP_200_OK)
def login_verify(request: Request, db: DB, data: URLEncodedBody[dict[str, str]]) -> Response:
    settings: Settings = request.app.state.settings
    next_path = safe_next(data.get("next"), "/orders")
    challenge = request.cookies.get(challenge_cookie_name(settings)) or ""
    phone = _pending(request, db)
    if phone is None:
        return _phone_form(request, next_path, error=verification.CodeRejected(
            "This code has expired or was already used. Ask for a new one.").translated(),
            status_code=HTTP_422_UNPROCESSABLE_ENTITY)
    try:
        signed_in = shopper_sign_in.sign_in_with_code(
            db, shopper(request, phone), challenge=challenge, code=data.get("code", ""), secret=settings.secret_key,
            user_agent=request.headers.get("user-agent", ""),
            replaces=request.cookies.get(session_cookie_name(settings)),
            wechat_pending=request.cookies.get(wechat_pending_cookie_name(settings)),
        )
    except verification.RateLimited as exc:
        return _code_form(request, next_path, masked_phone=mask_phone(phone), error=exc.translated(),
                          status_code=HTTP_429_TOO_MANY_REQUESTS)
    except InvalidInput as exc:
        return _code_form(request, next_path, masked_phone=mask_phone(phone), error=exc.translated(),
                          status_code=HTTP_422_UNPROCESSABLE_ENTITY)
    cookies = [session_cookie(settings, signed_in.session_token), _expired(settings, challenge_cookie_name(settings))]
    # This browser came from WeChat with an openid not linked yet: the code just verified linked it.
    if request.cookies.get(wechat_pending_cookie_name(settings)):
        cookies.append(_expired(settings, wechat_pending_cookie_name(settings)))
        if signed_in.wechat_link == wechat.BindResult.TAKEN:
            next_path = "/account?" + urlencode({"notice": "wechat_taken", "next": next_path})
    if wants_fragment(request):
        return Response(content="", headers={"HX-Redirect": next_path}, cookies=cookies)
    return Redirect(path=next_path, status_code=HTTP_303_SEE_OTHER, cookies=cookies)


@post("/login/resend", name="login_resend", sync_to_thread=True, status_code=HTTP_200_OK)
def login_resend(request: Request, db: DB, data: URLEncodedBody[dict[str, str]]) -> Response:
    next_path = safe_next(data.get("next"), "/orders")
    phone = _pending(request, db)
    if phone is None:
        return Redirect(path="/login?" + urlencode({"next": next_path}), status_code=HTTP_303_SEE_OTHER)
    return _send_code(request, db, phone, next_path, resend=True)


@post("/logout", name="logout", sync_to_thread=True, status_code=HTTP_200_OK)
def logout(request: Request, db: DB) -> Redirect:
    settings: Settings = request.app.state.settings
    sessions.end_session(db, request.cookies.get(session_cookie_name(settings)))
    return Redirect(path="/", status_code=HTTP_303_SEE_OTHER,
                    cookies=[_expired(settings, session_cookie_name(settings))])
