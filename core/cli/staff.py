"""Staff accounts and the audit log: staff create/reset-password, verify-audit."""

from __future__ import annotations

import argparse
import sys


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


def add_commands(sub: argparse._SubParsersAction) -> None:
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

    audit_cmd = sub.add_parser("verify-audit", help="check the audit log's hash chain",
                               description="Recompute the audit log's hash chain; exit 1 if altered.")
    audit_cmd.set_defaults(func=_cmd_verify_audit)
