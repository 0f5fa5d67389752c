"""Staff: order search, the order page with its actions, evidence, export."""

from __future__ import annotations

import csv
import io
from datetime import date

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY

from admin.auth import client_ip, current_staff, staff_actor
from core.config import Settings
from core.errors import DomainError, InvalidInput, NotFound
from core.i18n import gettext
from core.models import Carrier, Channel, OrderStatus, Staff
from core.money import to_decimal
from core.rendering.jinja import localtime
from core.services.audit import trail as audit
from core.services.disputes import cases as disputes
from core.services.identity.permissions import Permission, can
from core.services.messaging import order_messages
from core.services.orders import for_customer as customer_orders
from core.services.orders import for_staff as admin_orders
from core.services.orders import lifecycle as order_service
from core.services.orders.address_change import AlreadyShipped, change_address
from core.services.orders.addresses import PROVINCES, AddressErrors, address_of, present
from core.services.tracking import evidence
from core.services.tracking.evidence_packs import pack_for_download
from core.services.triage import queue as triage_queue
from core.web.deps import DB
from core.web.htmx import render
from core.web.notify import deliver_soon

EXPORT_CONFIRM_OVER = 100
P = Permission


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _query(params) -> admin_orders.OrderQuery:  # noqa: ANN001
    warehouse = params.get("warehouse") or ""
    return admin_orders.OrderQuery(
        text=(params.get("q") or "")[:64], channel=params.get("channel") or "", status=params.get("status") or "",
        warehouse_id=int(warehouse) if warehouse.isdigit() else None, carrier=params.get("carrier") or "",
        placed_from=_date(params.get("from")), placed_to=_date(params.get("to")),
        page=int(params.get("page")) if (params.get("page") or "").isdigit() else 1,
    )


def _filters_context(db) -> dict:  # noqa: ANN001
    from sqlmodel import select

    from core.models import Warehouse

    with db.read() as session:
        warehouses = list(session.exec(select(Warehouse).order_by(Warehouse.code)).all())
    return {"channels": list(Channel), "statuses": list(OrderStatus), "carriers": list(Carrier),
            "warehouses": warehouses}


@get("/orders", name="admin_orders", opt={"permission": P.VIEW_ORDER}, sync_to_thread=True)
def order_search(request: Request, db: DB) -> Template:
    staff = current_staff(request)
    query = _query(request.query_params)
    results = admin_orders.search(db, staff, query)
    if query.text:
        audit.record(db, staff=staff, action="search", detail={"q": query.text, "hits": results.total},
                     client_ip=client_ip(request))
    return render(request, "admin/orders.html", "admin/_order_results.html",
                  {"staff": staff, "results": results, "query": query, "params": dict(request.query_params),
                   **_filters_context(db)})


def _order_page(request: Request, db, staff: Staff, ref: str, *, reveal: bool = False, status_code: int = 200,  # noqa: ANN001
                **extra) -> Template:
    order, notes = admin_orders.get_for_staff(db, staff, ref)
    return Template(
        template_name="admin/order.html", status_code=status_code,
        context={"staff": staff, "order": order, "notes": notes, "reveal": reveal,
                 "shown": present(address_of(order), full=reveal),
                 "verdict": evidence.analyse(order), "verdict_lines": _verdict_lines(order, request),
                 "expected_delivery": customer_orders.expected_delivery(order), "disputes": disputes.for_order(db, order.id),
                 "carriers": list(Carrier), "provinces": PROVINCES, "dispute_kinds": _dispute_kinds(),
                 "triage_tags": triage_queue.tags_of_order(db, order.id),
                 "messages": order_messages.messages_for_order(db, order.id), **extra},
    )


def _dispute_kinds() -> list[str]:
    from core.models import DisputeType

    return [k.value for k in DisputeType]


def _verdict_lines(order, request: Request) -> list[str]:  # noqa: ANN001
    settings: Settings = request.app.state.settings
    return evidence.describe_verdict(evidence.analyse(order), gettext, settings.tz)


@get("/orders/{ref:str}", name="admin_order", opt={"permission": P.VIEW_ORDER}, sync_to_thread=True)
def order_page(request: Request, db: DB, ref: FromPath[str], reveal: FromQuery[bool] = False) -> Template:
    staff = current_staff(request)
    reveal = reveal and can(staff.role, P.VIEW_FULL_PII)
    page = _order_page(request, db, staff, ref, reveal=reveal)
    audit.record(db, staff=staff, action="reveal" if reveal else "view_order", order_ref=ref,
                 client_ip=client_ip(request))
    return page


