"""Staff: order search, the order page with its actions, evidence, export."""

from __future__ import annotations

import csv
import io
from datetime import date

from litestar import Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY

from admin.auth import current_staff, staff_actor
from core.config import Settings
from core.errors import DomainError, InvalidInput, NotFound
from core.i18n import gettext
from core.models import Carrier, DisputeType, Staff
from core.money import to_decimal
from core.rendering.jinja import localtime
from core.services.disputes import cases as disputes
from core.services.identity.permissions import Permission
from core.services.messaging import order_messages
from core.services.orders import for_customer as customer_orders
from core.services.orders import for_staff as admin_orders
from core.services.orders import shipping
from core.services.orders.address_change import AlreadyShipped, change_address
from core.services.orders.addresses import PROVINCES, AddressErrors, address_of, present
from core.services.tracking import evidence
from core.services.tracking.evidence_packs import pack_for_download
from core.services.triage import queue as triage_queue
from core.web.deps import DB
from core.web.htmx import render
from core.web.notify import deliver_soon

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


@get("/orders", name="admin_orders", opt={"permission": P.VIEW_ORDER}, sync_to_thread=True)
def order_search(request: Request, db: DB) -> Template:
    staff = current_staff(request)
    query = _query(request.query_params)
    results = admin_orders.search(db, staff_actor(request), query)
    return render(request, "admin/orders.html", "admin/_order_results.html",
                  {"staff": staff, "results": results, "query": query, "params": dict(request.query_params),
                   **admin_orders.search_filters(db)})


def _order_page(request: Request, db, staff: Staff, ref: str, *, status_code: int = 200,  # noqa: ANN001
                page: admin_orders.StaffOrderPage | None = None, **extra) -> Template:
    """The order page; without `page`, shown again after a refused action (read, not audited as a view)."""
    page = page or admin_orders.order_page(db, staff_actor(request), ref)
    order = page.order
    return Template(
        template_name="admin/order.html", status_code=status_code,
        context={"staff": staff, "order": order, "notes": page.notes, "reveal": page.revealed,
                 "shown": present(address_of(order), full=page.revealed),
                 "verdict": evidence.analyse(order), "verdict_lines": _verdict_lines(order, request),
                 "expected_delivery": customer_orders.expected_delivery(order), "disputes": disputes.for_order(db, order.id),
                 "carriers": list(Carrier), "provinces": PROVINCES, "dispute_kinds": [k.value for k in DisputeType],
                 "triage_tags": triage_queue.tags_of_order(db, order.id),
                 "messages": order_messages.messages_for_order(db, order.id), **extra},
    )


def _verdict_lines(order, request: Request) -> list[str]:  # noqa: ANN001
    settings: Settings = request.app.state.settings
    return evidence.describe_verdict(evidence.analyse(order), gettext, settings.tz)


@get("/orders/{ref:str}", name="admin_order", opt={"permission": P.VIEW_ORDER}, sync_to_thread=True)
def order_page(request: Request, db: DB, ref: FromPath[str]) -> Template:
    page = admin_orders.view_order(db, staff_actor(request), ref)
    return _order_page(request, db, current_staff(request), ref, page=page)


# Revealing writes its own audit entry: a POST with the CSRF token, never a link another site could send.
@post("/orders/{ref:str}/reveal", name="admin_order_reveal", opt={"permission": P.VIEW_FULL_PII},
      sync_to_thread=True, status_code=200)
def reveal_order(request: Request, db: DB, ref: FromPath[str]) -> Template:
    page = admin_orders.view_order(db, staff_actor(request), ref, reveal=True)
    shown = _order_page(request, db, current_staff(request), ref, page=page)
    # The address bar keeps the order's own URL (htmx): a reload is then a plain view, not a 405.
    shown.headers["HX-Push-Url"] = f"/admin/orders/{ref}"
    return shown


def _back_to_order(ref: str, anchor: str = "") -> Redirect:
    return Redirect(path=f"/admin/orders/{ref}{anchor}", status_code=HTTP_303_SEE_OTHER)


