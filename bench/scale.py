"""The same lookups at 10k, 100k and 1M orders, on SQLite and PostgreSQL.

    .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--backends sqlite,postgresql]
                                    [--pg-url postgresql://postgres@127.0.0.1:5432/test] [--samples 40]

Each backend gets a fresh database made by the Alembic migrations and grown in steps
with bulk inserts (bench/dataset.py: executemany on SQLite, COPY on PostgreSQL), then
ANALYZE. At each size every lookup runs through the service the page calls, on keys
drawn at random from the orders that exist, and the median is printed. Target: the
median at the largest size within 1.5x of the smallest, for every lookup (indexes
and query plans; nothing here is cached between calls).

The PostgreSQL database is created next to --pg-url's and dropped at the end.
Full run (both backends, up to 1M): about 6 minutes on the 2-core machine, most of it
building the databases.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VAR = Path(tempfile.mkdtemp(prefix="orderdesk-scale-"))
os.environ.update({"ORDERDESK_VAR_DIR": str(VAR), "DATABASE_URL": f"sqlite:///{VAR / 'unused.db'}",
                   "SECRET_KEY": "bench-secret-key-0123456789-abcdefghij"})

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import dataset  # noqa: E402
from core.config import get_settings  # noqa: E402
from core.db import Database  # noqa: E402
from core.db_url import normalize_database_url  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.models import Staff  # noqa: E402
from core.services.actors import Actor, ActorKind  # noqa: E402
from core.services.disputes import cases as disputes  # noqa: E402
from core.services.orders import for_customer as customer_orders  # noqa: E402
from core.services.orders import for_staff as admin_orders  # noqa: E402
from core.services.orders import lifecycle as order_service  # noqa: E402
from core.services.tracking import links as tracking_links  # noqa: E402
from core.services.triage import queue as triage_queue  # noqa: E402
from core.services.triage import report as triage_report  # noqa: E402

STEP = 100_000  # orders built and inserted per batch (bounded memory)
TARGET_RATIO = 1.5
ZONE = ZoneInfo("Asia/Shanghai")
WEEKLY = "admin: weekly triage report"  # also has an absolute target: under 1 s at the largest size
ADMIN = Staff(id=0, email="bench@orderdesk.local", role="admin", password_hash="")
# Searching by text is audited, as on the page; no staff row: the audit entry names the actor only.
ADMIN_ACTOR = Actor(ActorKind.STAFF, ADMIN.email, "admin", role=ADMIN.role)


def lookups(db: Database, size: int) -> dict[str, Callable[[random.Random], object]]:
    """name -> a call that does the lookup for a random existing key."""
    secret = get_settings().secret_key
    last_week = triage_report.Week.of(datetime.now(ZONE).date()).previous()

    def any_order(rng: random.Random) -> int:
        return rng.randrange(size)

    def shipped_order(rng: random.Random) -> int:
        i = rng.randrange(size)
        return i if dataset.is_shipped(i) else (i + 1) % size

    def phone(i: int) -> str:
        return dataset.customer_phone(dataset.customer_of(i))

    def search(**query) -> admin_orders.OrderResults:
        return admin_orders.search(db, ADMIN_ACTOR, admin_orders.OrderQuery(**query))

    def tracking_link(rng: random.Random) -> object:
        i = shipped_order(rng)
        order = order_service.Order(ref=dataset.order_ref(i), link_version=0)
        token = tracking_links.make_token(order, secret=secret, valid_for=timedelta(days=1))
        return tracking_links.resolve(db, token, secret=secret)

    return {
        "portal: my orders (by phone)": lambda rng: customer_orders.list_orders(db, phone(any_order(rng))),
        "portal: order page (by reference)": lambda rng: customer_orders.get_customer_order(
            db, phone(i := any_order(rng)), dataset.order_ref(i)),
        "portal: tracking link /t/": tracking_link,
        "admin: search by channel order no.": lambda rng: search(text=dataset.channel_order_no(any_order(rng))),
        "admin: search by tracking no.": lambda rng: search(text=dataset.tracking_no(shipped_order(rng))),
        "admin: search by phone": lambda rng: search(text=phone(any_order(rng))[3:]),
        "admin: search by recipient name": lambda rng: search(text=dataset.recipient_name(any_order(rng))),
        "admin: order list, status=paid": lambda rng: search(status="paid"),
        "admin: order list, no filter": lambda rng: search(),
        "admin: dispute board": lambda rng: disputes.board(db, ADMIN_ACTOR),
        "admin: overview counts by status": lambda rng: order_service.count_by_status(db),
        "admin: triage queue (customer service)": lambda rng: triage_queue.queue_page(
            db, ADMIN, "customer_service"),
        WEEKLY: lambda rng: triage_report.weekly(db, last_week, ZONE),
    }


def measure(databases: dict[int, Database], samples: int, rounds: int) -> dict[int, dict[str, float]]:
    """Median per size and lookup. The sizes take turns within each round, so the noise
    of a shared machine falls on every size alike rather than on whichever ran last."""
    calls = {size: lookups(db, size) for size, db in databases.items()}
    names = list(next(iter(calls.values())))
    times: dict[int, dict[str, list[float]]] = {size: {name: [] for name in names} for size in databases}
    found: dict[int, dict[str, list[int]]] = {size: {name: [] for name in names} for size in databases}
    rngs = {size: random.Random(size) for size in databases}
    for size in databases:
        for name in names:
            for _ in range(3):
                calls[size][name](rngs[size])  # warm-up: pool connection, statement caches
    per_round = max(samples // rounds, 1)
    for _ in range(rounds):
        for name in names:
            for size in databases:
                for _ in range(per_round):
                    started = time.perf_counter()
                    result = calls[size][name](rngs[size])
                    times[size][name].append((time.perf_counter() - started) * 1000)
                    if isinstance(result, admin_orders.OrderResults):
                        found[size][name].append(result.total)
    MATCHES.update({(size, name): statistics.mean(values) for size, by_name in found.items()
                    for name, values in by_name.items() if values})
    return {size: {name: statistics.median(values) for name, values in by_name.items()}
            for size, by_name in times.items()}


# (size, lookup) -> mean number of orders an admin search found (capped at COUNT_CAP).
MATCHES: dict[tuple[int, str], float] = {}


def build(url: str, size: int) -> None:
    """A database of `size` orders, made by the migrations and filled in bulk."""
    started = time.perf_counter()
    upgrade(url)
    anchor = datetime.now(UTC).replace(microsecond=0)
    dataset.reference_data(url, anchor)
    for start in range(0, size, STEP):
        dataset.load(url, start, min(start + STEP, size), anchor)
    dataset.analyze(url)
    print(f"    {size:>9,} orders loaded in {time.perf_counter() - started:6.1f} s", flush=True)


def run_backend(backend: str, urls: dict[int, str], samples: int, rounds: int) -> dict[int, dict[str, float]]:
    print(f"  {backend}:", flush=True)
    for size, url in urls.items():
        build(url, size)
    databases = {size: Database(url) for size, url in urls.items()}
    try:
        return measure(databases, samples, rounds)
    finally:
        for db in databases.values():
            db.dispose()


def report(backend: str, sizes: list[int], results: dict[int, dict[str, float]]) -> bool:
    small, large = sizes[0], sizes[-1]
    header = "".join(f"{size:>12,}" for size in sizes)
    print(f"\n{backend}: median latency (ms) by number of orders, and the {large:,}/{small:,} ratio")
    print(f"  {'lookup':<44}{header}{'ratio':>9}")
    ok = True
    for name in results[small]:
        ratio = results[large][name] / results[small][name]
        figures = "".join(f"{results[size][name]:12.2f}" for size in sizes)
        ok &= ratio < TARGET_RATIO
        note = "" if ratio < TARGET_RATIO else f"  <-- over {TARGET_RATIO}"
        if name == WEEKLY and results[large][name] >= 1000:
            ok = False
            note += "  <-- over 1 s"
        print(f"  {name:<44}{figures}{ratio:9.2f}{note}")
    searches = sorted({name for (_, name) in MATCHES})
    if searches:
        print("  orders found per admin search (mean; a list shows 25, counts stop at 1000+):")
        for name in searches:
            print(f"    {name:<42}" + "".join(f"{MATCHES.get((size, name), 0):12.1f}" for size in sizes))
    MATCHES.clear()
    return ok


def require_postgresql(admin_url: str) -> None:
    engine = create_engine(admin_url)
    try:
        with engine.connect():
            pass
    except Exception as exc:  # noqa: BLE001 (any failure gets the same advice)
        raise SystemExit(f"PostgreSQL is not reachable at {make_url(admin_url).render_as_string()} "
                         f"({exc.__class__.__name__}); give --pg-url, or --backends sqlite") from exc
    finally:
        engine.dispose()


def main() -> None:
    # A stop (Ctrl-C or SIGTERM) still runs the clean-up: servers stopped, scratch databases dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated order counts")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/test"),
                        help="a PostgreSQL URL whose server may create and drop scratch databases")
    parser.add_argument("--samples", type=int, default=60, help="calls per lookup and size (median)")
    parser.add_argument("--rounds", type=int, default=6, help="interleaved rounds the samples are spread over")
    args = parser.parse_args()
    try:
        run(args)
    finally:
        shutil.rmtree(VAR, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(","))
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    started = time.perf_counter()
    print(f"orderdesk scale benchmark: sizes {', '.join(f'{s:,}' for s in sizes)}; {args.samples} samples per "
          f"lookup and size in {args.rounds} interleaved rounds; backends {', '.join(backends)}")
    all_ok = True
    for backend in backends:
        if backend == "sqlite":
            urls = {size: f"sqlite:///{VAR / f'scale-{size}.db'}" for size in sizes}
            try:
                all_ok &= report(backend, sizes, run_backend(backend, urls, args.samples, args.rounds))
            finally:
                for path in VAR.glob("scale-*"):
                    path.unlink()
            continue
        admin_url = normalize_database_url(args.pg_url)
        require_postgresql(admin_url)
        names = {size: f"orderdesk_scale_{size}_{uuid.uuid4().hex[:6]}" for size in sizes}
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                for name in names.values():
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
            urls = {size: make_url(admin_url).set(database=name).render_as_string(hide_password=False)
                    for size, name in names.items()}
            all_ok &= report(backend, sizes, run_backend(backend, urls, args.samples, args.rounds))
        finally:
            with admin.connect() as conn:
                for name in names.values():
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(f"\n{'all lookups within' if all_ok else 'NOT all lookups within'} {TARGET_RATIO}x; "
          f"total run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
