"""Staff: the dispute workbench."""

from __future__ import annotations

from datetime import datetime, time

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY

from admin.auth import client_ip, current_staff, staff_actor
from core.config import Settings
from core.errors import DomainError, InvalidInput
from core.i18n import gettext
from core.models import DisputeStatus, DisputeType
from core.services.audit import trail as audit
from core.services.disputes import cases as disputes
from core.services.disputes import evidence as dispute_evidence
from core.services.disputes import problem_reports
from core.services.identity.permissions import Permission, can
from core.services.identity.staff import list_staff
from core.services.orders import for_staff as admin_orders
from core.services.orders import lifecycle as order_service
from core.services.tracking import evidence
from core.storage import PhotoNotFound, get_photo_storage
from core.web.deps import DB

P = Permission


@get("/disputes", name="admin_disputes", opt={"permission": P.VIEW_ORDER}, sync_to_thread=True)
def dispute_list(request: Request, db: DB, status: FromQuery[str] = "", kind: FromQuery[str] = "") -> Template:
    return Template(template_name="admin/disputes.html", context={
        "staff": current_staff(request), "board": disputes.board(db, status=status, kind=kind),
        "statuses": list(DisputeStatus), "kinds": list(DisputeType), "status": status, "kind": kind,
        "now": datetime.now().astimezone()})


@post("/orders/{ref:str}/disputes", name="admin_dispute_open", opt={"permission": P.CREATE_DISPUTE},
      sync_to_thread=True)
def open_dispute(request: Request, db: DB, ref: FromPath[str], data: URLEncodedBody[dict[str, str]]) -> Response:
    staff = current_staff(request)
    admin_orders.get_for_staff(db, staff, ref)
    settings: Settings = request.app.state.settings
    due = None
    if data.get("due_on"):
        try:
            due = datetime.combine(datetime.fromisoformat(data["due_on"]).date(), time(18, 0), settings.tz)
        except ValueError:
            due = None
    try:
        dispute = disputes.open_dispute(db, staff, ref, kind=data.get("kind", ""), claim=data.get("claim", ""),
                                        due_at=due)
    except InvalidInput as exc:
        from admin.orders import _order_page

        return _order_page(request, db, staff, ref, status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                           dispute_error=exc.translated(), dispute_values=dict(data))
    audit.record(db, staff=staff, action="open_dispute", order_ref=ref, client_ip=client_ip(request),
                 detail={"dispute": dispute.id, "kind": dispute.kind})
    return Redirect(path=f"/admin/disputes/{dispute.id}", status_code=HTTP_303_SEE_OTHER)


def _customer_side(db, dispute) -> dict:  # noqa: ANN001
    """The shopper's reports (text and photos, oldest first) and the replies they were sent."""
    import json

    photos: dict[int | None, list] = {}
    for photo in problem_reports.photos_of_dispute(db, dispute.id):
        photos.setdefault(photo.report_id, []).append(photo)
    reports = [(report, photos.get(report.id, [])) for report in problem_reports.reports_of_dispute(db, dispute.id)]
    replies = [(action, json.loads(action.detail).get("text", "")) for action in dispute.actions if action.kind == "reply"]
    return {"reports": reports, "replies": replies}


def _dispute_page(request: Request, db, dispute_id: int, *, status_code: int = 200, error: str | None = None,  # noqa: ANN001
                  reply_error: str | None = None, reply_value: str = "") -> Template:
    staff = current_staff(request)
    dispute, order, pack = disputes.get(db, dispute_id)
    admin_orders.get_for_staff(db, staff, order.ref)
    full_order = order_service.get_order(db, order.ref)
    settings: Settings = request.app.state.settings
    verdict = evidence.analyse(full_order)
    return Template(template_name="admin/dispute.html", status_code=status_code, context={
        "staff": staff, "dispute": dispute, "order": full_order, "pack": pack, "verdict": verdict,
        "verdict_lines": evidence.describe_verdict(verdict, gettext, settings.tz),
        "next_states": sorted(disputes.NEXT_STATES[DisputeStatus(dispute.status)]),
        "owners": {s.id: s for s in list_staff(db)}, "error": error,
        "current_digest": evidence.verify_loaded(full_order).digest,
        "can_view_photos": can(staff.role, P.VIEW_CUSTOMER_PHOTOS), "reply_error": reply_error,
        "reply_value": reply_value, **_customer_side(db, dispute)})


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
    staff = current_staff(request)
    dispute, order, _ = disputes.get(db, dispute_id)
    admin_orders.get_for_staff(db, staff, order.ref)
    try:
        disputes.set_status(db, staff, dispute_id, data.get("status", ""), data.get("note", ""))
    except InvalidInput as exc:
        return _dispute_page(request, db, dispute_id, status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                             error=exc.translated())
    except DomainError as exc:
        return _dispute_page(request, db, dispute_id, status_code=HTTP_409_CONFLICT, error=exc.translated())
    audit.record(db, staff=staff, action="dispute_status", order_ref=order.ref, client_ip=client_ip(request),
                 detail={"dispute": dispute_id, "status": data.get("status", "")})
    return Redirect(path=f"/admin/disputes/{dispute_id}", status_code=HTTP_303_SEE_OTHER)


@post("/disputes/{dispute_id:int}/reply", name="admin_dispute_reply", opt={"permission": P.CREATE_DISPUTE},
      sync_to_thread=True)
def reply_to_customer(request: Request, db: DB, dispute_id: FromPath[int],
                      data: URLEncodedBody[dict[str, str]]) -> Response:
    staff = current_staff(request)
    dispute, order, _ = disputes.get(db, dispute_id)
    admin_orders.get_for_staff(db, staff, order.ref)
    try:
        disputes.reply_to_customer(db, staff, dispute_id, data.get("reply", ""))
    except InvalidInput as exc:
        return _dispute_page(request, db, dispute_id, status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                             reply_error=exc.translated(), reply_value=data.get("reply", ""))
    audit.record(db, staff=staff, action="dispute_reply", order_ref=order.ref, client_ip=client_ip(request),
                 detail={"dispute": dispute_id})
    return Redirect(path=f"/admin/disputes/{dispute_id}", status_code=HTTP_303_SEE_OTHER)


@get("/disputes/{dispute_id:int}/photos/{photo_id:int}", name="admin_dispute_photo",
     opt={"permission": P.VIEW_CUSTOMER_PHOTOS}, sync_to_thread=True)
def dispute_photo(request: Request, db: DB, dispute_id: FromPath[int], photo_id: FromPath[int]) -> Response:
    staff = current_staff(request)
    dispute, order, _ = disputes.get(db, dispute_id)
    # The same scoping as the order itself (warehouse staff: their warehouse only).
    admin_orders.get_for_staff(db, staff, order.ref)
    photo = problem_reports.photo_of_dispute(db, dispute_id, photo_id)
    try:
        content = get_photo_storage(request.app.state.settings).get(photo.storage_key)
    except PhotoNotFound:
        from core.errors import NotFound

        raise NotFound("No such photo.") from None
    audit.record(db, staff=staff, action="photo_view", order_ref=order.ref, client_ip=client_ip(request),
                 detail={"dispute": dispute_id, "photo": photo_id})
    return Response(content=content, media_type=photo.media_type,
                    headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline"})
