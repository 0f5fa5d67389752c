"""Commands about orders and their parcels: evidence, carrier polling, tracking links, triage."""

from __future__ import annotations

import argparse
import sys

from core.config import get_settings


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


def _cmd_triage_scan(args: argparse.Namespace) -> int:
    from core.db import get_database
    from core.services.triage.engine import scan

    result = scan(get_database())
    print(f"triage scan: {result.orders} orders checked, {result.hits} findings: {result.opened} tags opened, "
          f"{result.already_open} already open, {result.kept_resolved} left resolved")
    for code, count in sorted(result.by_rule.items()):
        print(f"  {code}: {count} opened")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    verify = sub.add_parser("verify-evidence", help="recompute an order's carrier-event hash chains",
                            description="Recompute the hash chains of an order's carrier events; exit 1 if altered.")
    verify.add_argument("ref", help="orderdesk order reference, e.g. OD7K2M9XQ4PA")
    verify.set_defaults(func=_cmd_verify_evidence)

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

    triage = sub.add_parser("triage-scan", help="tag orders that need attention (run it every few minutes)",
                            description="Run the triage rules over recent orders and open a tag for each new "
                                        "exception; open and resolved tags are left as they are.")
    triage.set_defaults(func=_cmd_triage_scan)
