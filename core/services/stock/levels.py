"""Stock levels as a warehouse counts them (pushed absolute levels).

The count is the truth about the shelf, so it is taken as given; what must hold
is reserved <= on_hand. When the count falls below what paid orders hold, the
most recently paid orders give their units back first (they become short and
show as stock gaps); when it rises, paid orders still short are filled, oldest
payment first. Each order line's reserved_qty stays equal to its share of the
SKU's reserved count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from core.errors import InvalidInput
from core.i18n import N_
from core.models import Order, OrderLine, OrderStatus, SkuStock, Warehouse

HOLDING = (OrderStatus.PAID, OrderStatus.PICKING)


@dataclass
class LevelResult:
    sku: str
    warehouse_code: str
    on_hand: int
    reserved: int
    released_from: list[str] = field(default_factory=list)  # order refs that lost units
    reserved_for: list[str] = field(default_factory=list)  # order refs that got units

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class Count:
    """A warehouse's count of one SKU: units on the shelf, absolute."""

    sku: str
    warehouse_code: str
    on_hand: int


class CountErrors(InvalidInput):
    """Counts that cannot be taken, by their place in the list (an error's `field` is empty when
    the whole count is wrong). Nothing is changed then."""

    def __init__(self, errors: list[tuple[int, InvalidInput]]) -> None:
        _, first = errors[0]
        super().__init__(first.field, first.message, **first.params)
        self.errors = errors


def set_levels(session: Session, counts: list[Count]) -> list[LevelResult]:
    """Several counts, all or nothing, in the caller's write transaction; results in the given order."""
    warehouses = warehouses_by_code(session)
    errors = [(i, InvalidInput("warehouse_code", N_("unknown warehouse %(code)s"), code=count.warehouse_code))
              for i, count in enumerate(counts) if count.warehouse_code not in warehouses]
    seen: dict[tuple[str, str], int] = {}
    for i, count in enumerate(counts):
        if seen.setdefault((count.sku, count.warehouse_code), i) != i:
            errors.append((i, InvalidInput("", N_("the same SKU and warehouse twice"))))
    if errors:
        raise CountErrors(errors)
    results: list[LevelResult | None] = [None] * len(counts)
    # Stock rows locked in one order (warehouse, SKU) whatever the list's order: two counts
    # that overlap queue behind each other instead of deadlocking.
    for i in sorted(range(len(counts)), key=lambda i: (counts[i].warehouse_code, counts[i].sku)):
        count = counts[i]
        results[i] = set_level(session, sku=count.sku, warehouse_code=count.warehouse_code,
                               warehouse_id=warehouses[count.warehouse_code], on_hand=count.on_hand)
    return results  # type: ignore[return-value]


def warehouses_by_code(session: Session) -> dict[str, int]:
    return {code: wid for code, wid in session.exec(select(Warehouse.code, Warehouse.id)).all()}


def current_level(session: Session, *, sku: str, warehouse_id: int) -> int | None:
    return session.exec(select(SkuStock.on_hand).where(SkuStock.sku == sku,
                                                       SkuStock.warehouse_id == warehouse_id)).first()


def _holding_lines(session: Session, sku: str, warehouse_id: int, *, newest_first: bool):
    order_by = (Order.paid_at.desc(), Order.id.desc()) if newest_first else (Order.paid_at, Order.id)
    return session.exec(
        select(OrderLine, Order.ref).join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.sku == sku, Order.warehouse_id == warehouse_id, Order.status.in_(HOLDING))
        .order_by(*order_by, OrderLine.id).with_for_update()
    ).all()


def set_level(session: Session, *, sku: str, warehouse_code: str, warehouse_id: int, on_hand: int) -> LevelResult:
    if on_hand < 0:
        raise InvalidInput("on_hand", N_("Stock cannot be negative."))
    stock = session.exec(
        select(SkuStock).where(SkuStock.sku == sku, SkuStock.warehouse_id == warehouse_id).with_for_update()
    ).first()
    if stock is None:
        stock = SkuStock(sku=sku, warehouse_id=warehouse_id, on_hand=0, reserved=0)
    stock.on_hand = on_hand
    result = LevelResult(sku=sku, warehouse_code=warehouse_code, on_hand=on_hand, reserved=stock.reserved)
    if stock.reserved > on_hand:
        excess = stock.reserved - on_hand
        for line, ref in _holding_lines(session, sku, warehouse_id, newest_first=True):
            if excess == 0:
                break
            give_back = min(line.reserved_qty, excess)
            if give_back:
                line.reserved_qty -= give_back
                excess -= give_back
                session.add(line)
                result.released_from.append(ref)
        # Reservations not backed by any order line (should not exist) go too: never more held than there is.
        stock.reserved = on_hand
    elif stock.available > 0:
        for line, ref in _holding_lines(session, sku, warehouse_id, newest_first=False):
            if stock.available == 0:
                break
            take = min(line.quantity - line.reserved_qty, stock.available)
            if take > 0:
                line.reserved_qty += take
                stock.reserved += take
                session.add(line)
                result.reserved_for.append(ref)
    session.add(stock)
    session.flush()
    result.reserved = stock.reserved
    return result
