"""Stock: an order reserves its units when paid, releases them when cancelled,
takes them off the shelf when shipped. Never below zero: what is not there is
not reserved, and the shortfall shows as a stock gap."""

from __future__ import annotations

from sqlmodel import Session, select

from core.models import Order, OrderLine, SkuStock


def _stock_row(session: Session, sku: str, warehouse_id: int | None) -> SkuStock | None:
    if warehouse_id is None:
        return None
    return session.exec(
        select(SkuStock).where(SkuStock.sku == sku, SkuStock.warehouse_id == warehouse_id).with_for_update()
    ).first()


def reserve(session: Session, order: Order) -> dict[str, int]:
    """Reserve each line's units (as many as are available); returns the shortfall per SKU."""
    short: dict[str, int] = {}
    for line in session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all():
        stock = _stock_row(session, line.sku, order.warehouse_id)
        if stock is None:
            continue  # not stock-managed here
        take = max(min(line.quantity - line.reserved_qty, stock.available), 0)
        stock.reserved += take
        line.reserved_qty += take
        if line.reserved_qty < line.quantity:
            short[line.sku] = line.quantity - line.reserved_qty
        session.add(stock)
        session.add(line)
    return short


def release(session: Session, order: Order) -> None:
    for line in session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all():
        stock = _stock_row(session, line.sku, order.warehouse_id)
        if stock is not None and line.reserved_qty:
            stock.reserved = max(stock.reserved - line.reserved_qty, 0)
            session.add(stock)
        line.reserved_qty = 0
        session.add(line)


def ship(session: Session, order: Order) -> None:
    """The units leave the warehouse: off the shelf and out of the reservation."""
    for line in session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all():
        stock = _stock_row(session, line.sku, order.warehouse_id)
        if stock is not None:
            stock.on_hand = max(stock.on_hand - line.quantity, 0)
            stock.reserved = max(stock.reserved - line.reserved_qty, 0)
            session.add(stock)
        line.reserved_qty = 0
        session.add(line)
