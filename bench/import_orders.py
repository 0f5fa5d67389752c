"""Importing a channel export of 100,000 orders, against plain executemany as the ceiling.

    .venv/bin/python bench/import_orders.py [--orders 100000] [--backends sqlite,postgresql]
                                            [--pg-url postgresql://postgres@127.0.0.1:5432/test]

A JD-format export (one row per line item, 1-3 items per order, the address in one
column as JD writes it) is generated into a temporary directory and imported through
the real path (core.services.channels.order_import.import_file: decoding, parsing, address
splitting, validation, the ingest service in batches of 500 orders per transaction)
into a fresh database made by the Alembic migrations.

The ceiling: every row that import wrote (customers, orders, order lines, order
history, confirmation texts in the outbox) is read back and inserted into a second
fresh database of the same schema in one transaction with plain executemany
(sqlite3 on SQLite, psycopg on PostgreSQL). Only the insert is timed.

Printed: orders/s for both, database rows/s for both, and the ratio. Target: the
import at least 25% of the plain-insert rate. Run time: about 2 minutes per backend.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VAR = Path(tempfile.mkdtemp(prefix="orderdesk-import-bench-"))
os.environ.update({"ORDERDESK_VAR_DIR": str(VAR), "DATABASE_URL": f"sqlite:///{VAR / 'unused.db'}",
                   "SECRET_KEY": "bench-secret-key-0123456789-abcdefghij"})

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from core.db import Database  # noqa: E402
from core.db_url import normalize_database_url  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.services.actors import Actor, ActorKind  # noqa: E402
from core.services.channels.order_import import PRESETS, import_file  # noqa: E402

TARGET = 0.25
TABLES = ("customer", "orders", "order_line", "order_history", "outbox_message")
PLACES = [
    ("浙江省", "杭州市", ["西湖区", "余杭区", "滨江区"]), ("广东省", "深圳市", ["南山区", "福田区", "宝安区"]),
    ("江苏省", "苏州市", ["吴中区", "姑苏区", "昆山市"]), ("四川省", "成都市", ["武侯区", "锦江区", "青羊区"]),
    ("北京市", "北京市", ["朝阳区", "海淀区", "东城区"]), ("上海市", "上海市", ["浦东新区", "徐汇区", "静安区"]),
    ("湖北省", "武汉市", ["洪山区", "江汉区", "武昌区"]), ("广西壮族自治区", "南宁市", ["青秀区", "兴宁区", "江南区"]),
]
STREETS = ["文三路", "科技园南路", "人民路", "中山路", "建设大道", "解放路", "世纪大道", "天府大道"]
ITEMS = [("TEA-250", "龙井茶 250g", "39.80"), ("CUP-01", "青瓷茶杯", "25.00"), ("SET-01", "旅行茶具套装", "128.00"),
         ("TISSUE", "抽纸 24 包", "49.90"), ("RICE-5", "五常大米 5kg", "79.00"), ("OIL-1", "花生油 1.8L", "45.50")]
STATUSES = [("等待出库", 70), ("等待确认收货", 10), ("完成", 10), ("等待付款", 7), ("已取消", 3)]


def generate(path: Path, orders: int, seed: int = 20261111) -> int:
    """A JD order export; returns the number of rows (line items)."""
    rng = random.Random(seed)
    mapping = PRESETS["jd"].columns
    header = [mapping[f] for f in ("order_no", "status", "created_at", "paid_at", "completed_at", "paid_amount",
                                   "shipping_fee", "sku", "item_name", "quantity", "unit_price", "recipient",
                                   "phone", "full_address")]
    labels = [label for label, weight in STATUSES for _ in range(weight)]
    start = datetime(2026, 11, 10, 20, 0, 0)  # noqa: DTZ001 - written without a zone, as JD does
    rows = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(orders):
            status = rng.choice(labels)
            created = start + timedelta(seconds=i * 3)
            paid = "" if status in ("等待付款", "已取消") else (created + timedelta(seconds=40)).strftime(
                "%Y-%m-%d %H:%M:%S")
            done = (created + timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S") if status == "完成" else ""
            province, city, districts = rng.choice(PLACES)
            address = (f"{province} {city} {rng.choice(districts)} {rng.choice(STREETS)}{rng.randint(1, 999)}号"
                       f"{rng.randint(1, 30)}幢{rng.randint(101, 2808)}室")
            phone = f"13{rng.randint(0, 9)}{(i // 2) % 100_000_000:08d}"  # customers order about twice
            items = rng.sample(ITEMS, rng.randint(1, 3))
            quantities = [rng.randint(1, 3) for _ in items]
            total = sum(int(price.replace(".", "")) * qty for (_, _, price), qty in zip(items, quantities,
                                                                                      strict=True))
            for (sku, name, price), qty in zip(items, quantities, strict=True):
                writer.writerow([f"JD{300000000000 + i}", status, created.strftime("%Y-%m-%d %H:%M:%S"), paid, done,
                                 f"{total // 100}.{total % 100:02d}" if paid else "0.00", "0.00", sku, name, qty,
                                 price, "王小明", phone, address])
                rows += 1
    return rows


def read_back(url: str) -> dict[str, tuple[list[str], list[tuple]]]:
    engine = create_engine(url)
    data = {}
    with engine.connect() as conn:
        for table in TABLES:
            result = conn.exec_driver_sql(f'SELECT * FROM "{table}" ORDER BY id')
            data[table] = (list(result.keys()), [tuple(row) for row in result])
    engine.dispose()
    return data


def ceiling_sqlite(path: Path, data: dict[str, tuple[list[str], list[tuple]]]) -> float:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=NORMAL")  # as the app's connections have it
    started, cpu = time.perf_counter(), time.process_time()
    conn.execute("BEGIN")
    for table in TABLES:
        columns, rows = data[table]
        conn.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})',
                         rows)
    conn.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return elapsed, cpu


def ceiling_postgresql(url: str, data: dict[str, tuple[list[str], list[tuple]]]) -> float:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            for table in TABLES:
                columns, rows = data[table]
                cur.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) '
                                f'VALUES ({", ".join(["%s"] * len(columns))})', rows)
        return time.perf_counter() - started, None




def measure(backend: str, csv_path: Path, orders: int, urls: tuple[str, str]) -> bool:
    import_url, ceiling_url = urls
    for url in urls:
        upgrade(url)
    db = Database(import_url)
    started, cpu = time.perf_counter(), time.process_time()
    summary = import_file(db, Actor(ActorKind.SYSTEM, "bench", via="cli"), csv_path, mapping=PRESETS["jd"])
    imported, imported_cpu = time.perf_counter() - started, time.process_time() - cpu
    db.dispose()
    if summary.failure or summary.rejected or summary.new != orders:
        raise SystemExit(f"import went wrong: {summary}")
    data = read_back(import_url)
    db_rows = sum(len(rows) for _, rows in data.values())
    if backend == "sqlite":
        ceiling, ceiling_cpu = ceiling_sqlite(Path(make_url(ceiling_url).database), data)
    else:
        ceiling, ceiling_cpu = ceiling_postgresql(ceiling_url, data)
    ratio = ceiling / imported
    print(f"\n{backend}: {orders:,} orders, {db_rows:,} database rows "
          f"({', '.join(f'{t} {len(data[t][1]):,}' for t in TABLES)})")
    print(f"  import (file -> orders)        {imported:8.1f} s  {orders / imported:10,.0f} orders/s  "
          f"{db_rows / imported:10,.0f} rows/s")
    print(f"  plain executemany, 1 tx        {ceiling:8.1f} s  {orders / ceiling:10,.0f} orders/s  "
          f"{db_rows / ceiling:10,.0f} rows/s")
    ok = ratio >= TARGET
    print(f"  ratio {ratio:.1%} of the plain-insert rate (target {TARGET:.0%}): {'met' if ok else 'NOT met'}")
    if ceiling_cpu is not None:
        # On SQLite all the work is in this process: CPU seconds are the same comparison without
        # the noise of other processes on the machine (wall time counts their turns too).
        print(f"  CPU time: import {imported_cpu:.1f} s, plain insert {ceiling_cpu:.1f} s, "
              f"ratio {ceiling_cpu / imported_cpu:.1%}")
    return ok


def postgres_available(admin_url: str) -> bool:
    engine = create_engine(admin_url)
    try:
        with engine.connect():
            return True
    except Exception as exc:  # noqa: BLE001 (any failure means: skip PostgreSQL)
        print(f"\npostgresql: not reachable at {make_url(admin_url).render_as_string()} "
              f"({exc.__class__.__name__}); skipped")
        return False
    finally:
        engine.dispose()


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    try:
        run(args)
    finally:
        shutil.rmtree(VAR, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    csv_path = VAR / "jd-export.csv"
    rows = generate(csv_path, args.orders)
    print(f"orderdesk import benchmark: {args.orders:,} orders in {rows:,} rows of a JD export "
          f"({csv_path.stat().st_size / 1e6:.1f} MB, UTF-8 with BOM)")
    results: dict[str, bool] = {}
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        if backend == "sqlite":
            results[backend] = measure(backend, csv_path, args.orders,
                                       (f"sqlite:///{VAR / 'import.db'}", f"sqlite:///{VAR / 'ceiling.db'}"))
            continue
        admin_url = normalize_database_url(args.pg_url)
        if not postgres_available(admin_url):
            continue
        names = [f"orderdesk_import_{kind}_{uuid.uuid4().hex[:6]}" for kind in ("real", "ceiling")]
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                for name in names:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
            urls = tuple(make_url(admin_url).set(database=name).render_as_string(hide_password=False)
                         for name in names)
            results[backend] = measure(backend, csv_path, args.orders, urls)
        finally:
            with admin.connect() as conn:
                for name in names:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    met = [name for name, ok in results.items() if ok]
    missed = [name for name, ok in results.items() if not ok]
    print(f"\ntarget {TARGET:.0%} met on: {', '.join(met) or 'none'}; not met on: {', '.join(missed) or 'none'}")


if __name__ == "__main__":
    main()
