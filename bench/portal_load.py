"""The portal under load, against a bare Litestar app on the same server as the ceiling.

    .venv/bin/python bench/portal_load.py [--database postgresql|sqlite] [--workers 2]
                                          [--server granian|uvicorn] [--connections 50] [--duration 10]

Needs wrk (Debian: `apt-get install -y wrk`; `make bench-load` installs it).

orderdesk runs as in production: ORDERDESK_ENV=prod (secret key, explicit database,
https public address, the HTTP SMS provider pointed at a stand-in gateway on
loopback, __Host- cookies, HSTS), started with `orderdesk serve --server granian
--workers 2 --no-access-log` (one worker per core), on PostgreSQL (or SQLite) holding
10,000 background orders plus the signed-in shopper's: 12 orders, one with 30 carrier
events. The bare app ("hello") runs on the same server with the same worker count, and
is measured again before each endpoint (a shared machine's load changes by the minute).
Every wrk run sends gzip in Accept-Encoding and the CSRF cookie, like a browser.

Measured, each for --duration seconds at --connections connections after a warm-up:
  GET /healthz           the floor of this stack: server, framework, middleware, one query
  GET /orders            the signed-in shopper's order list (10 cards)
  GET /orders/REF        the order page with 30 carrier events
  GET /t/TOKEN           the signed tracking link of the same order (no sign-in)
  POST /login            code requests for changing phones from one client: the rate
                         limits must hold (at most 20 codes an hour per client IP)
Targets: order page and tracking view at least 25% of the bare app's requests/s,
p99 under 100 ms, no error other than the expected 429s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VAR = Path(tempfile.mkdtemp(prefix="orderdesk-load-"))
SECRET = "bench-secret-key-" + uuid.uuid4().hex

BARE_APP = '''
from litestar import Litestar, get


@get("/", sync_to_thread=False)
def hello() -> str:
    return "hello"


app = Litestar([hello])
'''

# Per-thread status counts, added up in done(); latency in microseconds.
LUA_COMMON = r'''
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  local counts = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do counts[code] = (counts[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(counts) do table.insert(parts, string.format('"%d": %d', code, n)) end
  io.write(string.format('\nRESULT {"requests": %d, "duration_us": %d, "p50_us": %.0f, "p99_us": %.0f, ' ..
    '"max_us": %.0f, "connect": %d, "read": %d, "write": %d, "timeout": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    table.concat(parts, ", ")))
end
'''

LUA_GET = r'''
wrk.method = "GET"
wrk.headers["Accept-Encoding"] = "gzip"
wrk.headers["Accept"] = "text/html"
{cookie}
'''

LUA_LOGIN = r'''
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept-Encoding"] = "gzip"
wrk.headers["HX-Request"] = "true"
wrk.headers["Cookie"] = "{cookie}"
local counter = 0
request = function()
  counter = counter + 1
  -- A different mobile number each time: the per-phone limits do not mask the per-IP one.
  local phone = string.format("137%08d", (math.random(0, 999) * 100000 + counter) % 100000000)
  return wrk.format(nil, "/login", nil, "phone=" .. phone .. "&next=%2Forders&_csrf_token={token}")
end
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmsGateway(BaseHTTPRequestHandler):
    """Stands in for the SMS provider: accepts every message, counts them. Sign-in codes
    (to the 137 numbers the login run uses) are counted apart from the order messages
    the periodic jobs deliver meanwhile."""

    sent = 0
    codes = 0
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802
        message = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        with SmsGateway.lock:
            SmsGateway.sent += 1
            SmsGateway.codes += str(message.get("to", "")).startswith("+86137")
            number = SmsGateway.sent
        body = json.dumps({"message_id": f"bench-{number}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def prepare_database(database: str, pg_url: str) -> tuple[str, callable]:
    if database == "sqlite":
        return f"sqlite:///{VAR / 'load.db'}", lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from core.db_url import normalize_database_url

    admin_url = normalize_database_url(pg_url)
    name = f"orderdesk_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 (any failure gets the same advice)
        raise SystemExit(f"PostgreSQL is not reachable at {make_url(admin_url).render_as_string()} "
                         f"({exc.__class__.__name__}); give --pg-url, or --database sqlite") from exc

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def seed(url: str, background_orders: int) -> dict[str, str]:
    """Background orders in bulk, then the shopper's own through the services."""
    from bench import dataset
    from core.carriers.base import NormalizedEvent
    from core.db import Database
    from core.migrate import upgrade
    from core.models import Shipment
    from core.services.actors import Actor
    from core.services.identity import customer_sessions as sessions
    from core.services.orders import lifecycle as order_service
    from core.services.orders import shipping
    from core.services.orders.addresses import ShippingAddress
    from core.services.tracking import links as tracking_links
    from core.services.tracking.events import append_events

    upgrade(url)
    anchor = datetime.now(UTC).replace(microsecond=0)
    dataset.reference_data(url, anchor)
    for start in range(0, background_orders, 100_000):
        dataset.load(url, start, min(start + 100_000, background_orders), anchor)
    dataset.analyze(url)
    db = Database(url)
    address = ShippingAddress(recipient="陈小明", phone="+8613800138000", province="浙江省", city="杭州市",
                              district="西湖区", street="文三路 100 号 2 幢 301 室", postal_code="310012")
    refs = []
    for n in range(12):
        placed = anchor - timedelta(days=12 - n)
        order = order_service.create_order(db, order_service.NewOrder(
            channel="taobao", channel_order_no=f"BENCH{n:04d}", customer_phone="13800138000",
            customer_name="陈小明", address=address, created_at=placed,
            lines=[order_service.NewLine(sku="SKU-TEA-001", name="西湖龙井 明前特级 250g", quantity=1,
                                         unit_price_minor=36800),
                   order_service.NewLine(sku="SKU-CUP-010", name="景德镇手绘陶瓷马克杯", quantity=2,
                                         unit_price_minor=8900)]))
        order_service.mark_paid(db, order.ref, paid_minor=order.total_minor, at=placed + timedelta(minutes=5))
        shipment = shipping.mark_shipped(db, Actor.integration("warehouse", via="system"), order.ref, carrier="SF",
                                         tracking_no=f"SF9{n:011d}", at=placed + timedelta(hours=6))
        count = 30 if n == 11 else 4
        events = [NormalizedEvent(placed + timedelta(hours=7 + 3 * k), "0",
                                  f"【杭州市】快件已到达 杭州转运中心，正在分拣，下一站 西湖区营业部（第 {k + 1} 站）",
                                  "杭州市", "in_transit", None, json.dumps({"k": k}))
                  for k in range(count)]
        with db.write() as session:
            append_events(session, session.get(Shipment, shipment.id), events, source="push")
        refs.append(order.ref)
    detail_ref = refs[-1]
    token = sessions.start_session(db, phone="+8613800138000", client_ip="127.0.0.1")
    link = tracking_links.make_token(order_service.get_order(db, detail_ref), secret=SECRET,
                                     valid_for=timedelta(days=30))
    db.dispose()
    return {"session": token, "detail_ref": detail_ref, "tracking_token": link}


