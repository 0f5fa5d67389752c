"""`orderdesk` command line: migrate, seed-demo, serve, and room for more."""

from __future__ import annotations

import argparse
import sys

from core.config import ConfigError, get_settings


def _cmd_migrate(args: argparse.Namespace) -> int:
    from core.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url, args.revision)
    print(f"Database is at migration {args.revision}: {_safe_url(settings.database_url)}")
    return 0


def _cmd_seed_demo(args: argparse.Namespace) -> int:
    from sqlmodel import func, select

    from core.db import get_database
    from core.models import Order
    from core.services.demo_data import DEMO_PHONE, seed_demo

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
        f"Demo phone {DEMO_PHONE} owns {summary.demo_orders} orders."
    )
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"orderdesk on http://{host}:{port}  (admin: http://{host}:{port}/admin)")
    uvicorn.run(
        "app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        reload=args.reload,
        proxy_headers=settings.is_prod,
        log_level="info",
    )
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
    serve.set_defaults(func=_cmd_serve)
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
