"""Synthetic order data for the benchmarks, bulk-loaded straight into the tables
the Alembic migrations made (executemany on SQLite, COPY on PostgreSQL): a
million orders in minutes, where the ORM would take hours.

Order i is a pure function of i (and the anchor time), so a database can be grown
in steps (10k, then up to 100k, then up to 1M) and a benchmark can name existing
keys (a reference, a tracking number, a phone) without asking the database.

The shape follows a shop over two years: three orders per customer, one to three
lines, two-thirds shipped with three carrier events each, one dispute per two hundred
orders. The rows are realistic in size and spread; hash chains are not valid
(nothing here verifies them).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.db import make_engine

ORDERS_PER_CUSTOMER = 3
HISTORY_DAYS = 730
DISPUTE_EVERY = 200
TAG_EVERY = 50  # one triage exception per fifty orders
OPEN_TAG_ORDERS = 3_000

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# An odd multiplier is a bijection modulo 2**50: unique, random-looking references.
_REF_MULTIPLIER = 0x2545F4914F6CD
_MASK50 = (1 << 50) - 1

CHANNELS = ["taobao", "jd", "pinduoduo", "douyin", "shopify", "own_shop"]
CARRIERS = ["SF", "ZTO", "YTO", "JD", "EMS"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
GIVEN = "伟芳娜英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂涵桐然萱诺怡轩远晨宇欣悦婷雪琳博文浩"
PLACES = [
    ("北京市", "北京市", "朝阳区"), ("上海市", "上海市", "浦东新区"), ("上海市", "上海市", "徐汇区"),
    ("广东省", "深圳市", "南山区"), ("广东省", "广州市", "天河区"), ("浙江省", "杭州市", "西湖区"),
    ("江苏省", "南京市", "鼓楼区"), ("四川省", "成都市", "武侯区"), ("湖北省", "武汉市", "洪山区"),
    ("陕西省", "西安市", "雁塔区"), ("山东省", "青岛市", "市南区"), ("福建省", "厦门市", "思明区"),
]
PRODUCTS = [
    ("SKU-TEA-001", "西湖龙井 明前特级 250g", 36800), ("SKU-TEA-002", "正山小种红茶 礼盒装 200g", 19800),
    ("SKU-CUP-010", "景德镇手绘陶瓷马克杯", 8900), ("SKU-BAG-021", "帆布托特包 大容量", 12900),
    ("SKU-PHN-031", "磁吸无线充电宝 10000mAh", 15900), ("SKU-SKN-041", "玻尿酸补水面膜 10片装", 9900),
    ("SKU-SNK-051", "每日坚果 30袋装", 12800), ("SKU-HOM-061", "纯棉四件套 1.8m床", 39900),
]
DISPUTE_KINDS = ["not_received", "damaged", "late", "wrong_item", "other"]
TAG_RULES = [("address_proxy_words", "address_risk", "customer_service"), ("stock_short", "stock_gap", "warehouse"),
             ("payment_amount_mismatch", "payment_anomaly", "finance"),
             ("logistics_stalled", "logistics_anomaly", "customer_service")]
DISPUTE_STATES = ["open", "evidence_ready", "submitted", "won", "lost", "withdrawn", "won", "lost"]


def order_ref(i: int) -> str:
    n = (i * _REF_MULTIPLIER) & _MASK50
    chars = []
    for _ in range(10):
        chars.append(_ALPHABET[n & 31])
        n >>= 5
    return "OD" + "".join(chars)


def customer_of(i: int) -> int:
    return i // ORDERS_PER_CUSTOMER


def customer_phone(c: int) -> str:
    # 139 + 8 digits: a valid Chinese mobile number, unique per customer.
    return f"+86139{c:08d}"


def channel_order_no(i: int) -> str:
    return f"{600000000000 + i * 7:d}"


def is_shipped(i: int) -> bool:
    return i % 3 != 0


def tracking_no(i: int) -> str:
    carrier = CARRIERS[i % len(CARRIERS)]
    return f"{carrier}{7_000_000_000_000 + i * 13:d}"


def recipient_name(i: int) -> str:
    h = (i * 2654435761) & 0xFFFFFFFF
    name = SURNAMES[h % len(SURNAMES)] + GIVEN[(h >> 8) % len(GIVEN)]
    return name + GIVEN[(h >> 16) % len(GIVEN)] if (h >> 24) % 10 < 7 else name


@dataclass
class Rows:
    customers: list[tuple]
    orders: list[tuple]
    lines: list[tuple]
    history: list[tuple]
    shipments: list[tuple]
    events: list[tuple]
    disputes: list[tuple]
    tags: list[tuple]


COLUMNS = {
    "customer": ("id", "phone", "name", "created_at"),
    "orders": ("id", "ref", "channel", "channel_order_no", "customer_id", "status", "currency", "items_total_minor",
               "shipping_minor", "discount_minor", "total_minor", "paid_minor", "created_at", "updated_at", "paid_at",
               "promised_ship_by", "promised_delivery_by", "delivered_at", "cancelled_at", "presale_ships_on",
               "warehouse_id", "terms_id", "is_priority", "link_version", "ship_recipient", "ship_phone",
               "ship_province", "ship_city", "ship_district", "ship_street", "ship_postal_code"),
    "order_line": ("id", "order_id", "sku", "name", "quantity", "unit_price_minor"),
    "order_history": ("id", "order_id", "at", "kind", "actor", "via", "detail"),
    "shipment": ("id", "order_id", "carrier", "tracking_no", "shipped_at", "tag", "ship_to", "last_event_at",
                 "delivered_at", "last_polled_at"),
    "tracking_event": ("id", "shipment_id", "occurred_at", "received_at", "raw_status_code", "raw_text", "location",
                       "tag", "sub_status", "source", "raw_payload", "seq", "dedup_key", "prev_hash", "chain_hash"),
    "dispute": ("id", "order_id", "kind", "claim", "status", "due_at", "owner_id", "evidence_pack_id", "created_at",
                "updated_at"),
    "order_tag": ("id", "order_id", "tag", "rule_code", "detail", "fingerprint", "queue", "sla_due_at", "opened_at",
                  "resolved_at", "resolved_by", "resolution"),
}
TABLE_ORDER = ["customer", "orders", "order_line", "order_history", "shipment", "tracking_event", "dispute",
               "order_tag"]

# Ids of the dependent rows are functions of the order number too, so steps never collide.
LINE_SLOTS = 3
HISTORY_SLOTS = 2
EVENT_SLOTS = 3


def build_rows(start: int, stop: int, anchor: datetime, *, naive_strings: bool = False) -> Rows:
    """The rows of orders [start, stop). With `naive_strings`, times are the naive UTC
    text SQLAlchemy's SQLite DateTime stores; otherwise timezone-aware datetimes."""
    rows = Rows([], [], [], [], [], [], [], [])
    if naive_strings:
        anchor = anchor.astimezone(UTC).replace(tzinfo=None)

        def t(value: datetime | None) -> object:
            return None if value is None else value.isoformat(sep=" ", timespec="microseconds")
    else:
        def t(value: datetime | None) -> object:
            return value

    rng = random.Random(start)
    minute, hour, day = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
    six_days_ago, year_ago = anchor - 6 * day, anchor - 365 * day
    for i in range(start, stop):
        c = customer_of(i)
        created = anchor - rng.randrange(60, HISTORY_DAYS * 24 * 60) * minute
        recipient = recipient_name(i)
        if i % ORDERS_PER_CUSTOMER == 0:
            rows.customers.append((c + 1, customer_phone(c), recipient, t(created)))
        items = 0
        for slot, (sku, name, price) in enumerate(rng.sample(PRODUCTS, rng.choice((1, 1, 2, 3)))):
            quantity = rng.choice((1, 1, 1, 2, 3))
            items += quantity * price
            rows.lines.append((i * LINE_SLOTS + slot + 1, i + 1, sku, name, quantity, price))
        shipping = rng.choice((0, 0, 0, 800, 1200))
        discount = min(rng.choice((0, 0, 500, 1000)), items)
        total = items + shipping - discount
        province, city, district = PLACES[i % len(PLACES)]
        paid_at = created + rng.randrange(1, 40) * minute
        shipped = is_shipped(i)
        recent = created > six_days_ago
        if shipped:
            status = "shipped" if recent else ("refunded" if i % 37 == 0 else "delivered")
        else:
            status = "paid" if recent and i % 2 else ("pending_payment" if recent else "cancelled")
        delivered_at = paid_at + (72 + rng.randrange(0, 48)) * hour if status in ("delivered", "refunded") else None
        cancelled_at = created + 2 * hour if status == "cancelled" else None
        paid = status not in ("pending_payment", "cancelled")
        rows.orders.append((
            i + 1, order_ref(i), CHANNELS[i % len(CHANNELS)], channel_order_no(i), c + 1, status, "CNY", items,
            shipping, discount, total, total if paid else None, t(created), t(delivered_at or created),
            t(paid_at) if paid else None, t(paid_at + 48 * hour) if paid else None,
            t(paid_at + 168 * hour) if paid else None, t(delivered_at), t(cancelled_at), None, i % 3 + 1,
            2 if created > year_ago else 1, False, 0, recipient, customer_phone(c), province, city, district,
            f"科技路{i % 997 + 1}号{i % 29 + 1}栋{i % 2897 + 101}室", "310012",
        ))
        rows.history.append((i * HISTORY_SLOTS + 1, i + 1, t(created), "created", "channel", "import", "{}"))
        if status != "pending_payment":
            rows.history.append((i * HISTORY_SLOTS + 2, i + 1, t(delivered_at or cancelled_at or paid_at), "status",
                                 "system", "import", f'{{"from": "paid", "to": "{status}"}}'))
        if shipped:
            shipped_at = paid_at + rng.randrange(3, 30) * hour
            times = [shipped_at + 2 * hour, shipped_at + 20 * hour, delivered_at or shipped_at + 40 * hour]
            times = [at for at in times if at < anchor] or [anchor - 5 * minute]
            final_tag = "delivered" if delivered_at else "in_transit"
            rows.shipments.append((i + 1, i + 1, CARRIERS[i % len(CARRIERS)], tracking_no(i), t(shipped_at),
                                   final_tag, f"{province}{city}{district}", t(times[-1]), t(delivered_at), None))
            prev = "0" * 64
            for seq, at in enumerate(times, start=1):
                tag = ("info_received", "in_transit", final_tag)[seq - 1]
                context = f"【{city}】快件已到达 {city}转运中心"
                payload = (f'{{"time": "{at:%Y-%m-%d %H:%M:%S}", "context": "{context}", "areaName": "{city}", '
                           f'"statusCode": "{seq}"}}')
                digest = hashlib.sha256(f"{i}:{seq}".encode()).hexdigest()
                rows.events.append((i * EVENT_SLOTS + seq, i + 1, t(at), t(at + 3 * minute), str(seq), context,
                                    city, tag, None, "seed", payload, seq, digest[:40], prev, digest))
                prev = digest
        if i % DISPUTE_EVERY == DISPUTE_EVERY // 2:
            state = DISPUTE_STATES[(i // DISPUTE_EVERY) % len(DISPUTE_STATES)]
            rows.disputes.append((i // DISPUTE_EVERY + 1, i + 1, DISPUTE_KINDS[i % len(DISPUTE_KINDS)],
                                  "顾客称未收到包裹", state, t(created + rng.randrange(-3, 10) * day), None,
                                  None, t(created), t(created)))
        if i % TAG_EVERY == TAG_EVERY // 3:
            code, tag, queue = TAG_RULES[(i // TAG_EVERY) % len(TAG_RULES)]
            opened = created + 10 * minute
            # The open backlog is the same at every size (the tags of the first OPEN_TAG_ORDERS
            # orders, 60 of them): a team that keeps up has a queue of a working day's size,
            # whatever the number of orders behind it.
            resolved = None if i < OPEN_TAG_ORDERS else opened + rng.randrange(20, 48 * 60) * minute
            rows.tags.append((i // TAG_EVERY + 1, i + 1, tag, code, "{}", "bench", queue, t(opened + 8 * hour),
                              t(opened), t(resolved), "bench@orderdesk.local" if resolved else None,
                              "bench" if resolved else None))
    return rows


def _batches(rows: list[tuple], size: int = 50_000) -> Iterator[list[tuple]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def reference_data(url: str, anchor: datetime) -> None:
    """Warehouses and service terms: what every order points at."""
    engine = make_engine(url)
    with engine.begin() as conn:
        for n, (code, city) in enumerate((("HZ", "杭州市"), ("GZ", "广州市"), ("CD", "成都市")), start=1):
            conn.execute(text("INSERT INTO warehouse (id, code, name, province, city) VALUES (:i, :c, :n, '', :city)"),
                         {"i": n, "c": code, "n": f"{city}仓", "city": city})
        for n, version in enumerate(("2025.1", "2026.1"), start=1):
            conn.execute(text(
                "INSERT INTO service_terms (id, version, title, body, ship_within_hours, delivery_within_days, "
                "effective_from, created_at) VALUES (:i, :v, :t, :b, 48, 5, :at, :at)"),
                {"i": n, "v": version, "t": f"售后服务条款 {version}", "b": "1. 付款后 48 小时内发货。",
                 "at": anchor - timedelta(days=HISTORY_DAYS if n == 1 else 365)})
    engine.dispose()


def load(url: str, start: int, stop: int, anchor: datetime) -> dict[str, int]:
    """Insert orders [start, stop) and everything hanging off them; returns row counts."""
    sqlite = make_url(url).get_backend_name() == "sqlite"
    rows = build_rows(start, stop, anchor, naive_strings=sqlite)
    by_table = dict(zip(TABLE_ORDER, (rows.customers, rows.orders, rows.lines, rows.history, rows.shipments,
                                      rows.events, rows.disputes, rows.tags), strict=True))
    engine = make_engine(url)
    try:
        if sqlite:
            raw = engine.raw_connection()
            try:
                cursor = raw.cursor()
                # A large page cache: the unique indexes on random references are written all over.
                cursor.execute("PRAGMA cache_size=-1000000")
                cursor.execute("BEGIN IMMEDIATE")
                for table, table_rows in by_table.items():
                    columns = COLUMNS[table]
                    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                    for batch in _batches(table_rows):
                        cursor.executemany(sql, batch)
                cursor.execute("COMMIT")
            finally:
                raw.close()
        else:
            raw = engine.raw_connection()
            try:
                with raw.cursor() as cursor:
                    for table, table_rows in by_table.items():
                        with cursor.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
                            for row in table_rows:
                                copy.write_row(row)
                    # Explicit ids: move the sequences past them so the app's own inserts work.
                    for table in TABLE_ORDER:
                        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                       f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
                raw.commit()
            finally:
                raw.close()
    finally:
        engine.dispose()
    return {table: len(table_rows) for table, table_rows in by_table.items()}


def analyze(url: str) -> None:
    """Bring the database to the state it is in after a while in production: on PostgreSQL
    VACUUM ANALYZE, which autovacuum runs by itself soon after a large insert (statistics
    for the planner, the visibility map for index-only scans); on SQLite ANALYZE and a
    checkpoint that moves the load out of the write-ahead log, as its checkpoints would."""
    engine = make_engine(url)
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "sqlite":
            cursor = raw.cursor()
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            cursor.close()
            raw.commit()
        else:
            raw.driver_connection.autocommit = True  # VACUUM cannot run inside a transaction
            with raw.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
    finally:
        raw.close()
        engine.dispose()