@post("/orders/{ref:str}/notes", name="admin_order_note", opt={"permission": P.ADD_NOTE}, sync_to_thread=True)
def add_note(request: Request, db: DB, ref: FromPath[str], data: URLEncodedBody[dict[str, str]]) -> Response:
    staff = current_staff(request)
    admin_orders.get_for_staff(db, staff, ref)
    try:
        admin_orders.add_note(db, staff, ref, data.get("body", ""))
    except InvalidInput as exc:
        return _order_page(request, db, staff, ref, status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                           note_error=exc.translated(), note_body=data.get("body", ""))
    audit.record(db, staff=staff, action="add_note", order_ref=ref, client_ip=client_ip(request))
    return Redirect(path=f"/admin/orders/{ref}", status_code=HTTP_303_SEE_OTHER)


@post("/orders/{ref:str}/address", name="admin_order_address", opt={"permission": P.CHANGE_ADDRESS},
      sync_to_thread=True)
def change_order_address(request: Request, db: DB, ref: FromPath[str], data: URLEncodedBody[dict[str, str]]) -> Response:
    staff = current_staff(request)
    admin_orders.get_for_staff(db, staff, ref)
    fields = ("recipient", "phone", "province", "city", "district", "street", "postal_code")
    values = {key: data.get(key, "") for key in fields}
    try:
        changed = change_address(db, staff_actor(request), ref, values)
    except AddressErrors as exc:
        return _order_page(request, db, staff, ref, status_code=HTTP_422_UNPROCESSABLE_ENTITY, address_values=values,
                           address_errors={k: gettext(v) for k, v in exc.errors.items()})
    except AlreadyShipped as exc:
        return _order_page(request, db, staff, ref, status_code=HTTP_409_CONFLICT, action_error=exc.translated())
    except InvalidInput as exc:
        return _order_page(request, db, staff, ref, status_code=HTTP_422_UNPROCESSABLE_ENTITY, address_values=values,
                           address_errors={exc.field: exc.translated()})
    return Redirect(path=f"/admin/orders/{ref}", status_code=HTTP_303_SEE_OTHER,
                    background=deliver_soon(request, changed.message_id))


@post("/orders/{ref:str}/ship", name="admin_order_ship", opt={"permission": P.MARK_SHIPPED}, sync_to_thread=True)
def mark_shipped(request: Request, db: DB, ref: FromPath[str], data: URLEncodedBody[dict[str, str]]) -> Response:
    staff = current_staff(request)
    admin_orders.get_for_staff(db, staff, ref)
    carrier, tracking_no = data.get("carrier", ""), data.get("tracking_no", "").strip()
    if carrier not in set(Carrier) or not (4 <= len(tracking_no) <= 40):
        return _order_page(request, db, staff, ref, status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                           action_error=gettext("Choose the carrier and enter the tracking number."))
    try:
        order_service.mark_shipped(db, ref, carrier=carrier, tracking_no=tracking_no, actor=staff.email, via="admin")
    except DomainError as exc:
        return _order_page(request, db, staff, ref, status_code=HTTP_409_CONFLICT, action_error=exc.translated())
    audit.record(db, staff=staff, action="mark_shipped", order_ref=ref, client_ip=client_ip(request),
                 detail={"carrier": carrier, "tracking_no": tracking_no})
    return Redirect(path=f"/admin/orders/{ref}", status_code=HTTP_303_SEE_OTHER)


@post("/orders/{ref:str}/cancel", name="admin_order_cancel", opt={"permission": P.CANCEL_ORDER},
      sync_to_thread=True)
def cancel_order(request: Request, db: DB, ref: FromPath[str], data: URLEncodedBody[dict[str, str]]) -> Response:
    staff = current_staff(request)
    admin_orders.get_for_staff(db, staff, ref)
    try:
        admin_orders.cancel(db, staff, ref, data.get("reason", ""))
    except DomainError as exc:
        return _order_page(request, db, staff, ref, status_code=HTTP_409_CONFLICT, action_error=exc.translated())
    audit.record(db, staff=staff, action="cancel_order", order_ref=ref, client_ip=client_ip(request),
                 detail={"reason": data.get("reason", "")[:200]})
    return Redirect(path=f"/admin/orders/{ref}", status_code=HTTP_303_SEE_OTHER)


@get("/orders/{ref:str}/evidence.pdf", name="admin_order_evidence", opt={"permission": P.VIEW_ORDER},
     sync_to_thread=True)
