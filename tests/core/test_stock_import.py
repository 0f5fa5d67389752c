"""A stocktake sheet sets the counts; paid orders keep or give back their units accordingly."""

from sqlmodel import select

from core.models import OrderLine, SkuStock
from core.services.orders import lifecycle as order_service
from core.services.stock.sheet_import import import_stock
from tests.factories import add_warehouse, make_order, set_stock


def levels(db) -> dict[tuple[int, str], tuple[int, int]]:
    with db.read() as session:
        return {(s.warehouse_id, s.sku): (s.on_hand, s.reserved) for s in session.exec(select(SkuStock)).all()}


def test_a_gbk_count_sheet_sets_levels_and_reports_every_bad_row(db, tmp_path):
    hz = add_warehouse(db, "HZ1")
    sheet = tmp_path / "盘点.csv"
    sheet.write_bytes("\n".join([
        "仓库编码,商家编码,库存",
        "HZ1,SKU-TEA-001,40",
        "HZ1,SKU-CUP-010,0",
        "SZ9,SKU-TEA-001,5",      # line 4: no such warehouse
        "HZ1,SKU-BAG-021,-3",     # line 5: negative
        "HZ1,SKU-BAG-021,三个",    # line 6: not a number
        "HZ1,,7",                 # line 7: no SKU
        "HZ1,SKU-TEA-001,41",     # line 8: counted twice
        "HZ1,SKU-HOM-061,3²",     # line 9: a digit to str.isdigit, not a number
    ]).encode("gb18030"))
    summary = import_stock(db, sheet)
    assert (summary.changed, summary.unchanged) == (2, 0)
    assert [(r.line, r.column, r.text) for r in summary.rejections] == [
        (4, "仓库编码", "Unknown warehouse SZ9."),
        (5, "库存", "-3 is not a whole number of units from 0 to 10000000."),
        (6, "库存", "三个 is not a whole number of units from 0 to 10000000."),
        (7, "商家编码", "The SKU is missing."),
        (8, "商家编码", "SKU-TEA-001 at HZ1 is already counted on line 2."),
        (9, "库存", "3² is not a whole number of units from 0 to 10000000."),
    ]
    assert levels(db) == {(hz.id, "SKU-TEA-001"): (40, 0), (hz.id, "SKU-CUP-010"): (0, 0)}

    again = import_stock(db, sheet)
    assert (again.changed, again.unchanged) == (0, 2)


def test_a_lower_count_takes_units_back_from_the_latest_paid_order_and_dry_run_writes_nothing(db, tmp_path):
    hz = add_warehouse(db, "HZ1")
    set_stock(db, "SKU-TEA-001", hz.id, on_hand=5)
    first = make_order(db, paid=True, warehouse_id=hz.id, lines=[("SKU-TEA-001", "龙井", 2, 100)])
    second = make_order(db, paid=True, warehouse_id=hz.id, lines=[("SKU-TEA-001", "龙井", 2, 100)])
    assert levels(db)[(hz.id, "SKU-TEA-001")] == (5, 4)
    sheet = tmp_path / "count.csv"
    sheet.write_text("warehouse,sku,on_hand\nHZ1,SKU-TEA-001,3\n", encoding="utf-8-sig")

    dry = import_stock(db, sheet, dry_run=True)
    assert (dry.changed, dry.released_orders) == (1, 1)
    assert levels(db)[(hz.id, "SKU-TEA-001")] == (5, 4)

    done = import_stock(db, sheet)
    assert (done.changed, done.released_orders) == (1, 1)
    assert levels(db)[(hz.id, "SKU-TEA-001")] == (3, 3)
    with db.read() as session:
        held = {order_service.get_order(db, ref).ref: session.exec(
            select(OrderLine.reserved_qty).join(order_service.Order)
            .where(order_service.Order.ref == ref)).one() for ref in (first.ref, second.ref)}
    assert held == {first.ref: 2, second.ref: 1}  # the later order is short one unit


def test_a_sheet_without_the_count_column_is_refused_whole(db, tmp_path):
    add_warehouse(db, "HZ1")
    sheet = tmp_path / "bad.csv"
    sheet.write_text("warehouse,sku,qty_sold\nHZ1,SKU-1,3\n", encoding="utf-8")
    import pytest

    from core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="no on_hand column"):
        import_stock(db, sheet)
    assert levels(db) == {}


def test_the_command_prints_rejections_and_counts(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "ORDERDESK_VAR_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parents[2]

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=root, env=env, capture_output=True,
                              text=True, timeout=120)

    assert cli("migrate").returncode == 0
    assert cli("seed-demo").returncode == 0
    sheet = tmp_path / "count.csv"
    sheet.write_text("warehouse,sku,on_hand\nHZ,SKU-TEA-001,120\nXX,SKU-TEA-001,1\n", encoding="utf-8")
    dry = cli("import-stock", str(sheet), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        "line 3, column warehouse: Unknown warehouse XX.",
        "Dry run (nothing written): 1 changed, 0 unchanged, 1 rejected; 0 orders gave units back (count.csv)",
    ]
