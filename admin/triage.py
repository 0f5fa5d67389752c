"""Staff: the triage queues, one per team, and working a tag (assign, reply, resolve)."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY

from admin.auth import current_staff, staff_actor
from core.errors import DomainError, InvalidInput, NotFound
from core.models import TriageQueue, TriageTag, utcnow
from core.services.identity.permissions import Permission
from core.services.identity.staff import list_staff
from core.services.orders.addresses import address_of, present
from core.services.triage import queue as triage_queue
from core.web.deps import DB
from core.web.htmx import render

P = Permission


def _queue_url(queue: str) -> str:
    return f"/admin/triage?queue={queue}"


@get("/triage", name="admin_triage", opt={"permission": P.WORK_TRIAGE}, sync_to_thread=True)
def triage_queue_page(request: Request, db: DB, queue: FromQuery[str] = "", tag: FromQuery[str] = "",
                      mine: FromQuery[str] = "", page: FromQuery[int] = 1) -> Template:
    staff = current_staff(request)
    queue = queue if queue in set(TriageQueue) else triage_queue.default_queue(staff)
    tag = tag if tag in set(TriageTag) else ""
    result = triage_queue.queue_page(db, staff, queue, tag=tag, mine=mine == "1", page=page)
    return render(request, "admin/triage.html", "admin/_triage_queue.html", {
        "staff": staff, "result": result, "queues": list(TriageQueue), "tags": list(TriageTag),
        "params": {"queue": queue, "tag": tag, "mine": mine if mine == "1" else ""}})


def _tag_page(request: Request, db, view: triage_queue.TagView, *, status_code: int = 200,  # noqa: ANN001
              reveal: bool = False, **extra) -> Template:
    """Personal data masked as everywhere in lists; a role that may see it in full reveals it
    on purpose (an audited use case), which also puts the name in the reply."""
    staff = current_staff(request)
    owners = [s for s in list_staff(db) if s.active or s.id == view.tag.owner_id]
    return Template(template_name="admin/triage_tag.html", status_code=status_code, context={
        "staff": staff, "view": view, "shown": present(address_of(view.order), full=reveal),
        "reply": triage_queue.reply_for(view, full_name=reveal), "now": utcnow(), "owners": owners,
        "owner": next((s for s in owners if s.id == view.tag.owner_id), None), "reveal": reveal, **extra})


def _refused(request: Request, db, tag_id: int, status_code: int, **extra) -> Template:  # noqa: ANN001
    """The tag page again, after the action was refused (and nothing was written)."""
    return _tag_page(request, db, triage_queue.get_tag(db, staff_actor(request), tag_id), status_code=status_code,
                     **extra)


@get("/triage/tags/{tag_id:int}", name="admin_triage_tag", opt={"permission": P.WORK_TRIAGE}, sync_to_thread=True)
def tag_page(request: Request, db: DB, tag_id: FromPath[int], replied: FromQuery[str] = "") -> Template:
    view = triage_queue.get_tag(db, staff_actor(request), tag_id)
    return _tag_page(request, db, view, replied=replied == "1")


# Revealing writes its own audit entry: a POST with the CSRF token, never a link another site could send.
@post("/triage/tags/{tag_id:int}/reveal", name="admin_triage_reveal", opt={"permission": P.VIEW_FULL_PII},
      sync_to_thread=True, status_code=200)
def reveal_tag(request: Request, db: DB, tag_id: FromPath[int]) -> Template:
    shown = _tag_page(request, db, triage_queue.reveal_tag(db, staff_actor(request), tag_id), reveal=True)
    # The address bar keeps the tag's own URL (htmx): a reload is then a plain view, not a 405.
    shown.headers["HX-Push-Url"] = f"/admin/triage/tags/{tag_id}"
    return shown


@post("/triage/tags/{tag_id:int}/resolve", name="admin_triage_resolve", opt={"permission": P.WORK_TRIAGE},
      sync_to_thread=True)
def resolve_tag(request: Request, db: DB, tag_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Response:
    resolution = data.get("resolution", "")
    try:
        tag = triage_queue.resolve_tag(db, staff_actor(request), tag_id, resolution)
    except InvalidInput as exc:
        return _refused(request, db, tag_id, HTTP_422_UNPROCESSABLE_ENTITY, resolve_error=exc.translated(),
                        resolution=resolution)
    except NotFound:
        raise
    except DomainError as exc:
        return _refused(request, db, tag_id, HTTP_409_CONFLICT, action_error=exc.translated())
    return Redirect(path=_queue_url(tag.queue), status_code=HTTP_303_SEE_OTHER)


@post("/triage/tags/{tag_id:int}/assign", name="admin_triage_assign", opt={"permission": P.WORK_TRIAGE},
      sync_to_thread=True)
def assign_tag(request: Request, db: DB, tag_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Response:
    actor = staff_actor(request)
    raw = data.get("owner", "")
    # "me", a staff id, or empty to unassign; anything else is refused by the service (-1).
    owner_id = actor.staff_id if raw == "me" else int(raw) if raw.isdigit() else None if raw == "" else -1
    try:
        triage_queue.assign_tag(db, actor, tag_id, owner_id)
    except InvalidInput as exc:
        return _refused(request, db, tag_id, HTTP_422_UNPROCESSABLE_ENTITY, assign_error=exc.translated())
    return Redirect(path=f"/admin/triage/tags/{tag_id}", status_code=HTTP_303_SEE_OTHER)


@post("/triage/tags/{tag_id:int}/reply", name="admin_triage_reply", opt={"permission": P.WORK_TRIAGE},
      sync_to_thread=True)
def send_reply(request: Request, db: DB, tag_id: FromPath[int]) -> Response:
    try:
        triage_queue.record_reply(db, staff_actor(request), tag_id)
    except InvalidInput as exc:
        return _refused(request, db, tag_id, HTTP_422_UNPROCESSABLE_ENTITY, reply_error=exc.translated())
    return Redirect(path=f"/admin/triage/tags/{tag_id}?replied=1", status_code=HTTP_303_SEE_OTHER)
