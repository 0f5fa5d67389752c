"""The shopper's orders: list, detail, terms, address change, hurry."""

from __future__ import annotations

from datetime import timedelta

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_303_SEE_OTHER,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from core.errors import InvalidInput
from core.i18n import gettext
from core.phones import national_digits
from core.services.disputes import problem_reports
from core.services.orders import for_customer as customer_orders
from core.services.orders import hurry
from core.services.orders.address_change import AddressChangeRefused, change_address
from core.services.orders.addresses import PROVINCES, AddressErrors, address_of
from core.services.orders.for_customer import FILTER_LABELS, OrderFilter
from core.web.deps import DB
from core.web.htmx import render, wants_fragment
from core.web.notify import deliver_soon
from portal.auth import require_phone, shopper

ADDRESS_FIELDS = ("recipient", "phone", "province", "city", "district", "street", "postal_code")


@get("/orders", name="orders", sync_to_thread=True)
def order_list(request: Request, db: DB, f: FromQuery[str] = "all", q: FromQuery[str] = "", page: FromQuery[int] = 1) -> Template:
    phone = require_phone(request, db)
    try:
        order_filter = OrderFilter(f)
    except ValueError:
        order_filter = OrderFilter.ALL
    result = customer_orders.list_orders(db, phone, order_filter=order_filter, query=q, page=page)
    return render(
        request, "portal/orders.html", "portal/_order_list.html",
        {"result": result, "filters": FILTER_LABELS, "signed_in": True},
    )


def _order_context(order, **extra) -> dict:  # noqa: ANN001
    return {
        "order": order,
        "address": address_of(order),
        "expected_delivery": customer_orders.expected_delivery(order),
        "late": customer_orders.is_late(order),
        "signed_in": True,
        **extra,
    }


def _cases(db, order) -> list:  # noqa: ANN001
    # Every report leaves a line in the order's history (already loaded): most order
    # pages have none and need no query for cases.
    if not any(entry.kind == "problem_reported" for entry in order.history):
        return []
    return problem_reports.cases_for_order(db, order.id)


@get("/orders/{ref:str}", name="order_detail", sync_to_thread=True)
def order_detail(request: Request, db: DB, ref: FromPath[str], done: FromQuery[str | None] = None) -> Template:
    phone = require_phone(request, db)
    order = customer_orders.get_customer_order(db, phone, ref)
    hurry_answer = hurry.last_answer(order.history, within=timedelta(minutes=10)) if done == "hurry" else None
    return Template(
        template_name="portal/order.html",
        context=_order_context(order, done=done, hurry_answer=hurry_answer,
                               problem_kinds=problem_reports.offered_kinds(order),
                               cases=_cases(db, order)),
    )


@get("/orders/{ref:str}/terms", name="order_terms", sync_to_thread=True)
def order_terms(request: Request, db: DB, ref: FromPath[str]) -> Template:
    phone = require_phone(request, db)
    order = customer_orders.get_customer_order(db, phone, ref)
    return Template(template_name="portal/order_terms.html", context={"order": order, "signed_in": True})


def _address_form(request: Request, order, values: dict[str, str], *, errors: dict[str, str] | None = None,  # noqa: ANN001
                  refusal: str | None = None, status_code: int = 200) -> Template:
    return render(
        request, "portal/address.html", "portal/_address_form.html",
        {**_order_context(order), "values": values, "errors": errors or {}, "refusal": refusal,
         "provinces": PROVINCES},
        status_code=status_code,
    )


@get("/orders/{ref:str}/address", name="order_address", sync_to_thread=True)
def address_form(request: Request, db: DB, ref: FromPath[str]) -> Template:
    phone = require_phone(request, db)
    order = customer_orders.get_customer_order(db, phone, ref)
    current = address_of(order).as_dict()
    current["phone"] = national_digits(current["phone"])
    return _address_form(request, order, current)


@post("/orders/{ref:str}/address", name="order_address_change", sync_to_thread=True, status_code=HTTP_200_OK)
def address_change(request: Request, db: DB, ref: FromPath[str], data: URLEncodedBody[dict[str, str]]) -> Response:
    phone = require_phone(request, db)
    order = customer_orders.get_customer_order(db, phone, ref)
    values = {key: data.get(key, "") for key in ADDRESS_FIELDS}
    try:
        changed = change_address(db, shopper(request, phone), ref, values)
    except AddressErrors as exc:
        errors = {field: gettext(message) for field, message in exc.errors.items()}
        return _address_form(request, order, values, errors=errors, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
    except AddressChangeRefused as exc:
        fresh = customer_orders.get_customer_order(db, phone, ref)
        return _address_form(request, fresh, values, refusal=exc.translated(), status_code=HTTP_409_CONFLICT)
    except InvalidInput as exc:
        return _address_form(request, order, values, errors={exc.field: exc.translated()},
                             status_code=HTTP_422_UNPROCESSABLE_ENTITY)
    confirmation = deliver_soon(request, changed.message_id)
    if wants_fragment(request):
        return Template(template_name="portal/_address_done.html",
                        context={**_order_context(order), "changed": changed}, background=confirmation)
    return Redirect(path=f"/orders/{ref}?done=address", status_code=HTTP_303_SEE_OTHER, background=confirmation)


@post("/orders/{ref:str}/hurry", name="order_hurry", sync_to_thread=True, status_code=HTTP_200_OK)
def hurry_order(request: Request, db: DB, ref: FromPath[str]) -> Response:
    phone = require_phone(request, db)
    answer = hurry.hurry(db, shopper(request, phone), ref)
    if wants_fragment(request):
        return Template(template_name="portal/_hurry_result.html", context={"hurry_answer": answer})
    return Redirect(path=f"/orders/{ref}?done=hurry", status_code=HTTP_303_SEE_OTHER)
