"""Pushing orders through the signed API: how long a full call of 500 orders takes.

    .venv/bin/python bench/push_api.py [--calls 10] [--backends sqlite,postgresql]
                                       [--pg-url postgresql://postgres@127.0.0.1:5432/test]

In-process (Litestar's TestClient, no network): each call is 500 new orders in
{"orders": [...]}, signed, with an Idempotency-Key, into a fresh database made by the
Alembic migrations; then the same calls again (every order "unchanged"), then one
call replayed by its Idempotency-Key. On SQLite the whole call holds the write lock:
the figure is also how long other writers wait behind a full call.

Printed per backend: median ms per 500-order call (new, unchanged, replay) and orders/s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VAR = Path(tempfile.mkdtemp(prefix="orderdesk-push-bench-"))
os.environ.update({"ORDERDESK_VAR_DIR": str(VAR), "DATABASE_URL": f"sqlite:///{VAR / 'unused.db'}",
                   "SECRET_KEY": "bench-secret-key-0123456789-abcdefghij"})

BATCH = 500


def order(n: int) -> dict:
    return {"channel": "jd", "channel_order_no": f"JD{n:09d}", "created_at": "2026-11-22T10:15:00+08:00",
            "status": "paid", "status_at": "2026-11-22T10:16:00+08:00", "paid_at": "2026-11-22T10:16:00+08:00",
            "customer": {"phone": f"138{n % 100_000_000:08d}", "name": "张三"},
            "address": {"recipient": "张三", "phone": f"138{n % 100_000_000:08d}", "province": "浙江省",
                        "city": "杭州市", "district": "西湖区", "street": f"文三路 {n} 号", "postal_code": "310012"},
            "lines": [{"sku": f"SKU-{n % 50}", "name": "西湖龙井", "quantity": 1 + n % 3, "unit_price_minor": 1990}]}


def run(url: str, calls: int) -> None:
    from litestar.testing import TestClient

    from app import create_app
    from core.config import get_settings
    from core.db import Database
    from core.migrate import upgrade
    from core.services.actors import Actor
    from core.services.channels import api_keys

    upgrade(url)
    db = Database(url)
    settings = get_settings()
    key = api_keys.create_key(db, Actor.system(via="bench"), settings.secret_key, name="bench",
                              scopes="orders:write")
    bodies = [json.dumps({"orders": [order(c * BATCH + i) for i in range(BATCH)]}, ensure_ascii=False).encode()
              for c in range(calls)]
    idempotency_keys = [str(uuid.uuid4()) for _ in bodies]

    def send(client, body: bytes, idem: str) -> float:  # noqa: ANN001
        ts = str(int(time.time()))
        headers = {"X-Orderdesk-Key": key.key_id, "X-Orderdesk-Timestamp": ts, "Idempotency-Key": idem,
                   "X-Orderdesk-Signature": api_keys.sign(key.secret, ts, "POST", "/api/v1/orders", body)}
        started = time.perf_counter()
        response = client.post("/api/v1/orders", content=body, headers=headers)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text[:500]
        return elapsed

    with TestClient(app=create_app(settings, db)) as client:
        new = [send(client, body, idem) for body, idem in zip(bodies, idempotency_keys, strict=True)]
        unchanged = [send(client, body, str(uuid.uuid4())) for body in bodies]
        replay = [send(client, bodies[0], idempotency_keys[0]) for _ in range(5)]
    db.dispose()
    for label, times in (("new", new), ("unchanged", unchanged), ("replay", replay)):
        median = statistics.median(times)
        print(f"  {label:10s} {median * 1000:8.0f} ms per call of {BATCH}  ({BATCH / median:7.0f} orders/s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL", ""))
    args = parser.parse_args()
    try:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                print("SQLite")
                run(f"sqlite:///{VAR / 'push.db'}", args.calls)
            elif backend == "postgresql":
                if not args.pg_url:
                    print("PostgreSQL: skipped (give --pg-url or TEST_DATABASE_URL)")
                    continue
                from sqlalchemy import create_engine, text
                from sqlalchemy.engine import make_url

                from core.db_url import normalize_database_url

                admin = create_engine(normalize_database_url(args.pg_url), isolation_level="AUTOCOMMIT")
                name = f"orderdesk_push_bench_{uuid.uuid4().hex[:8]}"
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                print("PostgreSQL")
                try:
                    run(make_url(normalize_database_url(args.pg_url)).set(database=name)
                        .render_as_string(hide_password=False), args.calls)
                finally:
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    admin.dispose()
    finally:
        shutil.rmtree(VAR, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
