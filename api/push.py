"""The push API: orders, shipments, statuses and stock levels from channels, ERPs
and warehouse systems. Every route is signed (api/common.py) and answers JSON."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from litestar import Request, Response, post, put
from litestar.params import FromPath

from api import schemas
from api.common import (
    MAX_BODY_BYTES,
    ApiError,
    answer_once,
    convert,
    decode_json,
    domain_field_errors,
    domain_reply,
    error_body,
    integration_actor,
)
from core.errors import DomainError
from core.i18n import interpolate
from core.models import OrderStatus
from core.services.channels import idempotency, push
from core.services.channels import push_orders as order_push
from core.services.channels.ingest import IncomingOrder
from core.services.orders.addresses import ShippingAddress
from core.services.orders.lifecycle import NewLine, NewOrder
from core.services.stock import levels as stock_levels
from core.web.deps import DB

# A service's own words for a field, as the client's JSON names it.
_ORDER_FIELDS = {"amount": "discount_minor", "phone": "customer.phone", "customer_phone": "customer.phone",
                 "customer_email": "customer.email"}


def _pushed(index: int, order: schemas.OrderIn, raw: dict) -> order_push.PushedOrder:
    """The order as its JSON says it; the services check the rest."""
    address = ShippingAddress(**{key: getattr(order.address, key) for key in (
        "recipient", "phone", "province", "city", "district", "street", "postal_code")})
    new = NewOrder(
        channel=order.channel, channel_order_no=order.channel_order_no, customer_phone=order.customer.phone,
        customer_name=order.customer.name, customer_email=order.customer.email, address=address,
        lines=[NewLine(sku=line.sku, name=line.name, quantity=line.quantity, unit_price_minor=line.unit_price_minor)
               for line in order.lines],
        currency=order.currency, shipping_minor=order.shipping_minor, discount_minor=order.discount_minor,
        created_at=order.created_at, presale_ships_on=order.presale_ships_on,
    )
    incoming = IncomingOrder(order=new, status=order.status, status_at=order.status_at, paid_at=order.paid_at,
                             paid_minor=order.paid_minor, raw=raw)
    return order_push.PushedOrder(index=index, incoming=incoming, warehouse_code=order.warehouse_code)


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
    items, batch = _orders_in(decode_json(await request.body()))
    pushed: list[order_push.PushedOrder] = []
    malformed: list[dict] = []
    for index, raw in enumerate(items):
        try:
            pushed.append(_pushed(index, convert(raw, schemas.OrderIn, f"orders[{index}]." if batch else ""), raw))
        except ApiError as exc:
            malformed.append({**_identity(index, raw), "outcome": "rejected", "errors": exc.errors})

    def answer(receipts: list[order_push.OrderReceipt]) -> idempotency.Reply:
        results = list(malformed)
        for receipt in receipts:
            entry = {**_identity(receipt.index, items[receipt.index]), "outcome": receipt.outcome}
            if receipt.outcome == order_push.REJECTED:
                prefix = f"orders[{receipt.index}]." if batch else ""
                entry["errors"] = [error for refusal in receipt.refusals
                                   for error in domain_field_errors(refusal, prefix, _ORDER_FIELDS)]
            else:
                entry["ref"] = receipt.ref
            results.append(entry)
        results.sort(key=lambda result: result["index"])
        summary = {outcome: sum(r["outcome"] == outcome for r in results)
                   for outcome in ("new", "updated", "unchanged", "rejected")}
        status = 200 if not summary["rejected"] else 422 if summary["rejected"] == len(results) else 207
        return idempotency.Reply(status, {"results": results, "summary": summary})

    return await answer_once(request, lambda once: order_push.receive_orders(
        db, integration_actor(request), pushed, once=once, answer=answer, refusal=domain_reply))


@post("/orders/{channel:str}/{channel_order_no:str}/shipments", name="api_push_shipment",
      request_max_body_size=MAX_BODY_BYTES,
      opt={"scope": "shipments:write", "body": schemas.ShipmentIn, "reply": schemas.ShipmentReply,
           "replies": {201: "the order is shipped", 200: "this hand-off was already recorded",
                       404: "no such order", 409: "the order is not paid, or already shipped otherwise"}})
async def push_shipment(request: Request, db: DB, channel: FromPath[str], channel_order_no: FromPath[str]) -> Response:
    """The warehouse handed the parcel to the carrier. Takes the same lock as the shopper's
    address change: whichever comes second is refused (a shipped order keeps its address)."""
    shipment_in = convert(decode_json(await request.body()), schemas.ShipmentIn)

    def answer(done: push.ShipmentOutcome) -> idempotency.Reply:
        shipment = done.shipment
        return idempotency.Reply(201 if done.outcome == "new" else 200, {
            "ref": done.order.ref, "status": done.order.status, "outcome": done.outcome,
            "shipment": {"carrier": shipment.carrier, "tracking_no": shipment.tracking_no,
                         "shipped_at": shipment.shipped_at.astimezone(UTC).isoformat()}})

    return await answer_once(request, lambda once: push.ship_order(
        db, integration_actor(request), channel, channel_order_no, carrier=shipment_in.carrier,
        tracking_no=shipment_in.tracking_no, shipped_at=shipment_in.shipped_at, once=once, answer=answer,
        refusal=domain_reply))


@post("/orders/{channel:str}/{channel_order_no:str}/status", name="api_push_status",
      request_max_body_size=MAX_BODY_BYTES,
      opt={"scope": "orders:write", "body": schemas.StatusIn, "reply": schemas.StatusReply,
           "replies": {200: "updated, or already in that status", 404: "no such order",
                       409: "the lifecycle does not allow this move"}})
async def push_status(request: Request, db: DB, channel: FromPath[str], channel_order_no: FromPath[str]) -> Response:
    """paid (reserves stock), cancelled (releases it), delivered or refunded, with the time it happened."""
    status_in = convert(decode_json(await request.body()), schemas.StatusIn)

    def answer(done: push.StatusOutcome) -> idempotency.Reply:
        return idempotency.Reply(200, {"ref": done.order.ref, "status": done.order.status, "outcome": done.outcome})

    return await answer_once(request, lambda once: push.report_order_status(
        db, integration_actor(request), channel, channel_order_no, status=OrderStatus(status_in.status),
        at=status_in.at, paid_minor=status_in.paid_minor, once=once, answer=answer, refusal=domain_reply))


def _stock_refusal(exc: DomainError) -> idempotency.Reply:
    if not isinstance(exc, stock_levels.CountErrors):
        return domain_reply(exc)
    errors = [{"field": f"levels[{i}]" + (f".{error.field}" if error.field else ""),
               "message": interpolate(error.message, error.params)} for i, error in exc.errors]
    return idempotency.Reply(422, error_body("invalid", "the body has errors", errors))


def _level(result: stock_levels.LevelResult) -> dict:
    return {"sku": result.sku, "warehouse_code": result.warehouse_code, "on_hand": result.on_hand,
            "reserved": result.reserved, "available": result.available, "released_from": result.released_from,
            "reserved_for": result.reserved_for}


@put("/stock", name="api_push_stock", request_max_body_size=MAX_BODY_BYTES,
     opt={"scope": "stock:write", "body": schemas.StockIn, "reply": schemas.StockReply,
          "replies": {200: "levels set", 422: "a level is invalid (nothing was changed)"}})
async def push_stock(request: Request, db: DB) -> Response:
    """Absolute stock levels per SKU and warehouse, all or nothing. A count below what paid
    orders hold takes units back from the most recently paid; a higher count fills paid
    orders that were short, oldest first."""
    stock_in = convert(decode_json(await request.body()), schemas.StockIn)
    counts = [stock_levels.Count(sku=level.sku, warehouse_code=level.warehouse_code, on_hand=level.on_hand)
              for level in stock_in.levels]
    return await answer_once(request, lambda once: push.take_stock_counts(
        db, integration_actor(request), counts, once=once,
        answer=lambda results: idempotency.Reply(200, {"levels": [_level(result) for result in results]}),
        refusal=_stock_refusal))


PUSH_HANDLERS = [push_orders, push_shipment, push_status, push_stock]
