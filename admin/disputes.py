"""Staff: the dispute workbench."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY

from admin.auth import current_staff, staff_actor
from core.config import Settings
from core.errors import DomainError, InvalidInput
from core.i18n import gettext
from core.models import DisputeStatus, DisputeType
from core.services.disputes import case_file
from core.services.disputes import cases as disputes
from core.services.disputes import evidence as dispute_evidence
from core.services.identity.permissions import Permission
from core.services.tracking import evidence
from core.storage import get_photo_storage
from core.web.deps import DB

P = Permission


@get("/disputes", name="admin_disputes", opt={"permission": P.VIEW_ORDER}, sync_to_thread=True)
def dispute_list(request: Request, db: DB, status: FromQuery[str] = "", kind: FromQuery[str] = "") -> Template:
    return Template(template_name="admin/disputes.html", context={
        "staff": current_staff(request), "board": disputes.board(db, staff_actor(request), status=status, kind=kind),
        "statuses": list(DisputeStatus), "kinds": list(DisputeType), "status": status, "kind": kind})


@post("/orders/{ref:str}/disputes", name="admin_dispute_open", opt={"permission": P.CREATE_DISPUTE},
      sync_to_thread=True)
def open_dispute(request: Request, db: DB, ref: FromPath[str], data: URLEncodedBody[dict[str, str]]) -> Response:
    try:
        dispute = disputes.open_dispute(db, staff_actor(request), ref, kind=data.get("kind", ""),
                                        claim=data.get("claim", ""), due_on=data.get("due_on", ""))
    except InvalidInput as exc:
        from admin.orders import _order_page

        return _order_page(request, db, current_staff(request), ref, status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                           dispute_error=exc.translated(), dispute_values=dict(data))
    return Redirect(path=f"/admin/disputes/{dispute.id}", status_code=HTTP_303_SEE_OTHER)


def _dispute_page(request: Request, db, dispute_id: int, *, status_code: int = 200, error: str | None = None,  # noqa: ANN001
                  reply_error: str | None = None, reply_value: str = "") -> Template:
    actor = staff_actor(request)
    case = case_file.for_staff(db, actor, dispute_id)
    settings: Settings = request.app.state.settings
    verdict = evidence.analyse(case.order)
    return Template(template_name="admin/dispute.html", status_code=status_code, context={
        "staff": current_staff(request), "dispute": case.dispute, "order": case.order, "pack": case.pack,
        "owner": case.owner, "next_states": case.next_states, "reports": case.reports, "replies": case.replies,
        "verdict": verdict, "verdict_lines": evidence.describe_verdict(verdict, gettext, settings.tz),
        "current_digest": evidence.verify_loaded(case.order).digest,
        "can_view_photos": actor.can(P.VIEW_CUSTOMER_PHOTOS), "error": error, "reply_error": reply_error,
        "reply_value": reply_value})


@get("/disputes/{dispute_id:int}", name="admin_dispute", opt={"permission": P.VIEW_ORDER}, sync_to_thread=True)
def dispute_page(request: Request, db: DB, dispute_id: FromPath[int]) -> Template:
    return _dispute_page(request, db, dispute_id)


@post("/disputes/{dispute_id:int}/evidence", name="admin_dispute_evidence", opt={"permission": P.CREATE_DISPUTE},
      sync_to_thread=True)
def generate_evidence(request: Request, db: DB, dispute_id: FromPath[int]) -> Response:
    dispute_evidence.generate_pack(db, request.app.state.settings, staff_actor(request), dispute_id)
    return Redirect(path=f"/admin/disputes/{dispute_id}", status_code=HTTP_303_SEE_OTHER)


@get("/disputes/{dispute_id:int}/evidence.pdf", name="admin_dispute_pack", opt={"permission": P.VIEW_ORDER},
     sync_to_thread=True)
def download_pack(request: Request, db: DB, dispute_id: FromPath[int]) -> Response:
    download = dispute_evidence.download_pack(db, request.app.state.settings, staff_actor(request), dispute_id)
    if download.pack is None:
        return Redirect(path=f"/admin/disputes/{dispute_id}", status_code=HTTP_303_SEE_OTHER)
    name = f"dispute-{dispute_id}-{download.order.ref}-{download.pack.digest[:8]}.pdf"
    return Response(content=download.pack.pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@post("/disputes/{dispute_id:int}/status", name="admin_dispute_status", opt={"permission": P.CREATE_DISPUTE},
      sync_to_thread=True)
def change_status(request: Request, db: DB, dispute_id: FromPath[int], data: URLEncodedBody[dict[str, str]]) -> Response:
    try:
        disputes.set_status(db, staff_actor(request), dispute_id, data.get("status", ""), data.get("note", ""))
    except InvalidInput as exc:
        return _dispute_page(request, db, dispute_id, status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                             error=exc.translated())
    except DomainError as exc:
        return _dispute_page(request, db, dispute_id, status_code=HTTP_409_CONFLICT, error=exc.translated())
    return Redirect(path=f"/admin/disputes/{dispute_id}", status_code=HTTP_303_SEE_OTHER)


@post("/disputes/{dispute_id:int}/reply", name="admin_dispute_reply", opt={"permission": P.CREATE_DISPUTE},
      sync_to_thread=True)
def reply_to_customer(request: Request, db: DB, dispute_id: FromPath[int],
                      data: URLEncodedBody[dict[str, str]]) -> Response:
    try:
        disputes.reply_to_customer(db, staff_actor(request), dispute_id, data.get("reply", ""))
    except InvalidInput as exc:
        return _dispute_page(request, db, dispute_id, status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                             reply_error=exc.translated(), reply_value=data.get("reply", ""))
    return Redirect(path=f"/admin/disputes/{dispute_id}", status_code=HTTP_303_SEE_OTHER)


@get("/disputes/{dispute_id:int}/photos/{photo_id:int}", name="admin_dispute_photo",
     opt={"permission": P.VIEW_CUSTOMER_PHOTOS}, sync_to_thread=True)
def dispute_photo(request: Request, db: DB, dispute_id: FromPath[int], photo_id: FromPath[int]) -> Response:
    photo = case_file.view_photo(db, staff_actor(request), dispute_id, photo_id,
                                 storage=get_photo_storage(request.app.state.settings))
    return Response(content=photo.content, media_type=photo.media_type,
                    headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline"})
