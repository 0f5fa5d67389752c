"""Machine-facing endpoints (carrier webhooks; later the channel push API).
Exempt from CSRF, never from signatures."""

from litestar import Router

from api.carriers import kuaidi100_push

api_router = Router(path="/", route_handlers=[kuaidi100_push])

__all__ = ["api_router"]