def wait_ready(port: int, path: str, server: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}; see {VAR / 'server.log'}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the server did not answer on port {port} within {timeout:.0f} s")


def start_server(args: argparse.Namespace, target: str, port: int, env: dict[str, str], log_name: str,
                 ready_path: str) -> subprocess.Popen:
    """Both apps on one set-up: the chosen server, --workers processes, no access log."""
    python = sys.executable
    if target == "orderdesk":
        command = [str(Path(python).parent / "orderdesk"), "serve", "--server", args.server, "--host", "127.0.0.1",
                   "--port", str(port), "--workers", str(args.workers), "--no-access-log"]
    elif args.server == "granian":
        command = [python, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(args.workers), "--log-level", "warning", "--no-ws", "bench_hello:app"]
    else:
        command = [python, "-m", "uvicorn", "bench_hello:app", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(args.workers), "--no-access-log", "--log-level", "warning"]
    log = open(VAR / log_name, "w")  # noqa: SIM115 (closed with the process)
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    wait_ready(port, ready_path, server)
    return server


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def wrk(url: str, script: str, *, connections: int, duration: float, threads: int) -> dict:
    path = VAR / f"wrk-{uuid.uuid4().hex[:6]}.lua"
    path.write_text(script + LUA_COMMON)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(round(duration), 1)}s", "--timeout", "5s",
               "-s", str(path), url]
    run = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    if run.returncode != 0:
        raise SystemExit(f"wrk failed ({run.returncode}): {run.stderr or run.stdout}")
    output = run.stdout
    match = re.search(r"^RESULT (\{.*\})$", output, re.MULTILINE)
    if not match:
        raise SystemExit(f"no result from wrk:\n{output}")
    result = json.loads(match.group(1))
    result["statuses"] = {int(code): n for code, n in result["statuses"].items()}
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["socket_errors"] = result["connect"] + result["read"] + result["write"] + result["timeout"]
    return result


