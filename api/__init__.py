"""Machine-facing endpoints: carrier webhooks and the push API (/api/v1).
Exempt from CSRF, never from signatures."""

from litestar import Router
from litestar.exceptions import HTTPException

from api.carriers import kuaidi100_push
from api.common import api_error_handler, signed_request_guard
from api.openapi import api_schema
from api.push import PUSH_HANDLERS

push_api_router = Router(
    path="/api/v1",
    guards=[signed_request_guard],
    route_handlers=[*PUSH_HANDLERS, api_schema],
    exception_handlers={HTTPException: api_error_handler},
    include_in_schema=False,
    # Signed by key, not by a browser session: nothing for a cross-site request to borrow.
    opt={"exclude_from_csrf": True},
)

api_router = Router(path="/", route_handlers=[kuaidi100_push, push_api_router])

__all__ = ["api_router"]
