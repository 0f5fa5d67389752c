"""`orderdesk` command line: migrate, seed-demo, serve, and room for more."""

from __future__ import annotations

import argparse
import os
import sys

from core.config import ConfigError, get_settings


def _cmd_migrate(args: argparse.Namespace) -> int:
    from core.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url, args.revision)
    print(f"Database is at migration {args.revision}: {_safe_url(settings.database_url)}")
    if not settings.is_sqlite:
        from core.jobs.queue import ensure_schema

        if ensure_schema(settings):
            print("Job queue (procrastinate) schema applied")
    return 0


def _cmd_seed_demo(args: argparse.Namespace) -> int:
    from sqlmodel import func, select

    from core.db import get_database
    from core.demo.orders import DEMO_PHONE, seed_demo, seed_demo_staff
    from core.models import Order

    db = get_database()
    if args.if_empty:
        with db.read() as session:
            if session.exec(select(func.count()).select_from(Order)).one():
                print("Demo data: the database already has orders, nothing added.")
                return 0
    try:
        summary = seed_demo(db, orders=args.orders, seed=args.seed)
    except RuntimeError as exc:
        print(f"seed-demo: {exc}", file=sys.stderr)
        return 1
    print(
        f"Demo data: {summary.orders} orders, {summary.customers} customers, "
        f"{summary.shipments} shipments, {summary.events} tracking events. "
        f"Demo phone {DEMO_PHONE} owns {summary.demo_orders} orders. "
        f"Triage scan: {summary.tags} exceptions tagged."
    )
    logins = get_settings().var_dir / "demo-logins.txt"
    if seed_demo_staff(db, logins):
        print(f"Demo staff accounts (one per role) with their passwords: {logins}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    settings = get_settings()
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"orderdesk on http://{host}:{port}  (admin: http://{host}:{port}/admin)")
    if settings.is_sqlite and os.environ.get("ORDERDESK_JOBS", "in-process") == "in-process":
        # A single-machine install: the periodic jobs run in one of the server's workers
        # (core/jobs/inprocess.py says why not here); on PostgreSQL: `orderdesk worker`.
        from core.jobs.inprocess import EMBEDDED_JOBS_ENV

        os.environ[EMBEDDED_JOBS_ENV] = "1"
        print("periodic jobs run in-process (SQLite); set ORDERDESK_JOBS=off to disable")
    if args.server == "granian":
        if args.reload:
            print("serve: --reload works with --server uvicorn only", file=sys.stderr)
            return 2
        from granian import Granian
        from granian.constants import Interfaces

        Granian("app:create_served_app", factory=True, address=host, port=port, workers=args.workers,
                interface=Interfaces.ASGI, websockets=False, log_access=not args.no_access_log).serve()
        return 0
    import uvicorn

    uvicorn.run(
        "app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        reload=args.reload,
        proxy_headers=settings.is_prod,
        log_level="info",
        access_log=not args.no_access_log,
    )
    return 0


def _cmd_verify_evidence(args: argparse.Namespace) -> int:
    from core.db import get_database
    from core.errors import NotFound
    from core.services.tracking.evidence import verify_order

    try:
        result = verify_order(get_database(), args.ref)
    except NotFound:
        print(f"verify-evidence: no order {args.ref}", file=sys.stderr)
        return 2
    for check in result.checks:
        state = "intact" if check.intact else f"ALTERED: {check.problem}"
        print(f"{check.tracking_no}: {check.event_count} events, head {check.head[:16]}…  {state}")
    if not result.checks:
        print("no shipments, nothing to verify")
    print(f"digest {result.digest}")
    print("OK: the carrier record is intact" if result.intact else "FAILED: the carrier record was altered")
    return 0 if result.intact else 1


def _cmd_simulate_carrier(args: argparse.Namespace) -> int:
    import uvicorn

    from devservers.carrier import create_simulator

    customer, key = get_settings().query_credentials
    print(f"simulated carrier (Kuaidi100 format) on http://{args.host}:{args.port}")
    print(f"point orderdesk at it with KUAIDI100_BASE_URL=http://{args.host}:{args.port}")
    uvicorn.run(create_simulator(customer=customer, key=key), host=args.host, port=args.port, log_level="info")
    return 0


