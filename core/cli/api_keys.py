"""`orderdesk api-key create/list/revoke`: keys of the push API."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from core.config import get_settings

if TYPE_CHECKING:
    from core.services.actors import Actor


def _operator() -> Actor:
    """Whoever runs the command: the keys show "cli" as their creator, as they always have."""
    from core.services.actors import Actor, ActorKind

    return Actor(ActorKind.SYSTEM, "cli", via="cli")


def _cmd_create(args: argparse.Namespace) -> int:
    from core.db import get_database
    from core.errors import InvalidInput
    from core.services.channels import api_keys

    try:
        created = api_keys.create_key(get_database(), _operator(), get_settings().secret_key, name=args.name,
                                      scopes=args.scopes, rate_limit_per_minute=args.rate_limit)
    except InvalidInput as exc:
        print(f"api-key create: {exc}", file=sys.stderr)
        return 2
    print(f"integration: {created.integration}")
    print(f"scopes:      {' '.join(created.scopes)}")
    print(f"rate limit:  {args.rate_limit} requests a minute")
    print(f"key id:      {created.key_id}")
    print(f"secret:      {created.secret}")
    print("The secret is shown once; give it to the integration over a private channel. "
          "It stops working if SECRET_KEY changes.")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from core.db import get_database
    from core.services.channels import api_keys

    rows = api_keys.list_keys(get_database())
    if not rows:
        print("no API keys")
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M} UTC" if row.revoked_at else "active"
        used = f"{row.last_used_at:%Y-%m-%d %H:%M} UTC" if row.last_used_at else "never"
        print(f"{row.key_id}  {row.integration}  [{' '.join(row.scopes)}]  {row.rate_limit_per_minute}/min  created {row.created_at:%Y-%m-%d} "
              f"by {row.created_by or '-'}  last used {used}  {state}")
    return 0


def _cmd_revoke(args: argparse.Namespace) -> int:
    from core.db import get_database
    from core.errors import NotFound
    from core.services.channels import api_keys

    try:
        row = api_keys.revoke_key(get_database(), _operator(), args.key_id)
    except NotFound:
        print(f"api-key revoke: no key {args.key_id}", file=sys.stderr)
        return 2
    print(f"{row.key_id} ({row.integration}) revoked; requests signed with it are refused from now on")
    return 0


def add_commands(sub) -> None:  # noqa: ANN001 (argparse's private subparsers type)
    from core.services.channels.api_keys import SCOPES

    api_key = sub.add_parser("api-key", help="manage push API keys", description="Keys of the push API (/api/v1).")
    actions = api_key.add_subparsers(dest="api_key_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a key for an integration (prints its secret once)",
                                description="Create a key for integration NAME (created on first use; a second "
                                            "key for the same name is a rotation: revoke the old one after).")
    create.add_argument("name", help="the integration, e.g. 'WMS Hangzhou' or 'Tmall ERP'")
    create.add_argument("--scopes", required=True, help=f"comma-separated: {','.join(SCOPES)}")
    create.add_argument("--rate-limit", type=int, default=600, metavar="N",
                        help="requests a minute before 429 (default: 600)")
    create.set_defaults(func=_cmd_create)
    listing = actions.add_parser("list", help="list keys", description="List keys, active first.")
    listing.set_defaults(func=_cmd_list)
    revoke = actions.add_parser("revoke", help="revoke a key at once", description="Revoke a key.")
    revoke.add_argument("key_id", help="odk_...")
    revoke.set_defaults(func=_cmd_revoke)
