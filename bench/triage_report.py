"""Weekly triage trends over a large database: a million orders, a tag on every tenth, spread
over eight weeks (bulk-inserted, not built through the services), then the report and the scan.

    .venv/bin/python bench/triage_report.py [--orders 1000000] [--runs 5] [--scan-orders 20000]
    DATABASE_URL=postgresql://... .venv/bin/python bench/triage_report.py   # an empty database

Prints the median time of the weekly report (target: well under a second, whatever the volume,
since it only reads aggregates) and the scan's throughput on recent orders.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VAR = Path(tempfile.mkdtemp(prefix="orderdesk-bench-"))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{VAR / 'bench.db'}")
os.environ.update({"ORDERDESK_VAR_DIR": str(VAR)})

from sqlalchemy import insert  # noqa: E402

from core.config import get_settings  # noqa: E402
from core.db import Database  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.models import Customer, Order, OrderTag, Warehouse  # noqa: E402
from core.services.triage.engine import scan  # noqa: E402
from core.services.triage.report import Week, weekly  # noqa: E402
from core.services.triage.rules import DEFAULT_RULES  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
CHANNELS = ["taobao", "jd", "pinduoduo", "douyin", "shopify", "own_shop"]
NOW = datetime.now(UTC).replace(microsecond=0)
CHUNK = 20_000


def fill(db: Database, orders: int, rng: random.Random) -> None:
    with db.write() as session:
        session.add_all([Warehouse(code=c, name=c, province="浙江省", city="杭州市") for c in ("HZ", "GZ", "CD")])
        session.add(Customer(phone="+8613800138000"))
    with db.engine.begin() as conn:
        for start in range(0, orders, CHUNK):
            rows = []
            for n in range(start, min(start + CHUNK, orders)):
                at = NOW - timedelta(days=56 * n / orders)
                rows.append(dict(ref=f"OD{n:010d}", channel=rng.choice(CHANNELS), channel_order_no=str(n), customer_id=1,
                                 status="delivered", currency="CNY", items_total_minor=1000, shipping_minor=0,
                                 discount_minor=0, total_minor=1000, paid_minor=1000, created_at=at, updated_at=at,
                                 paid_at=at, is_priority=False, link_version=0, ship_recipient="张三",
                                 ship_phone="+8613800138000", ship_province="浙江省", ship_city="杭州市",
                                 ship_district="西湖区", ship_street="文三路 100 号", ship_postal_code="",
                                 customs_declaration_no="", warehouse_id=rng.randint(1, 3)))
            conn.execute(insert(Order), rows)
        rules = [(code, str(tag), str(queue)) for code, tag, queue, _ in DEFAULT_RULES]
        for start in range(0, orders, CHUNK * 10):
            rows = []
            for n in range(start, min(start + CHUNK * 10, orders), 10):
                code, tag, queue = rng.choice(rules)
                opened = NOW - timedelta(days=56 * n / orders) + timedelta(minutes=5)
                resolved = opened + timedelta(hours=rng.uniform(0.2, 48))
                rows.append(dict(order_id=n + 1, tag=tag, rule_code=code, detail="{}", fingerprint="bench",
                                 queue=queue, sla_due_at=opened + timedelta(hours=8), opened_at=opened,
                                 resolved_at=resolved if resolved < NOW else None,
                                 resolved_by="bench" if resolved < NOW else None,
                                 resolution="bench" if resolved < NOW else None))
            conn.execute(insert(OrderTag), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scan-orders", type=int, default=20_000, help="recent paid orders the scan looks at")
    args = parser.parse_args()
    url = get_settings().database_url
    upgrade(url)
    db = Database(url)
    started = time.perf_counter()
    fill(db, args.orders, random.Random(7))
    print(f"filled {args.orders:,} orders and {args.orders // 10:,} tags in {time.perf_counter() - started:.0f} s "
          f"({db.engine.dialect.name})")

    week = Week.of(NOW.astimezone(ZONE).date()).previous()
    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        report = weekly(db, week, ZONE)
        timings.append(time.perf_counter() - started)
    print(f"weekly report {week.label}: {report.total.current:,} tags this week, {report.total.previous:,} the week "
          f"before, median to resolve {report.median_seconds[0] / 3600:.1f} h")
    print(f"weekly report: median {statistics.median(timings) * 1000:.0f} ms over {args.runs} runs")

    # The scan watches paid-to-delivered orders of the last 90 days; make the newest ones paid.
    with db.engine.begin() as conn:
        conn.execute(Order.__table__.update().where(Order.id > args.orders - args.scan_orders)
                     .values(status="paid", paid_minor=900))
        conn.execute(Order.__table__.update().where(Order.id <= args.orders - args.scan_orders)
                     .values(status="cancelled"))
    started = time.perf_counter()
    result = scan(db, NOW + timedelta(hours=1))
    elapsed = time.perf_counter() - started
    print(f"scan: {result.orders:,} orders, {result.opened:,} tags opened in {elapsed:.1f} s "
          f"({result.orders / elapsed:,.0f} orders/s)")
    started = time.perf_counter()
    again = scan(db, NOW + timedelta(hours=2))
    elapsed = time.perf_counter() - started
    print(f"scan again: {again.orders:,} orders, {again.opened:,} opened, {again.already_open:,} already open in "
          f"{elapsed:.1f} s ({again.orders / elapsed:,.0f} orders/s)")
    db.dispose()


if __name__ == "__main__":
    main()
