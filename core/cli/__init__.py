"""`orderdesk` command line: one module per area adds its commands; packages outside core
(the development servers in devservers/) add theirs through the `orderdesk.commands` entry points."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from core.cli import api_keys, imports, orders, server, staff
from core.config import ConfigError, get_settings

# Each entry point in this group is named after the command it adds and points at a function
# `add(sub)` that adds it to the subparsers: core lists commands without importing who provides them.
PLUGIN_GROUP = "orderdesk.commands"


def add_plugin_commands(sub: argparse._SubParsersAction) -> None:
    for entry in sorted(entry_points(group=PLUGIN_GROUP), key=lambda entry: entry.name):
        if entry.name in sub.choices:
            raise RuntimeError(f"the command {entry.name} is declared twice ({entry.value})")
        entry.load()(sub)
        if entry.name not in sub.choices:
            raise RuntimeError(f"the entry point {entry.name} ({entry.value}) did not add the command {entry.name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orderdesk", description="Customer order portal and staff admin.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    server.add_commands(sub)
    orders.add_commands(sub)
    staff.add_commands(sub)
    imports.add_commands(sub)
    api_keys.add_commands(sub)
    add_plugin_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        get_settings()
    except ConfigError as exc:
        print(f"orderdesk: {exc}", file=sys.stderr)
        return 2
    return args.func(args)
