"""`orderdesk import-orders` and `orderdesk import-stock`: files from the channels and the warehouse."""

from __future__ import annotations

import argparse
import os
import sys


def _cmd_import_orders(args: argparse.Namespace) -> int:
    from dataclasses import replace
    from pathlib import Path

    from core.db import get_database
    from core.errors import DomainError
    from core.i18n import interpolate
    from core.services.actors import Actor, ActorKind
    from core.services.channels.order_import import check_timezone, find_mapping, import_file

    db = get_database()
    path = Path(args.file)
    if not path.is_file():
        print(f"import-orders: no such file: {path}", file=sys.stderr)
        return 2
    try:
        mapping = find_mapping(db, args.mapping or args.channel)
        mapping = replace(mapping, channel=args.channel)
        if args.timezone:
            mapping = replace(mapping, timezone=check_timezone(args.timezone))
    except DomainError as exc:
        print(f"import-orders: {exc}", file=sys.stderr)
        return 2
    # The run and the orders' history name the operator's login, as they always have.
    operator = Actor(ActorKind.SYSTEM, f"cli:{os.environ.get('USER', 'cli')}", via="cli")
    summary = import_file(db, operator, path, mapping=mapping, dry_run=args.dry_run)
    for rejection in summary.rejections:
        reason = interpolate(rejection.message, rejection.params)
        print(f"line {rejection.line}, column {rejection.column}: {reason}")
    if summary.rejected > len(summary.rejections):
        print(f"... and {summary.rejected - len(summary.rejections)} more rejected rows")
    if summary.failure:
        failure = interpolate(summary.failure, summary.failure_params)
        print(f"import-orders: {failure}", file=sys.stderr)
    prefix = "Dry run (nothing written): " if args.dry_run else ""
    print(f"{prefix}{summary.new} new, {summary.updated} updated, {summary.unchanged} unchanged, "
          f"{summary.rejected} rejected ({path.name}, channel {mapping.channel}, mapping {mapping.name})")
    return 1 if summary.failure else 0


def _cmd_import_stock(args: argparse.Namespace) -> int:
    from pathlib import Path

    from core.db import get_database
    from core.errors import DomainError
    from core.services.stock.sheet_import import import_stock

    path = Path(args.file)
    if not path.is_file():
        print(f"import-stock: no such file: {path}", file=sys.stderr)
        return 2
    try:
        summary = import_stock(get_database(), path, dry_run=args.dry_run)
    except DomainError as exc:
        print(f"import-stock: {exc}", file=sys.stderr)
        return 2
    for rejection in summary.rejections:
        print(f"line {rejection.line}, column {rejection.column}: {rejection.text}")
    prefix = "Dry run (nothing written): " if args.dry_run else ""
    print(f"{prefix}{summary.changed} changed, {summary.unchanged} unchanged, {len(summary.rejections)} rejected; "
          f"{summary.released_orders} orders gave units back ({path.name})")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    from core.models import Channel

    imp = sub.add_parser("import-orders", help="import a channel's order export (.csv or .xlsx)",
                         description="Import orders from a platform export: new orders go in, known ones take a "
                                     "newer status, bad rows are listed with line, column and reason.")
    imp.add_argument("file", help=".csv (UTF-8, UTF-8 with BOM, GBK/GB18030) or .xlsx")
    imp.add_argument("--channel", required=True, choices=[c.value for c in Channel])
    imp.add_argument("--mapping", help="column preset (taobao, jd, pinduoduo, douyin, shopify) or a mapping saved "
                                       "in the admin (default: the channel's preset)")
    imp.add_argument("--timezone", help="read times without an offset in this zone (default: the mapping's)")
    imp.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    imp.set_defaults(func=_cmd_import_orders)

    stock = sub.add_parser("import-stock", help="set stock levels from a count (.csv or .xlsx)",
                           description="Set each SKU's count on the shelf per warehouse (columns warehouse, sku, "
                                       "on_hand, or 仓库编码, 商家编码, 库存). Valid rows are applied together; "
                                       "bad rows are listed with line, column and reason.")
    stock.add_argument("file", help=".csv (UTF-8, UTF-8 with BOM, GBK/GB18030) or .xlsx")
    stock.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    stock.set_defaults(func=_cmd_import_stock)
