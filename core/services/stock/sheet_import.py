"""Stock counts from a file (a warehouse system's export or a stocktake sheet): the same
absolute levels the push API takes, read from .csv (UTF-8, BOM, GBK) or .xlsx.

Columns, English or the usual Chinese headers: warehouse code (仓库编码), SKU (商家编码)
and the count on the shelf (库存). Every row is checked first; the valid ones are
applied together in one transaction, in a fixed order (no deadlock with a concurrent
push), and each refused row is reported with its line, column and reason.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from core.db import Database
from core.errors import InvalidInput
from core.i18n import N_, interpolate
from core.services.channels.order_import.reader import read_rows
from core.services.stock import levels as stock_levels

COLUMNS = {
    "warehouse": ("warehouse", "warehouse_code", "仓库编码", "仓库"),
    "sku": ("sku", "SKU", "商家编码", "货号"),
    "on_hand": ("on_hand", "quantity", "库存", "实际库存", "库存数量"),
}
MAX_COUNT = 10_000_000


@dataclass
class StockRejection:
    line: int
    column: str
    message: str
    params: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return interpolate(self.message, self.params)


@dataclass
class StockImportSummary:
    changed: int = 0
    unchanged: int = 0
    released_orders: int = 0  # orders that gave units back because the count fell below what they held
    rejections: list[StockRejection] = field(default_factory=list)


def _header_for(headers: list[str], name: str) -> str:
    for candidate in COLUMNS[name]:
        if candidate in headers:
            return candidate
    raise InvalidInput("file", N_("The file has no %(column)s column (one of: %(names)s)."),
                       column=COLUMNS[name][0], names="、".join(COLUMNS[name]))


def import_stock(db: Database, path: Path, *, dry_run: bool = False) -> StockImportSummary:
    headers, rows = read_rows(path)
    columns = {name: _header_for(headers, name) for name in COLUMNS}
    summary = StockImportSummary()
    wanted: dict[tuple[str, str], tuple[int, int]] = {}  # (warehouse, sku) -> (count, line)
    with db.read() as session:
        warehouses = stock_levels.warehouses_by_code(session)
    for line, row in rows:
        code, sku, count = (row.get(columns[name], "").strip() for name in ("warehouse", "sku", "on_hand"))
        if code not in warehouses:
            summary.rejections.append(StockRejection(line, columns["warehouse"],
                                                     N_("Unknown warehouse %(code)s."), {"code": code or "—"}))
            continue
        if not sku:
            summary.rejections.append(StockRejection(line, columns["sku"], N_("The SKU is missing.")))
            continue
        units = _units(count)
        if units is None or units > MAX_COUNT:
            summary.rejections.append(StockRejection(
                line, columns["on_hand"], N_("%(value)s is not a whole number of units from 0 to %(max)s."),
                {"value": count or "—", "max": MAX_COUNT}))
            continue
        if (code, sku) in wanted:
            summary.rejections.append(StockRejection(
                line, columns["sku"], N_("%(sku)s at %(code)s is already counted on line %(line)s."),
                {"sku": sku, "code": code, "line": wanted[(code, sku)][1]}))
            continue
        wanted[(code, sku)] = (units, line)
    with contextlib.suppress(_DryRun):
        _apply(db, wanted, warehouses, summary, dry_run=dry_run)
    return summary


def _units(count: str) -> int | None:
    """A count of units: digits only (full-width ones too, as Chinese sheets may have them);
    "²" and the like are digits to str.isdigit but not numbers to int."""
    if not count.isdigit():
        return None
    try:
        return int(count)
    except ValueError:
        return None


class _DryRun(Exception):
    """Ends a dry run's transaction without writing."""


def _apply(db: Database, wanted: dict[tuple[str, str], tuple[int, int]], warehouses: dict[str, int],
           summary: StockImportSummary, *, dry_run: bool) -> None:
    with db.write() as session:
        for (code, sku), (count, _line) in sorted(wanted.items()):
            before = stock_levels.current_level(session, sku=sku, warehouse_id=warehouses[code])
            if before == count:
                summary.unchanged += 1
                continue
            result = stock_levels.set_level(session, sku=sku, warehouse_code=code, warehouse_id=warehouses[code],
                                            on_hand=count)
            summary.changed += 1
            summary.released_orders += len(result.released_from)
        if dry_run:
            raise _DryRun
