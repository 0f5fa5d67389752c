"""`orderdesk simulate-carrier` and `orderdesk simulate-wechat`: the development servers' commands.

Core's CLI does not import this package: pyproject.toml declares these functions under the
`orderdesk.commands` entry points and core adds every command registered there (run
`pip install -e .` again after changing that list). The servers themselves (and Litestar,
uvicorn) are imported when a command runs, not for every `orderdesk` call."""

from __future__ import annotations

import argparse
import os
import sys

from core.config import get_settings


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


def add_simulate_carrier(sub: argparse._SubParsersAction) -> None:
    sim = sub.add_parser("simulate-carrier", help="run the simulated carrier aggregator",
                         description="A Kuaidi100-format carrier simulator for the demo and the tests.")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8100)
    sim.set_defaults(func=_cmd_simulate_carrier)


def add_simulate_wechat(sub: argparse._SubParsersAction) -> None:
    wsim = sub.add_parser("simulate-wechat", help="run the simulated WeChat official-account API",
                          description="WeChat OAuth (snsapi_base), access token and template messages, "
                                      "with failures on demand, for the demo and the tests.")
    wsim.add_argument("--host", default="127.0.0.1")
    wsim.add_argument("--port", type=int, default=8025)
    wsim.add_argument("--openid", help="the openid of the simulated WeChat user (default: fixed per app id)")
    wsim.add_argument("--fail", action="append", metavar="ENDPOINT=N",
                      help="the first N calls of authorize, oauth, token or send fail (repeatable; also WECHAT_SIM_FAIL=send=3,token=1)")
    wsim.set_defaults(func=_cmd_simulate_wechat)