@post("/orders/{ref:str}/notes", name="admin_order_note", opt={"permission": P.ADD_NOTE}, sync_to_thread=True)
def add_note(request: Request, db: DB, ref: FromPath[str], data: URLEncodedBody[dict[str, str]]) -> Response:
    try:
        admin_orders.add_note(db, staff_actor(request), ref, data.get("body", ""))
    except InvalidInput as exc:
        return _order_page(request, db, current_staff(request), ref, status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                           note_error=exc.translated(), note_body=data.get("body", ""))
    return _back_to_order(ref)


@post("/orders/{ref:str}/address", name="admin_order_address", opt={"permission": P.CHANGE_ADDRESS},
      sync_to_thread=True)
def change_order_address(request: Request, db: DB, ref: FromPath[str], data: URLEncodedBody[dict[str, str]]) -> Response:
    staff = current_staff(request)
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
    try:
        shipping.mark_shipped(db, staff_actor(request), ref, carrier=data.get("carrier", ""),
                              tracking_no=data.get("tracking_no", ""))
    except NotFound:
        raise
    except InvalidInput as exc:
        return _order_page(request, db, current_staff(request), ref, status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                           action_error=exc.translated())
    except DomainError as exc:
        return _order_page(request, db, current_staff(request), ref, status_code=HTTP_409_CONFLICT,
                           action_error=exc.translated())
    return _back_to_order(ref)


@post("/orders/{ref:str}/cancel", name="admin_order_cancel", opt={"permission": P.CANCEL_ORDER},
      sync_to_thread=True)
def cancel_order(request: Request, db: DB, ref: FromPath[str], data: URLEncodedBody[dict[str, str]]) -> Response:
    try:
        admin_orders.cancel(db, staff_actor(request), ref, data.get("reason", ""))
    except NotFound:
        raise
    except DomainError as exc:  # no reason given, or the order has shipped
        return _order_page(request, db, current_staff(request), ref, status_code=HTTP_409_CONFLICT,
                           action_error=exc.translated())
    return _back_to_order(ref)


@get("/orders/{ref:str}/evidence.pdf", name="admin_order_evidence", opt={"permission": P.VIEW_ORDER},
     sync_to_thread=True)
def order_evidence(request: Request, db: DB, ref: FromPath[str]) -> Response:
    pack = pack_for_download(db, request.app.state.settings, staff_actor(request), ref)
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


# The export writes its own audit entry: a POST with the CSRF token (the list's button, then the
# confirmation with a reason for a large one), never a link another site could send.
@post("/orders/export", name="admin_orders_export", opt={"permission": P.EXPORT}, sync_to_thread=True,
      status_code=200)
def export_orders(request: Request, db: DB, data: URLEncodedBody[dict[str, str]]) -> Response:
    params = {k: v for k, v in data.items() if k not in ("reason", "_csrf_token")}
    reason = data.get("reason")  # None: not asked yet (the list's button)
    try:
        export = admin_orders.export(db, staff_actor(request), _query(params), filters=params, reason=reason)
    except admin_orders.ExportNeedsReason as exc:
        return Template(template_name="admin/export_confirm.html",
                        status_code=HTTP_422_UNPROCESSABLE_ENTITY if reason is not None else 200,
                        context={"staff": current_staff(request), "total": exc.total, "params": params,
                                 "error": exc.translated() if reason is not None else None})
    return _csv_response(orders_csv(export.results, full=export.full_pii), "orders.csv")


@post("/orders/{ref:str}/messages/{message_id:int}/resend", name="admin_order_message_resend",
      opt={"permission": P.RESEND_MESSAGE}, sync_to_thread=True)
def resend_message(request: Request, db: DB, ref: FromPath[str], message_id: FromPath[int]) -> Response:
    try:
        order_messages.resend(db, staff_actor(request), ref, message_id)
    except NotFound:
        raise
    except DomainError as exc:  # not a dead text (sent meanwhile, or a WeChat message)
        return _order_page(request, db, current_staff(request), ref, status_code=HTTP_409_CONFLICT,
                           message_error=exc.translated())
    return _back_to_order(ref, "#messages")
