"""Report a problem with an order (not received, damaged, wrong item, late), and the
shopper's own photos of it."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_303_SEE_OTHER,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
)

from core.config import Settings
from core.services.disputes import problem_reports
from core.services.disputes.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, Upload
from core.services.disputes.problem_reports import ReportErrors, TooManyReports
from core.services.orders import for_customer as customer_orders
from core.services.tracking.evidence_packs import build_pack
from core.storage import get_photo_storage
from core.web.deps import DB
from core.web.htmx import render, wants_fragment
from portal.auth import require_phone, shopper

# Room for every photo at its limit plus the text fields; each file is checked on its own.
REPORT_BODY_LIMIT = MAX_PHOTOS * MAX_PHOTO_BYTES + 1024 * 1024
# Read at most one byte past the per-file limit: enough to know it is too big.
_READ_LIMIT = MAX_PHOTO_BYTES + 1


def _form(request: Request, order, values: dict[str, str], *, errors: dict[str, str] | None = None,  # noqa: ANN001
          refusal: str | None = None, status_code: int = HTTP_200_OK) -> Template:
    return render(request, "portal/problem.html", "portal/_problem_form.html", {
        "order": order, "values": values, "errors": errors or {}, "refusal": refusal,
        "kinds": problem_reports.offered_kinds(order), "max_photos": MAX_PHOTOS,
        "max_mb": MAX_PHOTO_BYTES // (1024 * 1024), "signed_in": True,
    }, status_code=status_code)


@get("/orders/{ref:str}/problem", name="order_problem", sync_to_thread=True)
def problem_form(request: Request, db: DB, ref: FromPath[str], kind: FromQuery[str] = "") -> Template:
    phone = require_phone(request, db)
    order = customer_orders.get_customer_order(db, phone, ref)
    offered = problem_reports.offered_kinds(order)
    chosen = kind if kind in offered else (offered[0].value if len(offered) == 1 else "")
    return _form(request, order, {"kind": chosen, "description": ""})


def _uploads(data: dict[str, Any]) -> list[Upload]:
    files = data.get("photos", [])
    if not isinstance(files, list):
        files = [files]
    uploads = []
    for item in files:
        if isinstance(item, UploadFile):
            content = item.file.read(_READ_LIMIT)
            if item.filename or content:  # an empty file input still sends an empty part
                uploads.append(Upload(filename=item.filename or "", data=content))
    return uploads


@post("/orders/{ref:str}/problem", name="order_problem_submit", sync_to_thread=True, status_code=HTTP_200_OK,
      request_max_body_size=REPORT_BODY_LIMIT)
def problem_submit(request: Request, db: DB, ref: FromPath[str],
                   data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> Response:
    phone = require_phone(request, db)
    values = {"kind": str(data.get("kind", "")), "description": str(data.get("description", ""))}
    settings: Settings = request.app.state.settings
    try:
        outcome = problem_reports.report_problem(
            db, shopper(request, phone), ref, storage=get_photo_storage(settings), kind=values["kind"],
            description=values["description"], uploads=_uploads(data),
            evidence_pack=lambda r: build_pack(db, settings, r, audience="masked"))
    except ReportErrors as exc:
        return _form(request, customer_orders.get_customer_order(db, phone, ref), values,
                     errors=exc.translated_errors(), status_code=HTTP_422_UNPROCESSABLE_ENTITY)
    except TooManyReports as exc:
        return _form(request, customer_orders.get_customer_order(db, phone, ref), values, refusal=exc.translated(),
                     status_code=HTTP_429_TOO_MANY_REQUESTS)
    if wants_fragment(request):
        fresh = customer_orders.get_customer_order(db, phone, ref)
        return Template(template_name="portal/_problem_done.html", context={
            "order": fresh, "outcome": outcome, "cases": problem_reports.cases_for_order(db, fresh.id)})
    return Redirect(path=f"/orders/{ref}?done=problem#cases", status_code=HTTP_303_SEE_OTHER)


@get("/orders/{ref:str}/photos/{photo_id:int}", name="order_problem_photo", sync_to_thread=True)
def problem_photo(request: Request, db: DB, ref: FromPath[str], photo_id: FromPath[int]) -> Response:
    phone = require_phone(request, db)
    photo = problem_reports.customer_photo(db, shopper(request, phone), ref, photo_id,
                                           storage=get_photo_storage(request.app.state.settings))
    return Response(content=photo.content, media_type=photo.media_type,
                    headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline"})
