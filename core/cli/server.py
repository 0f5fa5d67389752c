"""Getting an installation running: migrate, seed-demo, serve, and the job worker."""

from __future__ import annotations

import argparse
import os
import sys

from core.config import get_settings


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
    from core.demo.orders import DEMO_PHONE, seed_demo
    from core.demo.staff import seed_demo_staff
    from core.models import Order

    if get_settings().is_prod:
        # Demo staff accounts with their passwords on disk have no place on a production database.
        print("seed-demo: refused when ORDERDESK_ENV=prod (demo orders and staff accounts are for trying "
              "orderdesk out)", file=sys.stderr)
        return 2
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


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def add_commands(sub: argparse._SubParsersAction) -> None:
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

    from core.jobs.tasks import JOBS

    worker = sub.add_parser("worker", help="run the periodic jobs (procrastinate on PostgreSQL)",
                            description="Run a job worker: procrastinate on PostgreSQL (any number of them, on any "
                                        "machine), the in-process scheduler on SQLite.")
    worker.add_argument("--concurrency", type=int, default=2, help="jobs at once (PostgreSQL; default: 2)")
    worker.add_argument("--run", choices=[job.name for job in JOBS], help="run one job now and exit")
    worker.set_defaults(func=_cmd_worker)