SIMULATED_WECHAT_APP_ID = "wx5im0rderdesk0001"


def _cmd_simulate_wechat(args: argparse.Namespace) -> int:
    import uvicorn

    from core.config import WECHAT_TEMPLATE_EVENTS
    from devservers.wechat import ENDPOINTS, create_wechat_simulator

    settings = get_settings()
    app_id = settings.wechat_app_id or SIMULATED_WECHAT_APP_ID
    # A development stand-in derived from SECRET_KEY, as for the Kuaidi100 simulator.
    secret = settings.wechat_app_secret or settings.derived_secret("wechat-simulator")
    failures: dict[str, int] = {}
    # WECHAT_SIM_FAIL="send=3,token=1" does what --fail does, for a simulator started by a script.
    from_env = [item.strip() for item in os.environ.get("WECHAT_SIM_FAIL", "").split(",") if item.strip()]
    for item in [*from_env, *(args.fail or [])]:
        endpoint, _, count = item.partition("=")
        try:
            failures[endpoint] = int(count or "1")
            if endpoint not in ENDPOINTS:
                raise ValueError
        except ValueError:
            print(f"simulate-wechat: --fail wants ENDPOINT=COUNT with ENDPOINT one of {', '.join(ENDPOINTS)}, "
                  f"got {item!r}", file=sys.stderr)
            return 2
    base = f"http://{args.host}:{args.port}"
    print(f"simulated WeChat official account API on {base}")
    print("point orderdesk at it with:")
    print(f"  WECHAT_APP_ID={app_id} WECHAT_APP_SECRET={secret} \\")
    print(f"  WECHAT_API_BASE={base} WECHAT_OAUTH_BASE={base} \\")
    print("  " + " ".join(f"WECHAT_TEMPLATE_{event.upper()}=sim-{event}" for event in WECHAT_TEMPLATE_EVENTS))
    print(f"messages received: {base}/_sim/messages; failures on demand: {base}/_sim/fail?endpoint=send&count=3")
    app = create_wechat_simulator(app_id=app_id, app_secret=secret, openid=args.openid, failures=failures)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def _cmd_poll_carriers(args: argparse.Namespace) -> int:
    from core.carriers.kuaidi100 import Kuaidi100Client
    from core.db import get_database
    from core.services.tracking.polling import poll_round

    settings = get_settings()
    customer, key = settings.query_credentials
    client = Kuaidi100Client(base_url=settings.kuaidi100_base_url, customer=customer, key=key,
                             max_concurrency=args.workers)
    result = poll_round(get_database(), client, limit=args.limit, workers=args.workers)
    print(f"polled {result.polled} parcels: {result.added} new events, {result.duplicates} already known, "
          f"{len(result.failed)} failed")
    return 0 if not result.failed else 1


def _cmd_tracking_link(args: argparse.Namespace) -> int:
    from core.db import get_database
    from core.errors import NotFound
    from core.services.orders import lifecycle as order_service
    from core.services.tracking import links as tracking_links

    db = get_database()
    try:
        if args.revoke:
            version = tracking_links.revoke(db, args.ref)
            print(f"all earlier tracking links of {args.ref} are revoked (link version {version})")
        order = order_service.get_order(db, args.ref)
    except NotFound:
        print(f"tracking-link: no order {args.ref}", file=sys.stderr)
        return 2
    print(tracking_links.link_url(order, get_settings()))
    return 0


def _password_from(args: argparse.Namespace) -> tuple[str, bool]:
    """The password from stdin (--password-stdin), or a generated one to print once."""
    import secrets

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    return secrets.token_urlsafe(12), True


