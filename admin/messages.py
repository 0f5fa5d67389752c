"""Staff with MANAGE_MESSAGES: the texts customers receive, per event and language."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY

from admin.auth import current_staff, staff_actor
from core.errors import InvalidInput
from core.services.identity.permissions import Permission
from core.services.messaging import templates as message_templates
from core.web.deps import DB
from core.web.htmx import render

P = Permission


@get("/messages", name="admin_messages", opt={"permission": P.MANAGE_MESSAGES}, sync_to_thread=True)
def messages_page(request: Request, db: DB, saved: FromQuery[str] = "") -> Template:
    return Template(template_name="admin/messages.html", context={
        "staff": current_staff(request), "templates": message_templates.list_templates(db), "saved": saved})


def _editor(request: Request, view: message_templates.TemplateView, body: str, *, error: str = "",
            status_code: int = 200) -> Template:
    preview, segments = "", 0
    if not error:
        preview = message_templates.fill(body, message_templates.SAMPLE_VALUES)
        segments = message_templates.sms_segments(preview)
    return render(request, "admin/message.html", "admin/_message_form.html", {
        "staff": current_staff(request), "t": view, "body": body, "error": error, "preview": preview,
        "segments": segments, "placeholders": message_templates.placeholders(view.event),
        "default": message_templates.default_text(view.event, view.locale)}, status_code=status_code)


@get("/messages/{event:str}/{locale:str}", name="admin_message", opt={"permission": P.MANAGE_MESSAGES},
     sync_to_thread=True)
def message_page(request: Request, db: DB, event: FromPath[str], locale: FromPath[str]) -> Template:
    view = message_templates.get_template(db, event, locale)
    return _editor(request, view, view.body)


@post("/messages/{event:str}/{locale:str}/preview", name="admin_message_preview",
      opt={"permission": P.MANAGE_MESSAGES}, sync_to_thread=True, status_code=200)
def preview_message(request: Request, db: DB, event: FromPath[str], locale: FromPath[str],
                    data: URLEncodedBody[dict[str, str]]) -> Template:
    """Read-only: shows the text with sample values and its SMS count; saves nothing."""
    view = message_templates.get_template(db, event, locale)
    body = data.get("body", "")
    try:
        message_templates.validate(event, body)
    except InvalidInput as exc:
        return _editor(request, view, body, error=exc.translated(), status_code=HTTP_422_UNPROCESSABLE_ENTITY)
    return _editor(request, view, body)


@post("/messages/{event:str}/{locale:str}", name="admin_message_save", opt={"permission": P.MANAGE_MESSAGES},
      sync_to_thread=True)
def save_message(request: Request, db: DB, event: FromPath[str], locale: FromPath[str],
                 data: URLEncodedBody[dict[str, str]]) -> Response:
    body = data.get("body", "")
    try:
        message_templates.save_template(db, staff_actor(request), event, locale, body)
    except InvalidInput as exc:
        return _editor(request, message_templates.get_template(db, event, locale), body, error=exc.translated(),
                       status_code=HTTP_422_UNPROCESSABLE_ENTITY)
    return Redirect(path=f"/admin/messages?saved={event}.{locale}", status_code=HTTP_303_SEE_OTHER)


@post("/messages/{event:str}/{locale:str}/reset", name="admin_message_reset",
      opt={"permission": P.MANAGE_MESSAGES}, sync_to_thread=True)
def reset_message(request: Request, db: DB, event: FromPath[str], locale: FromPath[str]) -> Response:
    message_templates.reset_template(db, staff_actor(request), event, locale)
    return Redirect(path=f"/admin/messages?saved={event}.{locale}", status_code=HTTP_303_SEE_OTHER)