def main() -> None:
    # A stop (Ctrl-C or SIGTERM) still runs the clean-up: servers stopped, scratch databases dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/test"),
                        help="a PostgreSQL URL whose server may create and drop a scratch database")
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="granian")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up before each run")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--background-orders", type=int, default=10_000)
    args = parser.parse_args()

    try:
        run(args)
    finally:
        shutil.rmtree(VAR, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed. On Debian/Ubuntu: sudo apt-get install -y wrk "
                         "(or run `make bench-load`, which installs it).")
    started = time.monotonic()
    hello_dir = VAR / "hello"
    hello_dir.mkdir()
    (hello_dir / "bench_hello.py").write_text(BARE_APP)

    gateway = ThreadingHTTPServer(("127.0.0.1", 0), SmsGateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    database_url, drop_database = prepare_database(args.database, args.pg_url)
    port, bare_port = free_port(), free_port()
    env = {
        **os.environ,
        "ORDERDESK_ENV": "prod",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": "https://127.0.0.1",
        "ORDERDESK_VAR_DIR": str(VAR),
        "SMS_PROVIDER": "http",
        "SMS_HTTP_URL": f"http://127.0.0.1:{gateway.server_address[1]}/send",
        "SMS_HTTP_KEY": "bench",
        "SMS_HTTP_SECRET": "bench-gateway-secret",
        "PYTHONPATH": str(hello_dir),
    }
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
    servers: list[subprocess.Popen] = []
    try:
        print(f"seeding {args.background_orders:,} background orders and the shopper's 12 on {args.database} ...",
              flush=True)
        keys = seed(database_url, args.background_orders)
        print(f"server: {args.server}, {args.workers} workers, no access log; wrk {args.wrk_threads} thread(s), "
              f"{args.connections} connections, {args.duration:.0f} s per run after {args.warmup:.0f} s warm-up; "
              f"{os.cpu_count()} CPUs shared by server, database and wrk", flush=True)

        def measure(url: str, script: str, *, warmup: bool = True) -> dict:
            if warmup and args.warmup:
                wrk(url, script, connections=args.connections, duration=args.warmup, threads=args.wrk_threads)
            return wrk(url, script, connections=args.connections, duration=args.duration, threads=args.wrk_threads)

        # Both servers stay up (an idle one costs nothing); each endpoint's run follows a run
        # of the bare app, so both see the same moment of a shared machine's load.
        bare = start_server(args, "bare", bare_port, env, "bare.log", "/")
        servers.append(bare)
        app = start_server(args, "orderdesk", port, env, "server.log", "/healthz")
        servers.append(app)
        base = f"http://127.0.0.1:{port}"
        import httpx

        # A browser holds the CSRF cookie from its first page on; so do these runs.
        login_page = httpx.get(f"{base}/login")
        csrf_cookie = re.search(r"(__Host-csrftoken=[^;]+)", login_page.headers.get("set-cookie", "")).group(1)
        csrf_token = re.search(r'name="_csrf_token" value="([^"]+)"', login_page.text).group(1)
        signed_in = f'wrk.headers["Cookie"] = "__Host-od_session={keys["session"]}; {csrf_cookie}"'
        anonymous = f'wrk.headers["Cookie"] = "{csrf_cookie}"'
        runs = [
            # The floor of this stack: server, framework, every middleware, one query; no page.
            ("GET /healthz (stack floor)", f"{base}/healthz", LUA_GET.format(cookie=anonymous), True),
            ("GET /orders (10 cards)", f"{base}/orders", LUA_GET.format(cookie=signed_in), True),
            ("GET /orders/REF (30 events)", f"{base}/orders/{keys['detail_ref']}", LUA_GET.format(cookie=signed_in),
             True),
            ("GET /t/TOKEN (tracking link)", f"{base}/t/{keys['tracking_token']}", LUA_GET.format(cookie=anonymous),
             True),
            ("POST /login (code request)", f"{base}/login",
             LUA_LOGIN.replace("{cookie}", csrf_cookie).replace("{token}", csrf_token), False),
        ]
        hello = f"http://127.0.0.1:{bare_port}/"
        results, bare_runs = {}, {}
        for name, url, script, warmup in runs:
            bare_runs[name] = measure(hello, LUA_GET.format(cookie=""))
            results[name] = measure(url, script, warmup=warmup)
            print(f"  {name:<30} {results[name]['rps']:8.0f} req/s   bare app just before: "
                  f"{bare_runs[name]['rps']:8.0f} req/s", flush=True)
    finally:
        for server in servers:
            stop_server(server)
        gateway.shutdown()
        report_database = database_url
        codes = count_codes(report_database)
        drop_database()

    bare_all = [r["rps"] for r in bare_runs.values()]
    print(f"\nbare app (GET / -> hello), run before each endpoint: {min(bare_all):.0f} to {max(bare_all):.0f} req/s, "
          f"p99 {max(r['p99_us'] for r in bare_runs.values()) / 1000:.1f} ms at most")
    print(f"{'endpoint':<32}{'req/s':>9}{'x bare':>8}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for name, r in results.items():
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(r["statuses"].items()))
        errors = f", socket errors: {r['socket_errors']}" if r["socket_errors"] else ""
        print(f"{name:<32}{r['rps']:9.0f}{r['rps'] / bare_runs[name]['rps']:8.3f}{r['p50_us'] / 1000:9.1f}"
              f"{r['p99_us'] / 1000:9.1f}  {statuses}{errors}")

    verdicts = []
    for name in ("GET /orders/REF (30 events)", "GET /t/TOKEN (tracking link)"):
        r = results[name]
        verdicts.append((f"{name}: >= 25% of the bare app's req/s", r["rps"] / bare_runs[name]["rps"] >= 0.25))
    for name, r in results.items():
        verdicts.append((f"{name}: p99 < 100 ms", r["p99_us"] < 100_000))
        expected = {200, 429} if name.startswith("POST") else {200}
        unexpected = sum(n for code, n in r["statuses"].items() if code not in expected) + r["socket_errors"]
        verdicts.append((f"{name}: no errors (got {unexpected})", unexpected == 0))
    login = results["POST /login (code request)"]
    sent = login["statuses"].get(200, 0)
    verdicts.append((f"POST /login: rate limit held ({sent} codes sent = {codes} stored = {SmsGateway.codes} texts, "
                     f"{login['statuses'].get(429, 0)} answered 429; limit 20 per client IP per hour)",
                     sent == codes == SmsGateway.codes and sent <= 20))
    print()
    for text, ok in verdicts:
        print(f"  [{'ok' if ok else 'MISSED'}] {text}")
    print(f"\ntotal run time {time.monotonic() - started:.0f} s")


def count_codes(url: str) -> int:
    from sqlalchemy import text

    from core.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM login_code")).scalar_one()
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