def _cmd_staff_create(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from core.db import get_database
    from core.errors import InvalidInput
    from core.models import Warehouse
    from core.services.actors import Actor
    from core.services.identity.staff import create_staff

    db = get_database()
    warehouse_id = None
    if args.warehouse:
        with db.read() as session:
            warehouse = session.exec(select(Warehouse).where(Warehouse.code == args.warehouse)).first()
        if warehouse is None:
            print(f"staff create: no warehouse {args.warehouse}", file=sys.stderr)
            return 2
        warehouse_id = warehouse.id
    password, generated = _password_from(args)
    try:
        create_staff(db, Actor.system(via="cli"), email=args.email, role=args.role, password=password, name=args.name or "",
                     warehouse_id=warehouse_id)
    except InvalidInput as exc:
        print(f"staff create: {exc}", file=sys.stderr)
        return 2
    print(f"created {args.email} ({args.role})" + (f", password: {password}" if generated else ""))
    return 0


def _cmd_staff_reset(args: argparse.Namespace) -> int:
    from core.db import get_database
    from core.errors import InvalidInput
    from core.services.actors import Actor
    from core.services.identity.staff import reset_password

    password, generated = _password_from(args)
    try:
        reset_password(get_database(), Actor.system(via="cli"), email=args.email, password=password)
    except InvalidInput as exc:
        print(f"staff reset-password: {exc}", file=sys.stderr)
        return 2
    print(f"password of {args.email} reset" + (f": {password}" if generated else "") + "; their sessions ended")
    return 0


def _cmd_verify_audit(args: argparse.Namespace) -> int:
    from core.db import get_database
    from core.services.audit.log import verify

    result = verify(get_database())
    if result.intact:
        print(f"OK: {result.entries} audit entries, chain intact")
        return 0
    print(f"FAILED: {result.problem}")
    return 1


def _cmd_worker(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.run:
        from core.db import get_database
        from core.jobs.tasks import run_job

        print(run_job(get_database(), settings, args.run))
        return 0
    if settings.is_sqlite:
        from core.db import get_database
        from core.jobs.inprocess import Scheduler

        print("SQLite: running the periodic jobs in this process (Ctrl+C to stop)")
        Scheduler(get_database(), settings).run_forever()
        return 0
    from core.jobs.queue import ensure_schema, run_worker

    ensure_schema(settings)
    print("procrastinate worker on the PostgreSQL queue (Ctrl+C to stop)")
    run_worker(settings, concurrency=args.concurrency)
    return 0


def _cmd_triage_scan(args: argparse.Namespace) -> int:
    from core.db import get_database
    from core.services.triage.engine import scan

    result = scan(get_database())
    print(f"triage scan: {result.orders} orders checked, {result.hits} findings: {result.opened} tags opened, "
          f"{result.already_open} already open, {result.kept_resolved} left resolved")
    for code, count in sorted(result.by_rule.items()):
        print(f"  {code}: {count} opened")
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orderdesk", description="Customer order portal and staff admin.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    migrate = sub.add_parser("migrate", help="apply database migrations", description="Apply Alembic migrations.")
    migrate.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    migrate.set_defaults(func=_cmd_migrate)

    seed = sub.add_parser("seed-demo", help="load deterministic demo data", description="Load demo orders.")
    seed.add_argument("--orders", type=int, default=320, help="how many orders (default: 320)")
    seed.add_argument("--seed", type=int, default=20261122, help="random seed (default: 20261122)")
    seed.add_argument("--if-empty", action="store_true", help="do nothing when orders already exist")
    seed.set_defaults(func=_cmd_seed_demo)

    serve = sub.add_parser("serve", help="run the web server", description="Serve the portal and the admin.")
    serve.add_argument("--host", help="bind address (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: PORT or 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    serve.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    serve.add_argument("--server", choices=["uvicorn", "granian"], default="uvicorn",
                       help="uvicorn (default; --reload) or granian (production: faster under load)")
    serve.add_argument("--no-access-log", action="store_true",
                       help="no line per request (production: the TLS proxy in front logs requests)")
    serve.set_defaults(func=_cmd_serve)

    verify = sub.add_parser("verify-evidence", help="recompute an order's carrier-event hash chains",
                            description="Recompute the hash chains of an order's carrier events; exit 1 if altered.")
    verify.add_argument("ref", help="orderdesk order reference, e.g. OD7K2M9XQ4PA")
    verify.set_defaults(func=_cmd_verify_evidence)

    sim = sub.add_parser("simulate-carrier", help="run the simulated carrier aggregator",
                         description="A Kuaidi100-format carrier simulator for the demo and the tests.")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8100)
    sim.set_defaults(func=_cmd_simulate_carrier)

    wsim = sub.add_parser("simulate-wechat", help="run the simulated WeChat official-account API",
                          description="WeChat OAuth (snsapi_base), access token and template messages, "
                                      "with failures on demand, for the demo and the tests.")
    wsim.add_argument("--host", default="127.0.0.1")
    wsim.add_argument("--port", type=int, default=8025)
    wsim.add_argument("--openid", help="the openid of the simulated WeChat user (default: fixed per app id)")
    wsim.add_argument("--fail", action="append", metavar="ENDPOINT=N",
                      help="the first N calls of authorize, oauth, token or send fail (repeatable; also WECHAT_SIM_FAIL=send=3,token=1)")
    wsim.set_defaults(func=_cmd_simulate_wechat)

    poll = sub.add_parser("poll-carriers", help="poll the carrier API once for parcels in transit",
                          description="One polling round over undelivered shipments (KUAIDI100_BASE_URL).")
    poll.add_argument("--limit", type=int, default=200, help="parcels per round (default: 200)")
    poll.add_argument("--workers", type=int, default=4, help="queries at once (default: 4)")
    poll.set_defaults(func=_cmd_poll_carriers)

    link = sub.add_parser("tracking-link", help="print (or revoke) an order's signed tracking link",
                          description="Print the signed /t/ tracking link of an order for SMS or QR codes.")
    link.add_argument("ref", help="orderdesk order reference")
    link.add_argument("--revoke", action="store_true", help="revoke every earlier link first")
    link.set_defaults(func=_cmd_tracking_link)

    staff = sub.add_parser("staff", help="manage staff accounts", description="Staff accounts.")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    create = staff_sub.add_parser("create", help="create a staff account", description="Create a staff account; "
                                  "prints a generated password unless --password-stdin.")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=["admin", "supervisor", "support", "warehouse", "compliance"])
    create.add_argument("--name")
    create.add_argument("--warehouse", help="warehouse code (warehouse staff see only its orders)")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.set_defaults(func=_cmd_staff_create)
    reset = staff_sub.add_parser("reset-password", help="set a new password and end their sessions",
                                 description="Reset a staff password.")
    reset.add_argument("--email", required=True)
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    reset.set_defaults(func=_cmd_staff_reset)

    triage = sub.add_parser("triage-scan", help="tag orders that need attention (run it every few minutes)",
                            description="Run the triage rules over recent orders and open a tag for each new "
                                        "exception; open and resolved tags are left as they are.")
    triage.set_defaults(func=_cmd_triage_scan)

    audit_cmd = sub.add_parser("verify-audit", help="check the audit log's hash chain",
                               description="Recompute the audit log's hash chain; exit 1 if altered.")
    audit_cmd.set_defaults(func=_cmd_verify_audit)

    from core.cli_imports import add_commands as add_import_commands

    add_import_commands(sub)

    from core.cli_api_keys import add_commands as add_api_key_commands

    add_api_key_commands(sub)

    from core.jobs.tasks import JOBS

    worker = sub.add_parser("worker", help="run the periodic jobs (procrastinate on PostgreSQL)",
                            description="Run a job worker: procrastinate on PostgreSQL (any number of them, on any "
                                        "machine), the in-process scheduler on SQLite.")
    worker.add_argument("--concurrency", type=int, default=2, help="jobs at once (PostgreSQL; default: 2)")
    worker.add_argument("--run", choices=[job.name for job in JOBS], help="run one job now and exit")
    worker.set_defaults(func=_cmd_worker)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        get_settings()
    except ConfigError as exc:
        print(f"orderdesk: {exc}", file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
