"""The push API: orders, shipments, statuses and stock levels from channels, ERPs
and warehouse systems. Every route is signed (api/common.py) and answers JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, post, put
from litestar.params import FromPath
from sqlmodel import Session

from api import schemas
from api.common import (
    MAX_BODY_BYTES,
    ApiError,
    caller_of,
    convert,
    decode_json,
    domain_field_errors,
    execute,
)
from core.errors import DomainError, InvalidInput
from core.i18n import interpolate
from core.models import OrderStatus, utcnow
from core.phones import normalize_phone
from core.services.channels import idempotency
from core.services.channels import push as api_push
from core.services.channels.api_keys import MAX_CLOCK_SKEW
from core.services.orders.addresses import AddressErrors, ShippingAddress, validate_address
from core.services.orders.lifecycle import NewLine, NewOrder
from core.services.stock import levels as stock_levels
from core.web.deps import DB

# A service's own words for a field, as the client's JSON names it.
_ORDER_FIELDS = {"amount": "discount_minor", "phone": "customer.phone", "customer_email": "customer.email"}


def _to_incoming(order: schemas.OrderIn, raw: dict, warehouses: dict[str, int], received_at: datetime):
    from core.services.channels.ingest import IncomingOrder

    errors: list[dict[str, str]] = []
    address: ShippingAddress | None = None
    try:
        address = validate_address({key: getattr(order.address, key) for key in (
            "recipient", "phone", "province", "city", "district", "street", "postal_code")}, strict=False)
    except AddressErrors as exc:
        errors += [{"field": f"address.{key}", "message": text} for key, text in exc.errors.items()]
    try:
        normalize_phone(order.customer.phone)
    except InvalidInput as exc:
        errors.append({"field": "customer.phone", "message": interpolate(exc.message, exc.params)})
    warehouse_id = None
    if order.warehouse_code is not None:
        warehouse_id = warehouses.get(order.warehouse_code)
        if warehouse_id is None:
            errors.append({"field": "warehouse_code", "message": f"unknown warehouse {order.warehouse_code}"})
    if errors:
        return None, errors
    new = NewOrder(
        channel=order.channel, channel_order_no=order.channel_order_no, customer_phone=order.customer.phone,
        customer_name=order.customer.name, customer_email=order.customer.email, address=address,
        lines=[NewLine(sku=line.sku, name=line.name, quantity=line.quantity, unit_price_minor=line.unit_price_minor)
               for line in order.lines],
        currency=order.currency, shipping_minor=order.shipping_minor, discount_minor=order.discount_minor,
        created_at=order.created_at, warehouse_id=warehouse_id, presale_ships_on=order.presale_ships_on,
    )
    return IncomingOrder(order=new, status=order.status, status_at=order.status_at or received_at,
                         paid_at=order.paid_at, paid_minor=order.paid_minor, raw=raw), []


def _identity(index: int, raw: Any) -> dict:
    known = raw if isinstance(raw, dict) else {}
    return {"index": index, "channel": known.get("channel"), "channel_order_no": known.get("channel_order_no")}


def _orders_in(payload: Any) -> tuple[list[Any], bool]:
    """One order object, or {"orders": [...]}."""
    if isinstance(payload, dict) and "orders" in payload:
        if set(payload) != {"orders"} or not isinstance(payload["orders"], list):
            raise ApiError(422, "invalid", "the body has errors",
                           [{"field": "orders", "message": "a list of orders, and nothing beside it"}])
        items = payload["orders"]
        if not items:
            raise ApiError(422, "invalid", "the body has errors", [{"field": "orders", "message": "no orders"}])
        if len(items) > schemas.MAX_ORDERS_PER_CALL:
            raise ApiError(413, "too_many_orders", f"at most {schemas.MAX_ORDERS_PER_CALL} orders per call",
                           [{"field": "orders", "message": f"{len(items)} orders sent"}])
        return items, True
    if isinstance(payload, dict):
        return [payload], False
    raise ApiError(422, "invalid", "the body has errors",
                   [{"field": "body", "message": 'an order object or {"orders": [...]}'}])


@post("/orders", name="api_push_orders", request_max_body_size=MAX_BODY_BYTES,
      opt={"scope": "orders:write", "body": schemas.OrdersIn | schemas.OrderIn, "reply": schemas.OrdersReply,
           "replies": {200: "every order accepted", 207: "some orders rejected (see results)",
                       422: "every order rejected"}})
async def push_orders(request: Request, db: DB) -> Response:
    """Create or update orders (one, or up to 500 in {"orders": [...]}). Each order is its
    own unit: the valid ones go in, each rejected one says which fields are wrong.
    Idempotent on (channel, channel_order_no); a status replaces the stored one only when
    its status_at is newer and the lifecycle allows the move."""
    caller = caller_of(request)
    items, batch = _orders_in(decode_json(await request.body()))
    parsed: list[tuple[schemas.OrderIn | None, list[dict[str, str]]]] = []
    for index, raw in enumerate(items):
        prefix = f"orders[{index}]." if batch else ""
        try:
            parsed.append((convert(raw, schemas.OrderIn, prefix), []))
        except ApiError as exc:
            parsed.append((None, exc.errors))
    received_at = utcnow()

    def action(session: Session) -> idempotency.Reply:
        from core.services.channels import ingest, ingest_batch

        warehouses = stock_levels.warehouses_by_code(session)
        results: list[dict] = []
        checked: list[tuple[int, Any, OrderStatus]] = []
        for index, raw in enumerate(items):
            order, errors = parsed[index]
            prefix = f"orders[{index}]." if batch else ""
            if order is not None:
                incoming, errors = _to_incoming(order, raw, warehouses, received_at)
                errors = [{"field": prefix + e["field"], "message": e["message"]} for e in errors]
                if incoming is not None:
                    try:
                        checked.append((index, *ingest.check_incoming(incoming)))
                        continue
                    except DomainError as exc:
                        errors = domain_field_errors(exc, prefix, _ORDER_FIELDS)
            results.append({**_identity(index, raw), "outcome": "rejected", "errors": errors})
        # Row locks in one order (channel, number) whatever the batch's order: two calls that
        # overlap on PostgreSQL queue behind each other instead of deadlocking.
        checked.sort(key=lambda item: (item[1].order.channel, item[1].order.channel_order_no, item[0]))
        try:
            # Checked orders cannot fail on their data: the whole batch in a few statements.
            with session.begin_nested():
                upserted = ingest_batch.upsert_orders(session, [(incoming, target) for _, incoming, target in checked],
                                                      via="api", actor=caller.actor)
            for (index, _, _), result in zip(checked, upserted, strict=True):
                results.append({**_identity(index, items[index]), "outcome": result.outcome, "ref": result.ref})
        except DomainError:
            # Should a rule still say no, each order on its own, so the others go in.
            for index, incoming, target in checked:
                prefix = f"orders[{index}]." if batch else ""
                try:
                    with session.begin_nested():
                        result = ingest.upsert_checked(session, incoming, target, via="api", actor=caller.actor)
                    results.append({**_identity(index, items[index]), "outcome": result.outcome, "ref": result.ref})
                except DomainError as exc:
                    results.append({**_identity(index, items[index]), "outcome": "rejected",
                                    "errors": domain_field_errors(exc, prefix, _ORDER_FIELDS)})
        results.sort(key=lambda result: result["index"])
        summary = {outcome: sum(r["outcome"] == outcome for r in results)
                   for outcome in ("new", "updated", "unchanged", "rejected")}
        status = 200 if not summary["rejected"] else 422 if summary["rejected"] == len(results) else 207
        return idempotency.Reply(status, {"results": results, "summary": summary})

    return await execute(request, db, action)


@post("/orders/{channel:str}/{channel_order_no:str}/shipments", name="api_push_shipment",
      request_max_body_size=MAX_BODY_BYTES,
      opt={"scope": "shipments:write", "body": schemas.ShipmentIn, "reply": schemas.ShipmentReply,
           "replies": {201: "the order is shipped", 200: "this hand-off was already recorded",
                       404: "no such order", 409: "the order is not paid, or already shipped otherwise"}})
async def push_shipment(request: Request, db: DB, channel: FromPath[str], channel_order_no: FromPath[str]) -> Response:
    """The warehouse handed the parcel to the carrier. Takes the same lock as the shopper's
    address change: whichever comes second is refused (a shipped order keeps its address)."""
    caller = caller_of(request)
    shipment_in = convert(decode_json(await request.body()), schemas.ShipmentIn)
    if shipment_in.shipped_at is not None and shipment_in.shipped_at > utcnow() + MAX_CLOCK_SKEW:
        raise ApiError(422, "invalid", "the body has errors",
                       [{"field": "shipped_at", "message": "shipped_at is in the future"}])

    def action(session: Session) -> idempotency.Reply:
        done = api_push.record_shipment(session, channel, channel_order_no, carrier=shipment_in.carrier,
                                        tracking_no=shipment_in.tracking_no, shipped_at=shipment_in.shipped_at,
                                        actor=caller.actor)
        shipment = done.shipment
        return idempotency.Reply(201 if done.outcome == "new" else 200, {
            "ref": done.order.ref, "status": done.order.status, "outcome": done.outcome,
            "shipment": {"carrier": shipment.carrier, "tracking_no": shipment.tracking_no,
                         "shipped_at": shipment.shipped_at.astimezone(UTC).isoformat()}})

    return await execute(request, db, action)


@post("/orders/{channel:str}/{channel_order_no:str}/status", name="api_push_status",
      request_max_body_size=MAX_BODY_BYTES,
      opt={"scope": "orders:write", "body": schemas.StatusIn, "reply": schemas.StatusReply,
           "replies": {200: "updated, or already in that status", 404: "no such order",
                       409: "the lifecycle does not allow this move"}})
async def push_status(request: Request, db: DB, channel: FromPath[str], channel_order_no: FromPath[str]) -> Response:
    """paid (reserves stock), cancelled (releases it), delivered or refunded, with the time it happened."""
    caller = caller_of(request)
    status_in = convert(decode_json(await request.body()), schemas.StatusIn)

    def action(session: Session) -> idempotency.Reply:
        done = api_push.report_status(session, channel, channel_order_no, status=OrderStatus(status_in.status),
                                      at=status_in.at, paid_minor=status_in.paid_minor, actor=caller.actor)
        return idempotency.Reply(200, {"ref": done.order.ref, "status": done.order.status, "outcome": done.outcome})

    return await execute(request, db, action)


@put("/stock", name="api_push_stock", request_max_body_size=MAX_BODY_BYTES,
     opt={"scope": "stock:write", "body": schemas.StockIn, "reply": schemas.StockReply,
          "replies": {200: "levels set", 422: "a level is invalid (nothing was changed)"}})
async def push_stock(request: Request, db: DB) -> Response:
    """Absolute stock levels per SKU and warehouse, all or nothing. A count below what paid
    orders hold takes units back from the most recently paid; a higher count fills paid
    orders that were short, oldest first."""
    stock_in = convert(decode_json(await request.body()), schemas.StockIn)

    def action(session: Session) -> idempotency.Reply:
        warehouses = stock_levels.warehouses_by_code(session)
        unknown = [{"field": f"levels[{i}].warehouse_code", "message": f"unknown warehouse {level.warehouse_code}"}
                   for i, level in enumerate(stock_in.levels) if level.warehouse_code not in warehouses]
        seen: dict[tuple[str, str], int] = {}
        for i, level in enumerate(stock_in.levels):
            if seen.setdefault((level.sku, level.warehouse_code), i) != i:
                unknown.append({"field": f"levels[{i}]", "message": "the same SKU and warehouse twice"})
        if unknown:
            return idempotency.Reply(422, {"error": "invalid", "message": "the body has errors", "errors": unknown})
        out: list[dict] = [{}] * len(stock_in.levels)
        # Stock rows locked in one order (warehouse, SKU), the reply in the request's order.
        for i in sorted(range(len(stock_in.levels)),
                        key=lambda i: (stock_in.levels[i].warehouse_code, stock_in.levels[i].sku)):
            level = stock_in.levels[i]
            result = stock_levels.set_level(session, sku=level.sku, warehouse_code=level.warehouse_code,
                                            warehouse_id=warehouses[level.warehouse_code], on_hand=level.on_hand)
            out[i] = {"sku": result.sku, "warehouse_code": result.warehouse_code, "on_hand": result.on_hand,
                      "reserved": result.reserved, "available": result.available,
                      "released_from": result.released_from, "reserved_for": result.reserved_for}
        return idempotency.Reply(200, {"levels": out})

    return await execute(request, db, action)


PUSH_HANDLERS = [push_orders, push_shipment, push_status, push_stock]
