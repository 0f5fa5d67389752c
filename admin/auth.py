"""Staff sign-in and the one guard every admin route passes through."""

from __future__ import annotations

from urllib.parse import urlencode

from anyio import to_thread
from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY

from core.config import Settings
from core.models import Staff
from core.services.actors import Actor
from core.services.identity import staff as staff_service
from core.services.identity.permissions import Permission, can
from core.web.common import safe_next
from core.web.deps import DB
from core.web.htmx import wants_fragment


def staff_cookie_name(settings: Settings) -> str:
    return "__Host-od_staff" if settings.is_prod else "od_staff"


class StaffLoginRequired(HTTPException):
    status_code = 401

    def __init__(self, next_path: str) -> None:
        super().__init__(detail="staff sign-in required")
        self.next_path = next_path


def staff_login_required_handler(request: Request, exc: StaffLoginRequired) -> Response:
    target = "/admin/login?" + urlencode({"next": exc.next_path})
    if wants_fragment(request):
        return Response(content="", headers={"HX-Redirect": target})
    return Redirect(path=target, status_code=HTTP_303_SEE_OTHER)


def forbidden_handler(request: Request, exc: PermissionDeniedException) -> Response:
    return Template(template_name="admin/forbidden.html", status_code=403,
                    context={"staff": getattr(request.state, "staff", None)})


async def staff_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Every admin route: a staff session, and the permission the route names in
    `opt={"permission": ...}`. Public routes (sign-in) say `opt={"public": True}`."""
    if handler.opt.get("public"):
        return
    app_state = connection.app.state
    token = connection.cookies.get(staff_cookie_name(app_state.settings))
    staff = await to_thread.run_sync(staff_service.session_staff, app_state.db, token)
    if staff is None:
        raise StaffLoginRequired(connection.url.path)
    connection.state.staff = staff
    permission: Permission | None = handler.opt.get("permission")
    if permission is not None and not can(staff.role, permission):
        raise PermissionDeniedException(detail=f"{staff.role} may not {permission.value}")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def current_staff(request: Request) -> Staff:
    return request.state.staff


def staff_actor(request: Request) -> Actor:
    """The signed-in staff member as the Actor of a use case."""
    return Actor.staff_member(request.state.staff, via="admin", client_ip=client_ip(request))


@get("/login", name="admin_login", opt={"public": True}, sync_to_thread=False)
def login_page(next: FromQuery[str | None] = None) -> Template:  # noqa: A002
    return Template(template_name="admin/login.html",
                    context={"next": safe_next(next, "/admin/"), "email": "", "error": None})


@post("/login", name="admin_login_post", opt={"public": True}, sync_to_thread=True)
def login(request: Request, db: DB, data: URLEncodedBody[dict[str, str]]) -> Response:
    settings: Settings = request.app.state.settings
    next_path = safe_next(data.get("next"), "/admin/")
    if not next_path.startswith("/admin"):
        next_path = "/admin/"
    try:
        signed_in = staff_service.sign_in(db, email=data.get("email", ""), password=data.get("password", ""),
                                          client_ip=client_ip(request),
                                          replaces=request.cookies.get(staff_cookie_name(settings)))
    except staff_service.LoginFailed as exc:
        return Template(template_name="admin/login.html", status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                        context={"next": next_path, "email": data.get("email", ""), "error": exc.translated()})
    cookie = Cookie(key=staff_cookie_name(settings), value=signed_in.session_token, path="/", httponly=True,
                    samesite="lax", secure=settings.is_prod, max_age=12 * 3600)
    return Redirect(path=next_path, status_code=HTTP_303_SEE_OTHER, cookies=[cookie])


@post("/logout", name="admin_logout", sync_to_thread=True)
def logout(request: Request, db: DB) -> Redirect:
    settings: Settings = request.app.state.settings
    staff_service.end_session(db, request.cookies.get(staff_cookie_name(settings)))
    return Redirect(path="/admin/login", status_code=HTTP_303_SEE_OTHER,
                    cookies=[Cookie(key=staff_cookie_name(settings), value="", path="/", max_age=0, httponly=True,
                                    samesite="lax", secure=settings.is_prod)])


