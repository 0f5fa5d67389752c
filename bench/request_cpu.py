"""CPU time per request, in-process: what each portal page costs, against a bare Litestar app.

    .venv/bin/python bench/request_cpu.py [--background-orders 2000] [--requests 300]

The load benchmark (bench/portal_load.py) measures throughput through a real server and is
noisy on a shared machine; this one calls the ASGI apps directly in one process, one request
at a time, and counts process CPU time (every thread included), which other processes barely
disturb. It prints CPU microseconds per request for:

  bare Litestar "hello"           the ceiling the load benchmark compares with
  the pieces of a page            a thread hop (sync handlers run in threads), one pooled query
  GET /healthz                    the whole stack (CSRF, language, compression, security headers,
                                  a thread hop, one query) with no page
  GET /t/TOKEN, GET /orders/REF   the tracking view and the order page (30 carrier events),
  GET /orders                     the signed-in shopper's order list

and each page's ratio to the bare app: the best req/s ratio a server could reach if it added
no cost of its own. Production settings (ORDERDESK_ENV=prod) on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VAR = Path(tempfile.mkdtemp(prefix="orderdesk-cpu-"))
os.environ.update({
    "ORDERDESK_ENV": "prod", "DATABASE_URL": f"sqlite:///{VAR / 'cpu.db'}",
    "PUBLIC_BASE_URL": "https://127.0.0.1", "ORDERDESK_VAR_DIR": str(VAR), "SMS_PROVIDER": "http",
    "SMS_HTTP_URL": "http://127.0.0.1:9/send", "SMS_HTTP_KEY": "bench", "SMS_HTTP_SECRET": "bench-gateway-secret",
    "ORDERDESK_JOBS": "off",
})


async def call(app, path: str, headers: list[tuple[bytes, bytes]]) -> int:  # noqa: ANN001
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "https",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 443), "state": {}}
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"]


async def cpu_per_call(run, n: int, rounds: int = 5) -> float:  # noqa: ANN001
    """Median over rounds of the CPU microseconds per call."""
    for _ in range(20):
        await run()
    per_round = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(n):
            await run()
        per_round.append((time.process_time() - started) / n * 1e6)
    return statistics.median(per_round)


async def measure(args: argparse.Namespace, keys: dict[str, str]) -> list[tuple[str, float]]:
    import anyio
    from litestar import Litestar, get

    from app import create_app
    from core.db import get_database

    @get("/", sync_to_thread=False)
    def hello() -> str:
        return "hello"

    bare = Litestar([hello])
    app = create_app()
    db = get_database()
    browser = [(b"host", b"127.0.0.1"), (b"accept-encoding", b"gzip")]
    signed_in = [*browser, (b"cookie", f"__Host-od_session={keys['session']}".encode())]

    async def page(path: str, headers: list) -> None:
        status = await call(app, path, headers)
        if status != 200:
            raise SystemExit(f"{path} answered {status}")

    async def hop() -> None:
        await anyio.to_thread.run_sync(lambda: None)

    async def query() -> None:
        db.ping()

    results = []
    async with app.lifespan():
        for name, run in [
            ('bare Litestar "hello"', lambda: call(bare, "/", browser)),
            ("  a thread hop (sync handler)", hop),
            ("  one pooled query (SELECT 1)", query),
            ("GET /healthz (the stack, no page)", lambda: page("/healthz", browser)),
            ("GET /t/TOKEN (tracking view)", lambda: page(f"/t/{keys['tracking_token']}", browser)),
            ("GET /orders/REF (30 events)", lambda: page(f"/orders/{keys['detail_ref']}", signed_in)),
            ("GET /orders (order list)", lambda: page("/orders", signed_in)),
        ]:
            results.append((name, await cpu_per_call(run, args.requests)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--background-orders", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=300, help="requests per round (5 rounds, median)")
    args = parser.parse_args()
    from bench import portal_load

    os.environ["SECRET_KEY"] = portal_load.SECRET  # the seed signs the tracking link with it
    try:
        keys = portal_load.seed(os.environ["DATABASE_URL"], args.background_orders)
        results = asyncio.run(measure(args, keys))
    finally:
        shutil.rmtree(VAR, ignore_errors=True)
        shutil.rmtree(portal_load.VAR, ignore_errors=True)
    bare = results[0][1]
    print(f"CPU time per request, in-process, one at a time (median of 5 rounds of {args.requests}; "
          f"SQLite, ORDERDESK_ENV=prod, {args.background_orders:,} background orders)")
    print(f"  {'':40}{'CPU µs':>10}{'x bare':>9}{'bare/this':>11}")
    for name, micros in results:
        print(f"  {name:<40}{micros:10.0f}{micros / bare:9.1f}{bare / micros:11.1%}")
    print("  (bare/this: the share of the bare app's req/s this page could reach if the server cost nothing; "
          "the load target asks for 25%)")


if __name__ == "__main__":
    main()