def order_evidence(request: Request, db: DB, ref: FromPath[str]) -> Response:
    staff = current_staff(request)
    admin_orders.get_for_staff(db, staff, ref)
    settings: Settings = request.app.state.settings
    audience = "staff" if can(staff.role, P.VIEW_FULL_PII) else "masked"
    pack = pack_for_download(db, settings, ref, audience=audience, actor=staff.email, via="admin",
                             client_ip=client_ip(request))
    audit.record(db, staff=staff, action="evidence_download", order_ref=ref, client_ip=client_ip(request),
                 detail={"digest": pack.digest, "audience": audience})
    return Response(content=pack.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="evidence-{ref}-{pack.digest[:8]}.pdf"'})


# --- export -------------------------------------------------------------------------------------


def orders_csv(results: admin_orders.OrderResults, *, full: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["order_ref", "channel", "channel_order_no", "status", "placed_at", "paid_at", "total",
                     "currency", "recipient", "phone", "address", "carrier", "tracking_no"])
    for order in results.orders:
        shown = present(address_of(order), full=full)
        shipment = order.shipments[0] if order.shipments else None
        writer.writerow([
            order.ref, order.channel, order.channel_order_no, order.status, localtime(order.created_at, "full"),
            localtime(order.paid_at, "full"), str(to_decimal(order.total_minor, order.currency)), order.currency,
            shown["recipient"], shown["phone"], shown["address"], shipment.carrier if shipment else "",
            shipment.tracking_no if shipment else "",
        ])
    # UTF-8 with a BOM so that Excel opens the Chinese text correctly.
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def _csv_response(content: bytes, name: str) -> Response:
    return Response(content=content, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@get("/orders/export", name="admin_orders_export", opt={"permission": P.EXPORT}, sync_to_thread=True)
def export_orders(request: Request, db: DB) -> Response:
    staff = current_staff(request)
    query = _query(request.query_params)
    results = admin_orders.search(db, staff, query, limit=None)
    if results.total > EXPORT_CONFIRM_OVER:
        return Template(template_name="admin/export_confirm.html",
                        context={"staff": staff, "total": results.total, "params": dict(request.query_params),
                                 "error": None})
    full = can(staff.role, P.VIEW_FULL_PII)
    audit.record(db, staff=staff, action="export", client_ip=client_ip(request),
                 detail={"rows": results.total, "filters": dict(request.query_params), "full_pii": full})
    return _csv_response(orders_csv(results, full=full), "orders.csv")


@post("/orders/export", name="admin_orders_export_confirm", opt={"permission": P.EXPORT}, sync_to_thread=True,
      status_code=200)
def export_orders_confirmed(request: Request, db: DB, data: URLEncodedBody[dict[str, str]]) -> Response:
    staff = current_staff(request)
    params = {k: v for k, v in data.items() if k not in ("reason", "_csrf_token")}
    reason = data.get("reason", "").strip()
    results = admin_orders.search(db, staff, _query(params), limit=None)
    if len(reason) < 2:
        return Template(template_name="admin/export_confirm.html", status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                        context={"staff": staff, "total": results.total, "params": params,
                                 "error": gettext("Say why you need this export.")})
    full = can(staff.role, P.VIEW_FULL_PII)
    audit.record(db, staff=staff, action="export", client_ip=client_ip(request),
                 detail={"rows": results.total, "filters": params, "reason": reason[:500], "full_pii": full})
    return _csv_response(orders_csv(results, full=full), "orders.csv")


@post("/orders/{ref:str}/messages/{message_id:int}/resend", name="admin_order_message_resend",
      opt={"permission": P.RESEND_MESSAGE}, sync_to_thread=True)
def resend_message(request: Request, db: DB, ref: FromPath[str], message_id: FromPath[int]) -> Response:
    staff = current_staff(request)
    order, _notes = admin_orders.get_for_staff(db, staff, ref)
    try:
        order_messages.resend(db, order.id, message_id)
    except NotFound:
        raise
    except DomainError as exc:  # not a dead text (sent meanwhile, or a WeChat message)
        return _order_page(request, db, staff, ref, status_code=HTTP_409_CONFLICT, message_error=exc.translated())
    audit.record(db, staff=staff, action="resend_message", order_ref=ref, client_ip=client_ip(request),
                 detail={"message": message_id})
    return Redirect(path=f"/admin/orders/{ref}#messages", status_code=HTTP_303_SEE_OTHER)
