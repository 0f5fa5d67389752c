"""One order out of its row (or its rows, one per line item), or the reason it is refused."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import InvalidInput
from core.i18n import N_
from core.models import OrderStatus
from core.services.channels.ingest import IncomingOrder
from core.services.channels.order_import import values
from core.services.channels.order_import.presets import TIME_FIELDS, Mapping
from core.services.orders.addresses import ShippingAddress
from core.services.orders.lifecycle import NewLine, NewOrder

Row = tuple[int, dict[str, str]]

# Fields the order services name in their errors -> the mapping field whose column is to blame.
_BLAME = {"channel_order_no": "order_no", "status_at": "status", "lines": "quantity", "amount": "discount",
          "paid_minor": "paid_amount", "customer_phone": "phone",
          "customer_email": "email"}
_ADDRESS_PARTS = ("province", "city", "district", "street", "postal_code", "address")


@dataclass
class Rejection:
    line: int
    column: str
    message: str
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message, "params": self.params}


class RowRejected(Exception):
    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.message)
        self.rejection = rejection


def column_for(mapping: Mapping, field_name: str) -> str:
    """The source column a field's error is reported against."""
    field_name = _BLAME.get(field_name, field_name)
    if field_name in _ADDRESS_PARTS and "full_address" in mapping.columns:
        return mapping.column("full_address")
    if field_name == "status" and mapping.status_rule == "shopify":
        return "Financial Status"
    if field_name in mapping.columns:
        return mapping.column(field_name)
    return field_name


def reject(mapping: Mapping, line: int, error: InvalidInput) -> RowRejected:
    return RowRejected(Rejection(line, column_for(mapping, error.field), error.message, dict(error.params)))


def _value(mapping: Mapping, row: dict[str, str], field_name: str) -> str:
    column = mapping.columns.get(field_name)
    return row.get(column, "") if column else ""


def _required(mapping: Mapping, row: dict[str, str], field_name: str) -> str:
    text = _value(mapping, row, field_name)
    if not text:
        raise InvalidInput(field_name, N_("This column is empty."))
    return text


def shopify_status(row: dict[str, str]) -> OrderStatus:
    financial = row.get("Financial Status", "").strip().lower()
    fulfilment = row.get("Fulfillment Status", "").strip().lower()
    if row.get("Cancelled at", "").strip():
        return OrderStatus.REFUNDED if financial in ("refunded", "partially_refunded") else OrderStatus.CANCELLED
    if financial == "refunded":
        return OrderStatus.REFUNDED
    if financial == "voided":
        return OrderStatus.CANCELLED
    if financial in ("paid", "partially_refunded"):
        return OrderStatus.SHIPPED if fulfilment == "fulfilled" else OrderStatus.PAID
    if financial in ("pending", "authorized", "partially_paid", "unpaid"):
        return OrderStatus.PENDING_PAYMENT
    raise InvalidInput("status", N_("Unknown order status %(status)s."), status=row.get("Financial Status", ""))


def _status(mapping: Mapping, row: dict[str, str]) -> OrderStatus:
    if mapping.status_rule == "shopify":
        return shopify_status(row)
    text = _required(mapping, row, "status")
    if text in mapping.status_labels:
        return mapping.status_labels[text]
    try:
        return OrderStatus(text.lower())
    except ValueError:
        raise InvalidInput("status", N_("Unknown order status %(status)s."), status=text) from None


def _address(mapping: Mapping, row: dict[str, str]) -> ShippingAddress:
    recipient = _required(mapping, row, "recipient")
    phone = _required(mapping, row, "phone")
    if "full_address" in mapping.columns:
        parts = values.split_address(_required(mapping, row, "full_address"))
        if _value(mapping, row, "postal_code"):
            parts["postal_code"] = _value(mapping, row, "postal_code")
    else:
        street = " ".join(filter(None, (_required(mapping, row, "street"), _value(mapping, row, "street2"))))
        parts = {"province": _required(mapping, row, "province"), "city": _required(mapping, row, "city"),
                 "district": _value(mapping, row, "district"), "street": street,
                 "postal_code": _value(mapping, row, "postal_code")}
    return ShippingAddress(recipient=recipient, phone=phone, **parts)


def _line(mapping: Mapping, row: dict[str, str]) -> tuple[NewLine, int]:
    """The line and the rounding (in minor units) a line total that does not divide by its quantity leaves."""
    name = _value(mapping, row, "item_name")
    sku = _value(mapping, row, "sku") or name
    if not sku:
        raise InvalidInput("item_name", N_("This column is empty."))
    quantity = values.quantity("quantity", _required(mapping, row, "quantity"))
    if "unit_price" in mapping.columns:
        return NewLine(sku=sku[:64], name=(name or sku)[:200], quantity=quantity,
                       unit_price_minor=values.amount_minor("unit_price", _value(mapping, row, "unit_price"))), 0
    total = values.amount_minor("line_total", _value(mapping, row, "line_total"))
    unit = -(-total // quantity)
    return NewLine(sku=sku[:64], name=(name or sku)[:200], quantity=quantity, unit_price_minor=unit), \
        unit * quantity - total


def build_incoming(mapping: Mapping, rows: list[Row], *, warehouse_id: int | None = None) -> IncomingOrder:
    """The order the rows describe; RowRejected names the line and column of the first problem."""
    line, first = rows[0]
    try:
        order_no = _required(mapping, first, "order_no")
        status = _status(mapping, first)
        zone = mapping.zone
        times = {name: values.parse_time(name, _value(mapping, first, name), zone, required=name == "created_at")
                 for name in TIME_FIELDS if name in mapping.columns or name == "created_at"}
        paid_text = _value(mapping, first, "paid_amount")
        paid_minor = values.amount_minor("paid_amount", paid_text) if paid_text else None
        shipping = values.amount_minor("shipping_fee", _value(mapping, first, "shipping_fee"), required=False)
        discount = values.amount_minor("discount", _value(mapping, first, "discount"), required=False)
        currency = (_value(mapping, first, "currency") or "CNY").upper()
        if len(currency) != 3 or not currency.isalpha():
            raise InvalidInput("currency", N_("%(value)s is not a currency code."), value=currency)
        address = _address(mapping, first)
    except InvalidInput as exc:
        raise reject(mapping, line, exc) from None
    lines = []
    for row_line, row in rows:
        try:
            new_line, rounding = _line(mapping, row)
        except InvalidInput as exc:
            raise reject(mapping, row_line, exc) from None
        lines.append(new_line)
        discount += rounding
    status_at = max(value for value in times.values() if value is not None)
    raw = {"line": line, "row": first} if len(rows) == 1 else {"line": line, "rows": [row for _, row in rows]}
    return IncomingOrder(
        order=NewOrder(channel=mapping.channel, channel_order_no=order_no, customer_phone=address.phone,
                       customer_name=address.recipient, customer_email=_value(mapping, first, "email") or None,
                       address=address, lines=lines, currency=currency,
                       shipping_minor=shipping, discount_minor=discount, created_at=times["created_at"],
                       warehouse_id=warehouse_id),
        status=status.value, status_at=status_at, paid_at=times.get("paid_at"), paid_minor=paid_minor, raw=raw,
    )
