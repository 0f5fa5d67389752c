"""The shopper's account: the phone signed in, and the WeChat links they can remove."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from core.errors import NotFound
from core.i18n import N_, gettext
from core.services.identity import wechat_login as wechat
from core.web.common import safe_next
from core.web.deps import DB
from core.web.htmx import render, wants_fragment
from portal.auth import LoginRequired, client_ip, current_phone, require_phone

NOTICES = {
    "wechat_taken": ("warn", N_("You are signed in, but this WeChat account is already linked to another phone "
                                "number, so it was not linked to yours. That link stays as it is; whoever owns that "
                                "number can remove it on their account page.")),
    "unlinked": ("ok", N_("The WeChat link was removed. Inside WeChat you will be asked for a text message code "
                          "again.")),
}


def _account(request: Request, db, phone: str, *, notice: str | None = None, next_path: str | None = None):  # noqa: ANN001, ANN202
    settings = request.app.state.settings
    links = wechat.links_of(db, phone)
    kind, text = NOTICES.get(notice or "", (None, None))
    return render(
        request, "portal/account.html", "portal/_wechat_links.html",
        {"phone": phone, "links": links, "wechat_configured": settings.wechat_enabled, "signed_in": True,
         "notice_kind": kind, "notice": gettext(text) if text else None, "next": next_path},
    )


@get("/account", name="account", sync_to_thread=True)
def account_page(request: Request, db: DB, notice: FromQuery[str | None] = None,
                 next: FromQuery[str | None] = None) -> Template:  # noqa: A002
    phone = require_phone(request, db)
    return _account(request, db, phone, notice=notice, next_path=safe_next(next, "/orders") if next else None)


@post("/account/wechat/unlink", name="wechat_unlink", sync_to_thread=True, status_code=200)
def wechat_unlink(request: Request, db: DB, data: URLEncodedBody[dict[str, str]]) -> Template | Redirect:
    phone = current_phone(request, db)
    if phone is None:
        raise LoginRequired("/account")
    try:
        binding_id = int(data.get("binding", ""))
    except ValueError:
        raise NotFound(N_("This WeChat link does not exist.")) from None
    wechat.unlink(db, phone, binding_id, client_ip=client_ip(request))
    if wants_fragment(request):
        return _account(request, db, phone, notice="unlinked")
    return Redirect(path="/account?notice=unlinked", status_code=HTTP_303_SEE_OTHER)
